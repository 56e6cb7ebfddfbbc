/**
 * The client listeners: one cleartext TCP port per `--listen-client-urls` URL, serving gRPC
 * (HTTP/2 prior knowledge, what etcd clients speak), gRPC-Web and Connect (HTTP/1.1 or
 * HTTP/2) and plain HTTP (`/health`, `/version`) on the same port, like etcd's cmux.
 *
 * Each accepted socket is sniffed: if its first bytes are the HTTP/2 client preface
 * (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) it goes to a `node:http2` server, otherwise to a
 * `node:http` server (`server.emit("connection", socket)`); both use one request handler
 * (server/http/rpc-handler.ts). HTTP/2 connections pass through AuthorityRepairStream so
 * that grpc-go's `:authority: http://host:port` is accepted as Go's server accepts it. The
 * HTTP/2 server answers PING frames itself (Go clients send keepalive pings).
 */
import { getRequestListener } from "@hono/node-server";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { EtcdConfig } from "../config.ts";
import { registerEtcdServices } from "../api/routes.ts";
import { rawGrpcWatch } from "../api/watch-grpc.ts";
import type { Logger } from "../log.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { createHttpApp } from "./app.ts";
import { AuthorityRepairStream } from "./authority-repair.ts";
import { createRpcHandler, type NodeHandler } from "./rpc-handler.ts";
import { bindCleartextPort, startsWithHttp2Preface } from "./cleartext-port.ts";

/** grpc-go's allowance on top of `--max-request-bytes` for the receive limit (etcd's grpcOverheadBytes), bytes. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** How long close() lets open connections finish before destroying them, ms. */
const CLOSE_GRACE_MS = 1000;

/** Running client listeners. */
export interface ClientListeners {
  /** One `http://<bound ip>:<bound port>` per listen URL (the real port when the URL said 0). */
  urls: string[];
  /** Stops accepting, sends GOAWAY / closes idle connections, destroys the rest after 1 s. */
  close(): Promise<void>;
}

/** The settings the listeners use; EtcdConfig satisfies it. */
export type ListenerConfig = Pick<EtcdConfig, "listenClientUrls" | "maxRequestBytes" | "maxTxnOps">;

/**
 * Binds every `cfg.listenClientUrls` URL (host `localhost` binds 127.0.0.1, as Go's listener
 * does) and serves the etcd API over `api`. Requests larger than `cfg.maxRequestBytes` +
 * 512 KiB are refused with grpc-go's ResourceExhausted error. Rejects with
 * `listen tcp <host:port>: bind: address already in use` (and closes what it opened) when a
 * port cannot be bound.
 */
export async function startClientListeners(cfg: ListenerConfig, api: EtcdServerApi, log: Logger): Promise<ClientListeners> {
  const app = createHttpApp(api, { maxTxnOps: cfg.maxTxnOps });
  const handler = createRpcHandler({
    routes: (router) => registerEtcdServices(router, api, { maxTxnOps: cfg.maxTxnOps }),
    fallback: getRequestListener(app.fetch, { overrideGlobalObjects: false }) as NodeHandler,
    readMaxBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    log,
    intercept: rawGrpcWatch(api, cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES),
  });
  const h1 = http.createServer(handler);
  const h2 = http2.createServer({}, handler);
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
    for (const url of cfg.listenClientUrls) {
      const { server, url: bound } = await bindCleartextPort(url, (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {}); // resets are normal; the HTTP servers see the close
        void startsWithHttp2Preface(socket).then((isH2) =>
          isH2 ? h2.emit("connection", new AuthorityRepairStream(socket)) : h1.emit("connection", socket),
        );
      });
      server.on("error", (e) => log.error("client listener error", { address: url, error: e }));
      servers.push(server);
      urls.push(bound);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { urls, close: closeAll };
}
