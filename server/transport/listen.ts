/**
 * The peer listeners: one cleartext TCP port per `--listen-peer-urls` URL serving the peer service
 * (proto/etcdts/peer.proto, Connect over HTTP/2 prior knowledge) and the plain HTTP endpoints
 * (server/transport/http-app.ts, HTTP/1.1 or HTTP/2) on the same port. A connection whose first bytes
 * are the HTTP/2 client preface goes to a `node:http2` server, any other to a `node:http` server.
 */
import { getRequestListener } from "@hono/node-server";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ConnectRouter } from "@connectrpc/connect";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Hono } from "hono";
import type { Logger } from "../log.ts";
import { bindCleartextPort, startsWithHttp2Preface } from "../http/cleartext-port.ts";

/** Largest request message the peer service reads, bytes (rafthttp's stream decoder limit, 512 MiB). */
export const PEER_READ_MAX_BYTES = 512 * 1024 * 1024;

/** Idle time before TCP keep-alive probes on an accepted peer connection, ms (Go's listener default is 15 s). */
const TCP_KEEPALIVE_MS = 15_000;

/** Bound peer listeners. */
export interface PeerListeners {
  /** `http://<ip>:<port>` per listen URL, in order. */
  urls: string[];
  /** Stops accepting, sends GOAWAY and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Binds every URL of `listenUrls` and serves `routes` (Connect) with `app` (hono) for other paths.
 * Rejects with `listen tcp <host:port>: <reason>` (after closing what it opened) when a port cannot be bound.
 */
export async function startPeerListeners(
  listenUrls: string[],
  routes: (router: ConnectRouter) => void,
  app: Hono,
  log: Logger,
): Promise<PeerListeners> {
  const handler = connectNodeAdapter({
    routes,
    readMaxBytes: PEER_READ_MAX_BYTES,
    fallback: getRequestListener(app.fetch, { overrideGlobalObjects: false }) as never,
  });
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", (e) => log.debug("peer HTTP/2 session error", { error: e }));
  });
  const servers: net.Server[] = [];
  const urls: string[] = [];

  const close = async () => {
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of sessions) s.close();
    for (const s of sockets) s.destroy();
    await closed;
  };

  try {
    for (const url of listenUrls) {
      const { server, url: bound } = await bindCleartextPort(url, (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {}); // resets are normal; the HTTP servers see the close
        socket.setKeepAlive(true, TCP_KEEPALIVE_MS); // finds senders that vanished without closing
        void startsWithHttp2Preface(socket).then((isH2) => (isH2 ? h2 : h1).emit("connection", socket));
      });
      server.on("error", (e) => log.error("peer listener error", { address: url, error: e }));
      servers.push(server);
      urls.push(bound);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls, close };
}
