/**
 * `--listen-metrics-urls`: extra ports serving only `/metrics` and the health probes
 * (`/health`, `/livez`, `/readyz`), as etcd's metrics listeners do (embed/etcd.go serveMetrics:
 * etcdhttp.HandleMetricsHealth), so Prometheus and load balancers need not reach the client
 * port. Other paths answer Go's `404 page not found`. `https://` URLs use the client TLS settings.
 */
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import * as http from "node:http";
import * as net from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { listenOnUrl } from "../http/cleartext-port.ts";
import { bindTlsPort } from "../tls/tls-port.ts";
import { isTlsInfoEmpty, type TlsInfo } from "../tls/tls-info.ts";
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
 * results counted in `health`); logs etcd's `serving metrics` line per URL. `https://` URLs
 * serve TLS with the client TLS settings (`--cert-file` ..., as etcd's metrics listeners use
 * ClientTLSInfo), refused handshakes logged as `rejected connection`. Rejects (after closing what
 * it opened) with `listen tcp <host:port>: bind: address already in use`, with
 * `TLS key/cert (--cert-file, --key-file) must be provided for metrics url <url> with HTTPS
 * scheme`, or with the TLS file errors of server/tls/server-options.ts.
 */
export async function startMetricsListeners(
  urls: readonly string[],
  api: EtcdServerApi,
  registry: Registry,
  log: Logger,
  health?: HealthCounters,
  tls?: TlsInfo,
): Promise<MetricsListeners> {
  const app = new Hono();
  mountMetrics(app, registry);
  mountProbes(app, api, health);
  app.notFound(() => new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } }));
  const handler = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const bound: string[] = [];
  const close = async () => {
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  try {
    for (const url of urls) {
      // One HTTP/1.1 server per URL, fed the accepted (for TLS: handshaken) sockets.
      const web = http.createServer(handler);
      if (url.startsWith("https://")) {
        if (!tls || isTlsInfoEmpty(tls)) throw new Error(`TLS key/cert (--cert-file, --key-file) must be provided for metrics url ${url} with HTTPS scheme`);
        const port = await bindTlsPort(url, {
          info: tls,
          checkSan: false,
          onTcpSocket: track,
          onSocket: (socket) => web.emit("connection", socket),
          onRejected: (fields) => log.warn("rejected connection", { ...fields }),
          onReloadFailed: (error) => log.warn("failed to reload client TLS files; keeping the previous ones", { error }),
        });
        servers.push(port.server);
        bound.push(port.url);
      } else if (url.startsWith("http://")) {
        const server = net.createServer((socket) => {
          track(socket);
          web.emit("connection", socket);
        });
        servers.push(server);
        bound.push(await listenOnUrl(server, url));
      } else {
        throw new Error(`unsupported metrics URL scheme (only http:// and https://): ${url}`);
      }
      log.info("serving metrics", { address: url });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls: bound, close };
}
