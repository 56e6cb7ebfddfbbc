/**
 * Registers the etcd v3 services this server implements on a Connect router. Services not
 * registered here get grpc-go's `unknown service etcdserverpb.X` from the listener
 * (server/http/rpc-handler.ts).
 */
import type { ConnectRouter } from "@connectrpc/connect";
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

/**
 * Adds KV, Lease, Cluster, Maintenance, Auth, Watch, the browser watch (etcdts.v1.Watch), Lock,
 * Election and grpc.health.v1.Health over `api` to `router`.
 */
export function registerEtcdServices(router: ConnectRouter, api: EtcdServerApi, opts: KvOptions): void {
  router.service(KV, kvService(api, opts));
  router.service(Lease, leaseService(api));
  router.service(Cluster, clusterService(api));
  router.service(Maintenance, maintenanceService(api));
  router.service(Auth, authService(api));
  router.service(Watch, watchService(api));
  router.service(BrowserWatch, browserWatchService(api));
  router.service(Lock, lockService(api, waitersOf(api)));
  router.service(Election, electionService(api, waitersOf(api)));
  router.service(Health, healthService(api));
}
