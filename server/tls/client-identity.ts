/**
 * Who is on the other end of a client connection: the common name of a client certificate that
 * the TLS handshake verified against `--trusted-ca-file`. etcd uses it as the user name of
 * requests without a token when `--client-cert-auth` is on (etcdserver/v3_server.go
 * AuthInfoFromCtx: a token wins; then auth/store.go AuthInfoFromTLS: the CN of the first verified
 * chain's leaf; never for requests proxied by the JSON gateway).
 *
 * The TLS port records the identity on the accepted socket (recordClientIdentity); objects that
 * wrap the socket for an HTTP server (server/http/authority-repair.ts) are linked to it
 * (linkClientIdentity). A request finds it through its socket: `req.socket` for HTTP/1.1,
 * `req.stream.session.socket` for HTTP/2. Connect handlers read it from their context values
 * (CLIENT_CERT_CN_KEY, set by server/http/rpc-handler.ts and grpc-unary.ts).
 */
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type * as tls from "node:tls";

/** The verified identity of one connection. */
export interface ClientIdentity {
  /** Subject CN of the verified client certificate ("" when the certificate has no CN). */
  commonName: string;
}

/** Stored as a property so that it is found through the proxies node:http2 puts around sockets. */
const IDENTITY = Symbol.for("etcd-ts.tls.client-identity");

type Tagged = { [IDENTITY]?: ClientIdentity };

/**
 * Records the identity of a connection that completed its handshake: only a certificate the
 * handshake verified (socket.authorized) counts. Returns it, or undefined without one.
 */
export function recordClientIdentity(socket: tls.TLSSocket): ClientIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate(false);
  if (!cert?.raw) return undefined;
  const cn = cert.subject?.CN;
  const identity = { commonName: Array.isArray(cn) ? (cn[0] ?? "") : (cn ?? "") };
  (socket as Tagged)[IDENTITY] = identity;
  return identity;
}

/** Makes `wrapper` (a stream standing in for `socket` in an HTTP server) carry `socket`'s identity. */
export function linkClientIdentity(wrapper: object, socket: object): void {
  const identity = (socket as Tagged)[IDENTITY];
  if (identity) (wrapper as Tagged)[IDENTITY] = identity;
}

/** The part of node:http / node:http2 requests this module reads. */
export interface RequestWithSocket {
  socket?: unknown;
  stream?: { session?: { socket?: unknown } };
}

function identityOf(target: unknown): ClientIdentity | undefined {
  if (target === null || typeof target !== "object") return undefined;
  try {
    return (target as Tagged)[IDENTITY];
  } catch {
    return undefined; // a socket proxy of a closed HTTP/2 session
  }
}

/** The identity of the connection `req` came on, or undefined (cleartext, or no verified client certificate). */
export function clientIdentity(req: RequestWithSocket): ClientIdentity | undefined {
  return identityOf(req.socket) ?? identityOf(req.stream?.session?.socket);
}

/**
 * The common name of the verified client certificate of the connection `req` came on
 * (an `IncomingMessage` or `Http2ServerRequest`); undefined on cleartext connections and TLS
 * connections without a verified client certificate. Whether the CN is used as a user name
 * (`--client-cert-auth`) is the caller's decision, as in etcd.
 */
export function clientCertCommonName(req: RequestWithSocket): string | undefined {
  return clientIdentity(req)?.commonName;
}

/** Connect context key under which RPC handlers find clientCertCommonName of their request (undefined when none). */
export const CLIENT_CERT_CN_KEY = createContextKey<string | undefined>(undefined, { description: "verified client certificate CN" });

/** Context values carrying CLIENT_CERT_CN_KEY for `req` (for universalRequestFromNodeRequest / createHandlerContext). */
export function clientIdentityContextValues(req: RequestWithSocket): ContextValues {
  const values = createContextValues();
  const cn = clientCertCommonName(req);
  if (cn !== undefined) values.set(CLIENT_CERT_CN_KEY, cn);
  return values;
}
