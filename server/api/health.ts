/**
 * grpc.health.v1.Health as etcd 3.4 serves it: grpc-go's health server
 * (google.golang.org/grpc/health/server.go) with serving status SERVING for the service "", which
 * stands for all of etcd's services (etcdserver/api/v3rpc/grpc.go). etcd never changes that
 * status, so Watch sends it once and then stays open until the client goes away. As every etcd
 * RPC, it passes etcd's interceptors first: on a learner, Unavailable `etcdserver: rpc not
 * supported for learner`.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";

/** Serving status per service name, as etcd sets it (the status map of grpc-go's health server). */
const STATUS: ReadonlyMap<string, ServingStatus> = new Map([["", ServingStatus.SERVING]]);

/**
 * The Health service over `api`. Check: the service's status, or NotFound `unknown service`.
 * Watch: the status (SERVICE_UNKNOWN for an unknown service), then nothing until the client ends
 * the call.
 */
export function healthService(api: EtcdServerApi): ServiceImpl<typeof Health> {
  return {
    check(req) {
      api.rejectIfLearner?.();
      const status = STATUS.get(req.service);
      if (status === undefined) throw new ConnectError("unknown service", Code.NotFound);
      return { status };
    },
    async *watch(req, ctx) {
      api.rejectIfLearner?.();
      yield { status: STATUS.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN };
      if (ctx.signal.aborted) return;
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  };
}
