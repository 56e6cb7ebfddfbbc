/**
 * The JSON gateway's Cluster and Maintenance routes, as etcd 3.4's grpc-gateway maps them
 * (etcdserverpb/rpc.proto `google.api.http` options): `POST /v3/cluster/member/add|remove|
 * update|list|promote` and `POST /v3/maintenance/alarm|status|defragment|hash|
 * transfer-leadership` (`/v3/maintenance/hash` is Hash: HashKV has no reachable route in etcd
 * 3.4). Each answers exactly what the gRPC service answers (server/api/cluster.ts,
 * maintenance.ts), errors included: an RPC this server does not implement yet answers
 * grpc-gateway's 501 with `unknown method <M> for service etcdserverpb.Maintenance`. The
 * streaming `/v3/maintenance/snapshot` is in server/http/gateway-stream.ts.
 */
import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import {
  AlarmRequestSchema,
  AlarmResponseSchema,
  DefragmentRequestSchema,
  DefragmentResponseSchema,
  HashRequestSchema,
  HashResponseSchema,
  MemberAddRequestSchema,
  MemberAddResponseSchema,
  MemberListRequestSchema,
  MemberListResponseSchema,
  MemberPromoteRequestSchema,
  MemberPromoteResponseSchema,
  MemberRemoveRequestSchema,
  MemberRemoveResponseSchema,
  MemberUpdateRequestSchema,
  MemberUpdateResponseSchema,
  MoveLeaderRequestSchema,
  MoveLeaderResponseSchema,
  StatusRequestSchema,
  StatusResponseSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { clusterService } from "../api/cluster.ts";
import { maintenanceService } from "../api/maintenance.ts";
import type { EtcdServerApi } from "../node/types.ts";
import type { UnaryRoute } from "./gateway.ts";

/**
 * A handler of a Connect service implementation (server/api) as the gateway calls it: of the
 * handler context only `signal` is given (the handlers use nothing else).
 */
export type Handler = (req: Message, ctx: { signal: AbortSignal }) => unknown;

/** A route over `handler` whose answer (a message or its init shape) is completed into `output`. */
export function serviceRoute(input: DescMessage, output: DescMessage, handler: Handler): UnaryRoute {
  return { input, output, call: async (req, signal) => create(output, (await handler(req, { signal })) as never) as Message };
}

/** The Cluster and Maintenance routes, by path after `/v3/`. */
export function adminGatewayRoutes(api: EtcdServerApi): [string, UnaryRoute][] {
  const cluster = clusterService(api) as unknown as Record<string, Handler>;
  const maintenance = maintenanceService(api) as unknown as Record<string, Handler>;
  return [
    ["cluster/member/add", serviceRoute(MemberAddRequestSchema, MemberAddResponseSchema, cluster.memberAdd!)],
    ["cluster/member/remove", serviceRoute(MemberRemoveRequestSchema, MemberRemoveResponseSchema, cluster.memberRemove!)],
    ["cluster/member/update", serviceRoute(MemberUpdateRequestSchema, MemberUpdateResponseSchema, cluster.memberUpdate!)],
    ["cluster/member/list", serviceRoute(MemberListRequestSchema, MemberListResponseSchema, cluster.memberList!)],
    ["cluster/member/promote", serviceRoute(MemberPromoteRequestSchema, MemberPromoteResponseSchema, cluster.memberPromote!)],
    ["maintenance/alarm", serviceRoute(AlarmRequestSchema, AlarmResponseSchema, maintenance.alarm!)],
    ["maintenance/status", serviceRoute(StatusRequestSchema, StatusResponseSchema, maintenance.status!)],
    ["maintenance/defragment", serviceRoute(DefragmentRequestSchema, DefragmentResponseSchema, maintenance.defragment!)],
    ["maintenance/hash", serviceRoute(HashRequestSchema, HashResponseSchema, maintenance.hash!)],
    ["maintenance/transfer-leadership", serviceRoute(MoveLeaderRequestSchema, MoveLeaderResponseSchema, maintenance.moveLeader!)],
  ];
}
