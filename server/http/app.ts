/**
 * Plain HTTP endpoints of the client port (the Connect router's fallback): the health probes
 * (`/health`, `/livez`, `/readyz`: server/http/probes.ts), `/metrics` when a registry is given
 * (server/metrics/), and `GET /version` as etcd 3.4 serves it (etcdserver/api/etcdhttp/base.go),
 * Go's `404 page not found` elsewhere, and etcd's JSON gateway (`/v3/...`, server/http/gateway.ts).
 */
import { Hono } from "hono";
import type { Registry } from "prom-client";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../config.ts";
import type { EtcdServerApi } from "../node/types.ts";
import type { KvOptions } from "../api/kv.ts";
import { gatewayNotFound, mountGateway } from "./gateway.ts";
import { mountWatchGateway } from "./gateway-watch.ts";
import { mountStreamGateway } from "./gateway-stream.ts";
import { mountProbes, type HealthCounters } from "./probes.ts";
import { mountMetrics } from "../metrics/http.ts";
import { mountConsole } from "../console/http.ts";
import { mountV2, type V2Capable } from "./v2/mount.ts";

export { checkHealth, type Health } from "./probes.ts";

function methodNotAllowed(): Response {
  return new Response("Method Not Allowed\n", {
    status: 405,
    headers: { allow: "GET", "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/**
 * The hono app for plain HTTP: the probes of server/http/probes.ts; `GET /metrics` with
 * `opts.metrics`; `GET /version` → `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`;
 * other methods on those paths → 405; etcd's v2 API when `api` serves it (server/http/v2/); the JSON gateway under `/v3/` (`opts.maxTxnOps` as the
 * gRPC KV service; default 128); the web console at `/ui` and `/ui/*` when `opts.ui` is true
 * (server/console/http.ts; off by default here, on by default in the member: `--enable-ui`); unknown paths → 404 `404 page not found`.
 */
export function createHttpApp(api: EtcdServerApi & V2Capable, opts: KvOptions & { metrics?: Registry; health?: HealthCounters; ui?: boolean } = { maxTxnOps: 128 }): Hono {
  const app = new Hono();
  mountGateway(app, api, opts);
  mountWatchGateway(app, api);
  mountStreamGateway(app, api);
  mountProbes(app, api, opts.health);
  if (opts.metrics) mountMetrics(app, opts.metrics);
  if (opts.ui) mountConsole(app, () => api.members().flatMap((m) => m.clientURLs));
  mountV2(app, api);
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
