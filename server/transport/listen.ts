/**
 * The peer listeners: one TCP port per `--listen-peer-urls` URL serving the peer service
 * (proto/etcdts/peer.proto over HTTP/2: the Raft stream by hand, ./stream-serve.ts, snapshots
 * through Connect) and the plain HTTP endpoints
 * (server/transport/http-app.ts, HTTP/1.1 or HTTP/2) on the same port. `https://` URLs serve TLS
 * with the peer TlsInfo, checking client certificates as etcd's peer listener does
 * (server/tls/tls-port.ts with the SAN check; refusals logged as `rejected connection`). A
 * connection that negotiated ALPN `h2` or whose first bytes are the HTTP/2 client preface goes to
 * a `node:http2` server, any other to a `node:http` server.
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
import { bindTlsPort } from "../tls/tls-port.ts";
import { isTlsInfoEmpty, type TlsInfo } from "../tls/tls-info.ts";

/** Largest request message the peer service reads, bytes (rafthttp's stream decoder limit, 512 MiB). */
export const PEER_READ_MAX_BYTES = 512 * 1024 * 1024;

/** Idle time before TCP keep-alive probes on an accepted peer connection, ms (Go's listener default is 15 s). */
const TCP_KEEPALIVE_MS = 15_000;

/** Bound peer listeners. */
export interface PeerListeners {
  /** `http(s)://<ip>:<port>` per listen URL, in order. */
  urls: string[];
  /** Stops accepting, sends GOAWAY and destroys every connection. */
  close(): Promise<void>;
}

/** A call served on the HTTP/2 stream itself, ahead of Connect's router (./stream-serve.ts). */
export interface RawPeerCall {
  /** Whether it takes `req`. */
  matches(req: http2.Http2ServerRequest): boolean;
  serve(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void;
}

/**
 * Binds every URL of `listenUrls` and serves `raw` on HTTP/2, `routes` (Connect) and `app` (hono) for other paths;
 * `https://` URLs with `tls`. Rejects (after closing what it opened) with `listen tcp <host:port>:
 * <reason>` when a port cannot be bound, with `cannot listen on TLS for <host:port>: KeyFile and
 * CertFile are not presented` for an `https://` URL without certificate, or with a TLS file error.
 */
export async function startPeerListeners(
  listenUrls: string[],
  routes: (router: ConnectRouter) => void,
  app: Hono,
  raw: RawPeerCall,
  log: Logger,
  tls?: TlsInfo,
): Promise<PeerListeners> {
  const handler = connectNodeAdapter({
    routes,
    readMaxBytes: PEER_READ_MAX_BYTES,
    fallback: getRequestListener(app.fetch, { overrideGlobalObjects: false }) as never,
  });
  const h1 = http.createServer(handler);
  const h2 = http2.createServer((req, res) => (raw.matches(req) ? raw.serve(req, res) : handler(req, res)));
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
    const track = (socket: net.Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {}); // resets are normal; the HTTP servers see the close
    };
    const serve = (socket: net.Socket, alpn: string | false = false) => {
      track(socket);
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS); // finds senders that vanished without closing
      if (alpn === "h2") return void h2.emit("connection", socket);
      void startsWithHttp2Preface(socket).then((isH2) => (isH2 ? h2 : h1).emit("connection", socket));
    };
    for (const url of listenUrls) {
      let bound: { server: net.Server; url: string };
      if (url.startsWith("https://")) {
        if (!tls || isTlsInfoEmpty(tls)) {
          throw new Error(`cannot listen on TLS for ${new URL(url).host}: KeyFile and CertFile are not presented`);
        }
        bound = await bindTlsPort(url, {
          info: tls,
          checkSan: true,
          onSocket: (socket) => serve(socket, socket.alpnProtocol ?? false),
          onRejected: (fields) => log.warn("rejected connection", { ...fields }),
          onReloadFailed: (error) => log.warn("failed to reload peer TLS files; keeping the previous ones", { error }),
          onTcpSocket: track,
        });
      } else {
        bound = await bindCleartextPort(url, (socket) => serve(socket));
      }
      bound.server.on("error", (e) => log.error("peer listener error", { address: url, error: e }));
      servers.push(bound.server);
      urls.push(bound.url);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls, close };
}
