/**
 * `--listen-metrics-urls`: extra ports serving only `/metrics` and the health probes
 * (`/health`, `/livez`, `/readyz`), as etcd's metrics listeners do (embed/etcd.go serveMetrics:
 * etcdhttp.HandleMetricsHealth), so Prometheus and load balancers need not reach the client
 * port. Other paths answer Go's `404 page not found`. Only `http://` URLs are served here.
 */
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import * as http from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "../log.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { listenOnUrl } from "../http/cleartext-port.ts";
import { mountProbes, type HealthCounters } from "../http/probes.ts";
import { mountMetrics } from "./http.ts";

/** Running metrics listeners. */
export interface MetricsListeners {
  /** `http://<bound ip>:<bound port>` per URL, in order. */
  urls: string[];
  close(): Promise<void>;
}

/**
 * Binds every URL of `urls` and serves `registry` and the probes of `api` there (`/health`
 * results counted in `health`); logs etcd's
 * `serving metrics` line per URL. Rejects with `listen tcp <host:port>: bind: address already in
 * use` (after closing what it opened) or, for a non-`http://` URL, `unsupported metrics URL scheme`.
 */
export async function startMetricsListeners(
  urls: readonly string[],
  api: EtcdServerApi,
  registry: Registry,
  log: Logger,
  health?: HealthCounters,
): Promise<MetricsListeners> {
  const app = new Hono();
  mountMetrics(app, registry);
  mountProbes(app, api, health);
  app.notFound(() => new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } }));
  const handler = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const servers: http.Server[] = [];
  const bound: string[] = [];
  const close = () => Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  }))).then(() => undefined);
  try {
    for (const url of urls) {
      if (!url.startsWith("http://")) throw new Error(`unsupported metrics URL scheme (only http://): ${url}`);
      const server = http.createServer(handler);
      servers.push(server);
      bound.push(await listenOnUrl(server, url));
      log.info("serving metrics", { address: url });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls: bound, close };
}
