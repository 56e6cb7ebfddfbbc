/**
 * The credentials of a client request, as etcd reads them (auth/store.go AuthInfoFromCtx,
 * AuthInfoFromTLS): the token from the `token` metadata (gRPC/Connect header), else from
 * `authorization` (what etcd's JSON gateway forwards from the `Authorization` header); without a
 * token, the common name of the client's verified TLS certificate, when the listener put one in
 * the request's context values under CLIENT_CERT_CN_KEY (server/tls/client-identity.ts).
 */
import type { HandlerContext } from "@connectrpc/connect";
import { CLIENT_CERT_CN_KEY } from "../tls/client-identity.ts";
import type { AuthInfo } from "../auth/store.ts";
import type { EtcdServerApi } from "../node/types.ts";

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
  const commonName = ctx.values.get(CLIENT_CERT_CN_KEY);
  // The common case, no credentials at all, needs no promise.
  if (token === undefined && commonName === undefined) return undefined;
  return api.auth.authInfo(token, commonName);
}
