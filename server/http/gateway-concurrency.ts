/**
 * The JSON gateway's Lock and Election routes, as etcd 3.4's grpc-gateway maps them
 * (v3lock.proto, v3election.proto `google.api.http` options): `POST /v3/lock/lock|unlock` and
 * `POST /v3/election/campaign|proclaim|leader|resign`, each answering what the gRPC service
 * answers (server/api/lock.ts, election.ts), errors included (e.g. 500
 * `{"error":"election: no leader",...,"code":2}`). A Lock or Campaign waits as long as the HTTP
 * request stays open and withdraws when the client goes away. The streaming
 * `/v3/election/observe` is in server/http/gateway-stream.ts.
 */
import { Election } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { electionService } from "../api/election.ts";
import { lockService } from "../api/lock.ts";
import { waitersOf } from "../concurrency/waiters.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { serviceRoute, type Handler, type UnaryRoute } from "./gateway.ts";

/** The Lock and Election unary routes, by path after `/v3/`. */
export function concurrencyGatewayRoutes(api: EtcdServerApi): [string, UnaryRoute][] {
  const lock = lockService(api, waitersOf(api)) as unknown as Record<string, Handler>;
  const election = electionService(api, waitersOf(api)) as unknown as Record<string, Handler>;
  return [
    ["lock/lock", serviceRoute(Lock.method.lock, lock)],
    ["lock/unlock", serviceRoute(Lock.method.unlock, lock)],
    ["election/campaign", serviceRoute(Election.method.campaign, election)],
    ["election/proclaim", serviceRoute(Election.method.proclaim, election)],
    ["election/leader", serviceRoute(Election.method.leader, election)],
    ["election/resign", serviceRoute(Election.method.resign, election)],
  ];
}
