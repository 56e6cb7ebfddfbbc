/**
 * Registers the etcd v3 services this server implements on a Connect router. Services not
 * registered here get grpc-go's `unknown service etcdserverpb.X` from the listener
 * (server/http/rpc-handler.ts).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Watch as BrowserWatch } from "../../proto/gen/etcdts/watch_pb.ts";
import { Election } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { Health } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import { waitersOf } from "../concurrency/waiters.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { authService } from "./auth.ts";
import { clusterService } from "./cluster.ts";
import { electionService } from "./election.ts";
import { healthService } from "./health.ts";
import { kvService, type KvOptions } from "./kv.ts";
import { leaseService } from "./lease.ts";
import { lockService } from "./lock.ts";
import { maintenanceService } from "./maintenance.ts";
import { browserWatchService, watchService } from "./watch.ts";
import { LeaderRequirement, requireLeaderService } from "./require-leader.ts";

/** What the services need besides the member: etcd's `--max-txn-ops` and the require-leader check. */
export interface RouteOptions extends KvOptions {
  /** Checks calls with `hasleader: true` (server/api/require-leader.ts); default: polls `api` every 1000 ms. */
  leader?: LeaderRequirement;
}

/**
 * Adds KV, Lease, Cluster, Maintenance, Auth, Watch, the browser watch (etcdts.v1.Watch), Lock,
 * Election and grpc.health.v1.Health over `api` to `router`. Every etcd service honours the
 * require-leader metadata (etcd's interceptors).
 */
export function registerEtcdServices(router: ConnectRouter, api: EtcdServerApi, opts: RouteOptions): void {
  const leader = opts.leader ?? new LeaderRequirement(leaderKnown(api), 1000);
  const add = <S extends DescService>(service: S, impl: ServiceImpl<S>) => router.service(service, requireLeaderService(service, impl, leader));
  add(KV, kvService(api, opts));
  add(Lease, leaseService(api));
  add(Cluster, clusterService(api));
  add(Maintenance, maintenanceService(api));
  add(Auth, authService(api));
  add(Watch, watchService(api));
  add(BrowserWatch, browserWatchService(api));
  add(Lock, lockService(api, waitersOf(api)));
  add(Election, electionService(api, waitersOf(api)));
  add(Health, healthService(api));
}

/** Whether `api` knows a leader now: its cheap leaderId(), else its Status. */
export function leaderKnown(api: EtcdServerApi): () => boolean {
  return api.leaderId ? () => api.leaderId!() !== 0n : () => api.status().leader !== 0n;
}
