/**
 * What the client port (server/http/listener.ts) and the peer port (server/transport/listen.ts)
 * share: binding a cleartext TCP port from a listen URL as Go's listener does (`localhost` binds
 * 127.0.0.1; failures read `listen tcp <host:port>: bind: address already in use`), and telling
 * an HTTP/2 prior-knowledge connection from an HTTP/1.x one by its first bytes (etcd's cmux).
 * Source: RFC 9113 §3.4 (connection preface), etcd `pkg/transport/listener.go`.
 */
import * as net from "node:net";

/** The HTTP/2 client connection preface. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * How long a new connection may take to show what it speaks (its first bytes) before it is
 * closed, ms: grpc-go's default `ConnectionTimeout` (server.go, 120 s), which bounds the handshake
 * and the HTTP/2 preface of every connection. Without it a client that connects and sends nothing
 * or half a preface (a slowloris) holds a socket forever.
 */
export const FIRST_BYTES_TIMEOUT_MS = 120_000;

/**
 * Destroys `socket` after `timeoutMs` unless `decided()` is called first; returns `decided`.
 * The sniffing promises of a destroyed socket never settle, so no server ever gets it.
 */
function deadline(socket: net.Socket, timeoutMs: number): () => void {
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const clear = () => clearTimeout(timer);
  socket.once("close", clear);
  return () => {
    clear();
    socket.off("close", clear);
  };
}

/**
 * Waits for the socket's first bytes; resolves true when they are the HTTP/2 preface. The bytes
 * are put back (unshift) for whichever server takes the socket. A socket that has not sent the
 * whole preface or something else within `timeoutMs` (default {@link FIRST_BYTES_TIMEOUT_MS}) is
 * destroyed and the promise never settles.
 */
export function startsWithHttp2Preface(socket: net.Socket, timeoutMs = FIRST_BYTES_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const decided = deadline(socket, timeoutMs);
    const chunks: Buffer[] = [];
    const onReadable = () => {
      for (let c: Buffer | null; (c = socket.read() as Buffer | null) !== null; ) chunks.push(c);
      const head = Buffer.concat(chunks);
      const n = Math.min(head.length, H2_PREFACE.length);
      const matches = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (matches && n < H2_PREFACE.length && !socket.readableEnded) return;
      decided();
      socket.off("readable", onReadable);
      socket.unshift(head);
      resolve(matches && n === H2_PREFACE.length);
    };
    socket.on("readable", onReadable);
  });
}

/** First byte of a TLS connection: a handshake record (RFC 8446 §5.1, ContentType handshake). */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Waits for the socket's first byte; resolves true when it starts a TLS handshake record (what a
 * port serving both `http://` and `https://` needs to tell them apart, as etcd's cmux does). The
 * byte is put back (unshift); a socket that ends first resolves false. A socket silent for
 * `timeoutMs` (default {@link FIRST_BYTES_TIMEOUT_MS}) is destroyed and the promise never settles.
 */
export function startsWithTlsHandshake(socket: net.Socket, timeoutMs = FIRST_BYTES_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const decided = deadline(socket, timeoutMs);
    const onReadable = () => {
      const head = socket.read() as Buffer | null;
      if (head === null && !socket.readableEnded) return;
      decided();
      socket.off("readable", onReadable);
      if (head !== null) socket.unshift(head);
      resolve(head !== null && head[0] === TLS_HANDSHAKE_RECORD);
    };
    socket.on("readable", onReadable);
  });
}

/** Go's text for a failed listen, e.g. `listen tcp 127.0.0.1:2379: bind: address already in use`. */
function listenError(address: string, e: NodeJS.ErrnoException): Error {
  const reason: Record<string, string> = {
    EADDRINUSE: "bind: address already in use",
    EACCES: "bind: permission denied",
    EADDRNOTAVAIL: "bind: cannot assign requested address",
  };
  return new Error(`listen tcp ${address}: ${reason[e.code ?? ""] ?? e.message}`);
}

/** A bound port: the server and its `http://<ip>:<port>` (the real port when the URL said 0). */
export interface BoundPort {
  server: net.Server;
  url: string;
}

/**
 * Binds `http://host:port` (host `localhost` → 127.0.0.1, port 0 → any free port) and hands every
 * accepted socket to `onSocket`. Rejects with Go's listen error text; rejects other schemes.
 */
export async function bindCleartextPort(url: string, onSocket: (socket: net.Socket) => void): Promise<BoundPort> {
  if (new URL(url).protocol !== "http:") throw new Error(`unsupported scheme in ${url} (only http)`);
  const server = net.createServer(onSocket);
  return { server, url: await listenOnUrl(server, url) };
}

/**
 * Makes `server` (a net.Server or tls.Server) listen on the host and port of `url` (host
 * `localhost` → 127.0.0.1, port 0 → any free port) and resolves with `<scheme>://<ip>:<port>`
 * (the real port). Rejects with Go's listen error text.
 */
export async function listenOnUrl(server: net.Server, url: string): Promise<string> {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const host = hostname === "localhost" ? "127.0.0.1" : hostname;
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(listenError(`${host.includes(":") ? `[${host}]` : host}:${port}`, e)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return `${u.protocol}//${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
}
