/**
 * The HTTP/2 session manager our etcdctl gives connect-node for `https://` endpoints under Deno.
 *
 * Why: with TLS 1.3 a server that refuses the client certificate (mTLS without `--cert`) sends
 * its alert only after the client finished its handshake. Deno's node:http2 then emits `connect`
 * on a session that is already destroyed (the `error` follows a moment later). connect-node's
 * Http2SessionManager resolves its connecting state with that session, its `ready()` throws
 * "expected open session, but it is destroyed" inside a promise callback, the state stays
 * "connecting" with a resolved promise, and `gotoReady()` loops `await this.s.conn` forever: a
 * microtask spin that starves every timer, so not even `--command-timeout` ends the command.
 * Bun emits the error without `connect` and is not affected.
 *
 * The fix: before connect-node's first request on an endpoint, one probe connection proves the
 * server accepts us, i.e. the server's SETTINGS frame arrives (sent only after the server
 * accepted the handshake). A refused handshake rejects the request with the TLS error (Unavailable
 * with the node:tls error as cause, which the client's retry loop treats as a failed dial, as
 * clientv3 does, until `context deadline exceeded`), a silent server with a timeout; only then
 * does connect-node open its own session.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Http2SessionManager, type Http2SessionOptions } from "@connectrpc/connect-node";
import type * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";

/** The session manager interface of connect-node's `createGrpcTransport({ sessionManager })`. */
type SessionManager = NonNullable<Parameters<typeof import("@connectrpc/connect-node").createGrpcTransport>[0]["sessionManager"]>;

/** True under Deno, whose node:http2 needs {@link HandshakeCheckedSessionManager} for TLS. */
export const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** What an HTTP/2 client sends first: the connection preface and an empty SETTINGS frame (RFC 9113 §3.4). */
const CLIENT_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
]);

/**
 * Opens a TLS connection to `url` with `options` (a node:tls connection, not a node:http2
 * session: Deno crashes with a double free when a second http2 session follows a closed one),
 * sends the HTTP/2 client preface and resolves once the server sent its first bytes (its SETTINGS,
 * sent only after it accepted the handshake, client certificate included); then closes it.
 * @throws ConnectError Unavailable: the connection's error (as `cause`, e.g. node:tls
 *   `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`), `connection closed before the server's SETTINGS`, or
 *   `no SETTINGS from the server within <timeoutMs> ms`
 */
export function probeHttp2Session(url: string, options: http2.SecureClientSessionOptions, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const host = hostname.replace(/^\[(.*)\]$/, "$1");
    let settled = false;
    const socket = tls.connect({
      ...options,
      host,
      port: Number(port || 443),
      ...(net.isIP(host) ? {} : { servername: options.servername ?? host }),
      ALPNProtocols: ["h2"],
    });
    const settle = (error?: ConnectError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new ConnectError(`no SETTINGS from the server within ${timeoutMs} ms`, Code.Unavailable)), timeoutMs);
    socket.once("secureConnect", () => socket.write(CLIENT_PREFACE));
    socket.once("data", () => settle());
    socket.on("error", (e: Error) => settle(new ConnectError(e.message, Code.Unavailable, undefined, undefined, e)));
    socket.once("close", () => settle(new ConnectError("connection closed before the server's SETTINGS", Code.Unavailable)));
  });
}

/**
 * connect-node's Http2SessionManager behind a {@link probeHttp2Session} of its endpoint: the
 * first request waits for the probe, and a failed probe fails the request (the next request
 * probes again). Keep-alive pings, idle timeouts and reconnects are the wrapped manager's.
 */
export class HandshakeCheckedSessionManager implements SessionManager {
  private readonly inner: Http2SessionManager;
  private checked: Promise<void> | undefined;

  /**
   * @param url `https://host:port`
   * @param ping connect-node's keep-alive settings (`pingIntervalMs`, `pingTimeoutMs`)
   * @param options node:http2 TLS options (CA, certificate, key, ALPN)
   * @param probeTimeoutMs how long the probe waits for the server's SETTINGS, ms
   */
  constructor(
    private readonly url: string,
    ping: Http2SessionOptions,
    private readonly options: http2.SecureClientSessionOptions,
    private readonly probeTimeoutMs: number,
  ) {
    this.inner = new Http2SessionManager(url, ping, options);
  }

  get authority(): string {
    return this.inner.authority;
  }

  async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, "signal">,
  ): Promise<http2.ClientHttp2Stream> {
    this.checked ??= probeHttp2Session(this.url, this.options, this.probeTimeoutMs).catch((e: unknown) => {
      this.checked = undefined;
      throw e;
    });
    await this.checked;
    return this.inner.request(method, path, headers, options);
  }

  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void {
    this.inner.notifyResponseByteRead(stream);
  }
}
