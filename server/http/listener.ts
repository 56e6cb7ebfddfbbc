/**
 * The client listeners: one TCP port per `--listen-client-urls` URL, serving gRPC (HTTP/2),
 * gRPC-Web and Connect (HTTP/1.1 or HTTP/2) and plain HTTP (`/health`, `/version`, the JSON
 * gateway) on the same port, like etcd's cmux. `http://` URLs are cleartext; `https://` URLs
 * serve TLS with `cfg.clientTls` (server/tls/tls-port.ts: handshake, client certificate and CRL
 * checks, refused connections logged as etcd's `rejected connection`). An `http://` and an
 * `https://` URL of the same address share one port, as in etcd: a connection whose first byte
 * starts a TLS handshake record is TLS, any other cleartext.
 *
 * Each accepted (for TLS: handshaken) socket goes to a `node:http2` server when ALPN chose `h2`
 * or its first bytes are the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`),
 * otherwise to a `node:http` server (`server.emit("connection", socket)`); both use one request
 * handler (server/http/rpc-handler.ts). With `--enable-v2` and the default `--host-whitelist`, an
 * HTTP/1.x connection first goes through the fast path of server/http/http1-fast-path.ts, which
 * answers `/v2/keys` writes itself and hands the connection to node:http at anything else. HTTP/2 connections are handed over by h2-handover.ts:
 * the socket itself, or, for grpc-go's `:authority: http://host:port` (accepted by Go's server),
 * through AuthorityRepairStream; a connection that opens with Maintenance.Snapshot through
 * InitialWindowRepairStream (window-repair.ts: otherwise Bun's server keeps the Go client's
 * stream window at 64 KiB). The HTTP/2 server answers PING frames itself (Go clients send
 * keepalive pings).
 */
import { getRequestListener } from "@hono/node-server";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type * as tls from "node:tls";
import type { Registry } from "prom-client";
import type { EtcdConfig } from "../config.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import { leaderKnown, registerEtcdServices } from "../api/routes.ts";
import { LeaderRequirement } from "../api/require-leader.ts";
import { rawGrpcStreams } from "../api/grpc-raw-streams.ts";
import { SNAPSHOT_PATH } from "../api/snapshot-grpc.ts";
import type { Logger } from "../log.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { createHttpApp } from "./app.ts";
import type { HealthCounters } from "./probes.ts";
import { FIRST_REQUEST_DECIDE_MS, handOverHttp2Connection } from "./h2-handover.ts";
import { createRpcHandler, installUnaryStreamPath, type NodeHandler } from "./rpc-handler.ts";
import { listenOnUrl, startsWithHttp2Preface, startsWithTlsHandshake } from "./cleartext-port.ts";
import { linkClientIdentity } from "../tls/client-identity.ts";
import { isSecureRequest, markSecureConnection } from "./secure-connection.ts";
import { createTlsAcceptor } from "../tls/tls-port.ts";
import { v2KeysConnectionFastPath, v2KeysFastPath } from "./v2/mount.ts";
import { serveHttp1Connection } from "./http1-fast-path.ts";
import { allowsEveryHost } from "./host-whitelist.ts";
import { isTlsInfoEmpty } from "../tls/tls-info.ts";

/** grpc-go's allowance on top of `--max-request-bytes` for the receive limit (etcd's grpcOverheadBytes), bytes. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** How long close() lets open connections finish before destroying them, ms. */
const CLOSE_GRACE_MS = 1000;

/** Running client listeners. */
export interface ClientListeners {
  /** One `http(s)://<bound ip>:<bound port>` per listen URL, in order (the real port when the URL said 0). */
  urls: string[];
  /** Stops accepting, sends GOAWAY / closes idle connections, destroys the rest after 1 s. */
  close(): Promise<void>;
}

/** `/metrics` on the client port: the registry served, and the gRPC counters the RPC handler bumps (server/metrics/). */
export interface ClientMetrics {
  registry?: Registry;
  grpcStats?: GrpcStats;
  /** Where `/health` results are counted. */
  health?: HealthCounters;
}

/**
 * Methods whose response streams far more than one flow-control window: a connection opening with
 * one of them is handed over through the window repair (h2-handover.ts, window-repair.ts).
 */
const BULK_PATHS: ReadonlySet<string> = new Set([SNAPSHOT_PATH]);

/** `hono` behind the v2 keys HTTP/1.1 fast path when the member serves v2 (server/http/v2/keys-node.ts). */
function withV2KeysFastPath(api: EtcdServerApi, hono: NodeHandler): NodeHandler {
  const fast = v2KeysFastPath(api);
  if (!fast) return hono;
  return (req, res) => {
    if ("httpVersionMajor" in req && req.httpVersionMajor === 1 && fast(req as http.IncomingMessage, res as http.ServerResponse)) return;
    hono(req, res);
  };
}

/** The settings the listeners use; EtcdConfig satisfies it. */
export type ListenerConfig = Pick<EtcdConfig, "listenClientUrls" | "electionTimeoutMs" | "maxRequestBytes" | "maxTxnOps" | "clientTls" | "cors" | "hostWhitelist" | "enableUi">;

/**
 * Binds every `cfg.listenClientUrls` URL (host `localhost` binds 127.0.0.1, as Go's listener
 * does) and serves the etcd API over `api`. Requests larger than `cfg.maxRequestBytes` +
 * 512 KiB are refused with grpc-go's ResourceExhausted error. Rejects (after closing what it
 * opened) with `listen tcp <host:port>: bind: address already in use` when a port cannot be
 * bound, with `TLS key/cert (--cert-file, --key-file) must be provided for client url <url> with
 * HTTPS scheme` for an `https://` URL without certificate, and with the TLS option errors of
 * server/tls/server-options.ts (`open <file>: no such file or directory`, bad cipher suite).
 */
export async function startClientListeners(cfg: ListenerConfig, api: EtcdServerApi, log: Logger, metrics: ClientMetrics = {}): Promise<ClientListeners> {
  const app = createHttpApp(api, { maxTxnOps: cfg.maxTxnOps, metrics: metrics.registry, health: metrics.health, ui: cfg.enableUi ?? true });
  const leader = new LeaderRequirement(leaderKnown(api), cfg.electionTimeoutMs);
  const handler = createRpcHandler({
    routes: (router) => registerEtcdServices(router, api, { maxTxnOps: cfg.maxTxnOps, leader }),
    fallback: withV2KeysFastPath(api, getRequestListener(app.fetch, { overrideGlobalObjects: false }) as NodeHandler),
    readMaxBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    log,
    intercept: rawGrpcStreams(api, cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES, metrics.grpcStats, leader),
    grpcStats: metrics.grpcStats,
    cors: cfg.cors,
    hostWhitelist: cfg.hostWhitelist,
  });
  const h1 = http.createServer(handler);
  // v2 keys writes answered off the connection when no Host check applies (it needs node:http's request).
  const keysPath = allowsEveryHost(cfg.hostWhitelist ?? ["*"]) ? v2KeysConnectionFastPath(api, cfg.cors ?? ["*"]) : undefined;
  const toH1 = (socket: net.Socket) => h1.emit("connection", socket);
  const http1 = keysPath
    ? (socket: net.Socket) =>
        serveHttp1Connection(socket, { ...keysPath, handOff: toH1, keepAliveTimeoutSecs: Math.floor(h1.keepAliveTimeout / 1000), maxHeaderSize: 0 })
    : toH1;
  const h2 = http2.createServer({}, handler);
  installUnaryStreamPath(h2, handler);
  h2.on("sessionError", (e) => log.debug("HTTP/2 session error", { error: e }));
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });

  const servers: net.Server[] = [];
  const urls: string[] = [];
  const closeAll = async () => {
    // net.Server#close calls back only once every connection is gone: stop accepting first,
    // let connections finish for a moment, destroy the rest, then wait for the callbacks.
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of sessions) s.close();
    h1.closeIdleConnections();
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const s of sockets) s.destroy();
    await closed;
  };

  try {
    const track = (socket: net.Socket) => {
      if (sockets.has(socket)) return;
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {}); // resets are normal; the HTTP servers see the close
    };
    const serve = (socket: net.Socket, alpn: string | false = false) => {
      track(socket);
      const toH2 = () =>
        handOverHttp2Connection(
          socket,
          (conn) => {
            if (conn !== socket) {
              linkClientIdentity(conn, socket);
              if (isSecureRequest({ socket })) markSecureConnection(conn);
            }
            h2.emit("connection", conn);
          },
          FIRST_REQUEST_DECIDE_MS,
          BULK_PATHS,
        );
      if (alpn === "h2") return toH2();
      void startsWithHttp2Preface(socket).then((isH2) => (isH2 ? toH2() : http1(socket)));
    };
    // etcd serves `http://` and `https://` URLs of one address on one port (cmux): group by host:port.
    const groups = new Map<string, string[]>();
    for (const url of cfg.listenClientUrls) groups.set(new URL(url).host, [...(groups.get(new URL(url).host) ?? []), url]);
    const boundAddress = new Map<string, string>();
    for (const [hostport, group] of groups) {
      const secure = group.filter((u) => u.startsWith("https://"));
      const plain = group.filter((u) => !u.startsWith("https://"));
      if (secure.length > 0 && (!cfg.clientTls || isTlsInfoEmpty(cfg.clientTls))) {
        throw new Error(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${secure[0]} with HTTPS scheme`);
      }
      const acceptor =
        secure.length > 0
          ? createTlsAcceptor({
              info: cfg.clientTls!,
              checkSan: false,
              onSocket: (socket: tls.TLSSocket) => {
                markSecureConnection(socket);
                serve(socket, socket.alpnProtocol ?? false);
              },
              onRejected: (fields) => log.warn("rejected connection", { ...fields }),
              onReloadFailed: (error) => log.warn("failed to reload client TLS files; keeping the previous ones", { error }),
            })
          : undefined;
      const server = net.createServer((socket) => {
        track(socket);
        if (!acceptor) return serve(socket);
        if (plain.length === 0) return acceptor.accept(socket);
        void startsWithTlsHandshake(socket).then((isTls) => (isTls ? acceptor.accept(socket) : serve(socket)));
      });
      server.on("error", (e) => log.error("client listener error", { address: hostport, error: e }));
      const bound = await listenOnUrl(server, group[0]!);
      servers.push(server);
      boundAddress.set(hostport, bound.replace(/^[a-z]+:\/\//, ""));
    }
    for (const url of cfg.listenClientUrls) urls.push(`${new URL(url).protocol}//${boundAddress.get(new URL(url).host)}`);
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { urls, close: closeAll };
}
