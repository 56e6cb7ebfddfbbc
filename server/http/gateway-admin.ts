/**
 * The JSON gateway's Cluster and Maintenance routes, as etcd 3.4's grpc-gateway maps them
 * (etcdserverpb/rpc.proto `google.api.http` options): `POST /v3/cluster/member/add|remove|
 * update|list|promote` and `POST /v3/maintenance/alarm|status|defragment|hash|
 * transfer-leadership` (`/v3/maintenance/hash` is Hash: HashKV has no reachable route in etcd
 * 3.4). Each answers exactly what the gRPC service answers (server/api/cluster.ts,
 * maintenance.ts), errors and root-only refusals included (the `Authorization` token reaches
 * the handlers): an RPC this server does not implement yet answers grpc-gateway's 501 with
 * `unknown method <M> for service etcdserverpb.Maintenance`. The streaming
 * `/v3/maintenance/snapshot` is in server/http/gateway-stream.ts.
 */
import { Cluster, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { clusterService } from "../api/cluster.ts";
import { maintenanceService } from "../api/maintenance.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { serviceRoute, type Handler, type UnaryRoute } from "./gateway.ts";

/** The Cluster and Maintenance routes, by path after `/v3/`. */
export function adminGatewayRoutes(api: EtcdServerApi): [string, UnaryRoute][] {
  const cluster = clusterService(api) as unknown as Record<string, Handler>;
  const maintenance = maintenanceService(api) as unknown as Record<string, Handler>;
  return [
    ["cluster/member/add", serviceRoute(Cluster.method.memberAdd, cluster)],
    ["cluster/member/remove", serviceRoute(Cluster.method.memberRemove, cluster)],
    ["cluster/member/update", serviceRoute(Cluster.method.memberUpdate, cluster)],
    ["cluster/member/list", serviceRoute(Cluster.method.memberList, cluster)],
    ["cluster/member/promote", serviceRoute(Cluster.method.memberPromote, cluster)],
    ["maintenance/alarm", serviceRoute(Maintenance.method.alarm, maintenance)],
    ["maintenance/status", serviceRoute(Maintenance.method.status, maintenance)],
    ["maintenance/defragment", serviceRoute(Maintenance.method.defragment, maintenance)],
    ["maintenance/hash", serviceRoute(Maintenance.method.hash, maintenance)],
    ["maintenance/transfer-leadership", serviceRoute(Maintenance.method.moveLeader, maintenance)],
  ];
}
