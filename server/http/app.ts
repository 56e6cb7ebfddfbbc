/**
 * Plain HTTP endpoints of the client port (the Connect router's fallback): `GET /health`
 * and `GET /version` as etcd 3.4 serves them (etcdserver/api/etcdhttp/metrics.go, base.go),
 * Go's `404 page not found` elsewhere, and etcd's JSON gateway (`/v3/...`, server/http/gateway.ts).
 */
import { create } from "@bufbuild/protobuf";
import { Hono } from "hono";
import { AlarmType, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../config.ts";
import type { EtcdServerApi } from "../node/types.ts";
import type { KvOptions } from "../api/kv.ts";
import { gatewayNotFound, mountGateway } from "./gateway.ts";
import { mountWatchGateway } from "./gateway-watch.ts";
import { mountStreamGateway } from "./gateway-stream.ts";

/** What `/health` reports, as etcd 3.4's `Health` JSON (etcdserver/api/etcdhttp/metrics.go). */
export interface Health {
  health: "true" | "false";
}

/** Time a health check's read may take before the member counts as unhealthy, ms (etcd: 1 s). */
const HEALTH_READ_TIMEOUT_MS = 1000;

const HEALTH_READ = () => create(RangeRequestSchema, { key: new TextEncoder().encode("health"), keysOnly: true, limit: 1n });

/**
 * etcd 3.4's health check: unhealthy while an alarm is raised (alarm types named in `exclude`,
 * e.g. `NOSPACE` from `/health?exclude=NOSPACE`, do not count), without a leader or when a linearizable read through the
 * member (its QGET) fails or takes over 1 s. A learner is healthy alike (its read goes through
 * `linearizableReadNotify`, which learners may use).
 */
export async function checkHealth(api: EtcdServerApi, exclude: string[] = []): Promise<Health> {
  for (const a of api.alarmList?.() ?? []) {
    if (!exclude.includes(AlarmType[a.alarm] ?? "")) return { health: "false" };
  }
  if (api.status().leader === 0n) return { health: "false" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), HEALTH_READ_TIMEOUT_MS);
    });
    const read = api.linearizableReadNotify ? api.linearizableReadNotify() : api.range(HEALTH_READ());
    await Promise.race([read, timeout]);
  } catch {
    return { health: "false" };
  } finally {
    clearTimeout(timer);
  }
  return { health: "true" };
}

function methodNotAllowed(): Response {
  return new Response("Method Not Allowed\n", {
    status: 405,
    headers: { allow: "GET", "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/**
 * The hono app for plain HTTP: `GET /health` → 200 `{"health":"true"}` or 503
 * `{"health":"false"}` plus a newline; `GET /version` → `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`;
 * other methods on those paths → 405; the JSON gateway under `/v3/` (`opts.maxTxnOps` as the
 * gRPC KV service; default 128); unknown paths → 404 `404 page not found`.
 */
export function createHttpApp(api: EtcdServerApi, opts: KvOptions = { maxTxnOps: 128 }): Hono {
  const app = new Hono();
  mountGateway(app, api, opts);
  mountWatchGateway(app, api);
  mountStreamGateway(app, api);
  app.all("/health", async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed();
    const h = await checkHealth(api, c.req.queries("exclude") ?? []);
    // Healthy: w.Write (type sniffed as text); unhealthy: http.Error (newline, nosniff).
    if (h.health === "true") return c.body(JSON.stringify(h), 200, { "content-type": "text/plain; charset=utf-8" });
    return c.body(`${JSON.stringify(h)}\n`, 503, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  });
  app.all("/version", (c) => {
    if (c.req.method !== "GET") return methodNotAllowed();
    return c.body(JSON.stringify({ etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }), 200, {
      "content-type": "application/json",
    });
  });
  app.notFound(
    (c) =>
      gatewayNotFound(c.req.path) ??
      new Response("404 page not found\n", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
      }),
  );
  return app;
}
