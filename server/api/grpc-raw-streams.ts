/**
 * The client listener's interceptor for the streams served on the raw HTTP/2 path: Watch
 * (server/api/watch-grpc.ts), LeaseKeepAlive (server/api/lease-grpc.ts) and Maintenance.Snapshot
 * (server/api/snapshot-grpc.ts). Anything else goes on to the RPC router.
 */
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { rawGrpcLeaseKeepAlive } from "./lease-grpc.ts";
import type { LeaderRequirement } from "./require-leader.ts";
import { rawGrpcSnapshot } from "./snapshot-grpc.ts";
import { rawGrpcWatch } from "./watch-grpc.ts";

/**
 * Serves plain gRPC Watch, LeaseKeepAlive and Snapshot calls (returns true) or leaves the request to the
 * router (false). `readMaxBytes`: largest request message, bytes; `grpcStats`: `/metrics`
 * counters; `leader`: the require-leader check.
 */
export function rawGrpcStreams(api: EtcdServerApi, readMaxBytes: number, grpcStats?: GrpcStats, leader?: LeaderRequirement): (req: NodeRequest, res: NodeResponse) => boolean {
  const watch = rawGrpcWatch(api, readMaxBytes, grpcStats, leader);
  const keepAlive = rawGrpcLeaseKeepAlive(api, readMaxBytes, grpcStats, leader);
  const snapshot = rawGrpcSnapshot(api, grpcStats, leader);
  return (req, res) => watch(req, res) || keepAlive(req, res) || snapshot(req, res);
}
