/**
 * The credentials of a client request, as etcd reads them (auth/store.go AuthInfoFromCtx,
 * AuthInfoFromTLS): the token from the `token` metadata (gRPC/Connect header), else from
 * `authorization` (what etcd's JSON gateway forwards from the `Authorization` header); without a
 * token, the common name of the client's verified TLS certificate, when the listener put one in
 * the request's context values under {@link peerCommonName}.
 */
import { createContextKey, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { TLSSocket } from "node:tls";
import type { AuthInfo } from "../auth/store.ts";
import type { EtcdServerApi } from "../node/types.ts";

/**
 * Context value: the common name of the verified client certificate of the request's
 * connection (undefined: no TLS, no client certificate, or not verified). Set by the client
 * listener with {@link verifiedCommonName}; read only when the request carries no token.
 */
export const peerCommonName = createContextKey<string | undefined>(undefined, { description: "client certificate common name" });

/**
 * The common name of the peer certificate of `socket` when it is a TLS socket whose client
 * certificate was verified against the configured CA (`socket.authorized`); else undefined.
 * A stream wrapping the socket (server/http/authority-repair.ts) is looked through via its
 * `underlyingSocket`. The request handlers call it with the request's socket.
 */
export function verifiedCommonName(socket: unknown): string | undefined {
  const wrapped = (socket as { underlyingSocket?: unknown } | null)?.underlyingSocket;
  const tls = (wrapped ?? socket) as Partial<TLSSocket> | null;
  if (!tls || typeof tls.getPeerCertificate !== "function" || tls.authorized !== true) return undefined;
  const cn = tls.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return name ? name : undefined;
}

/** The token a request carries: metadata `token`, else `authorization` (etcd's two field names). */
export function requestToken(headers: Headers): string | undefined {
  return headers.get("token") ?? headers.get("authorization") ?? undefined;
}

/**
 * Who sends the request of `ctx` (undefined: no credentials, or a member without auth).
 * Errors: InvalidAuthToken (Unauthenticated `etcdserver: invalid auth token`).
 */
export function requestAuth(
  api: EtcdServerApi,
  ctx: Pick<HandlerContext, "requestHeader" | "values"> | undefined,
): AuthInfo | undefined | Promise<AuthInfo | undefined> {
  if (!api.auth || !ctx) return undefined;
  const token = requestToken(ctx.requestHeader);
  const commonName = ctx.values.get(peerCommonName);
  // The common case, no credentials at all, needs no promise.
  if (token === undefined && commonName === undefined) return undefined;
  return api.auth.authInfo(token, commonName);
}

/** Context values carrying the common name of `socket`'s verified client certificate, if any. */
export function tlsContextValues(socket: unknown, values: ContextValues): ContextValues {
  const cn = verifiedCommonName(socket);
  if (cn !== undefined) values.set(peerCommonName, cn);
  return values;
}
