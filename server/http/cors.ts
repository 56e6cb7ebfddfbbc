/**
 * CORS for browsers calling the client port (Connect and gRPC-Web from web pages, `/health`).
 * etcd 3.4 allows every origin by default (`--cors '*'`); the allowed and exposed headers are
 * Connect's recommended lists (`cors` from @connectrpc/connect) plus etcd's auth headers.
 */
import { cors } from "@connectrpc/connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/** Methods a browser may use cross-origin: Connect's (POST, GET) and the rest etcd allows. */
export const CORS_ALLOWED_METHODS = [...new Set([...cors.allowedMethods, "OPTIONS", "PUT", "DELETE"])];
/** Request headers a browser may send: Connect's list, `authorization` and etcd's `token`. */
export const CORS_ALLOWED_HEADERS = [...cors.allowedHeaders, "Accept", "Authorization", "Token"];
/** Response headers a browser may read: Connect's list (grpc-status, grpc-message, ...). */
export const CORS_EXPOSED_HEADERS = [...cors.exposedHeaders];
/** How long browsers may cache a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE_S = 7200;

/**
 * Adds CORS headers for a request that carries `Origin`. Answers a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) with 204 itself and returns true; otherwise returns false
 * and the request goes on to the RPC router or the HTTP app.
 */
export function handleCors(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
    res.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS.join(", "));
    res.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS.join(", "));
    res.setHeader("access-control-max-age", String(PREFLIGHT_MAX_AGE_S));
    (res as ServerResponse).writeHead(204);
    res.end();
    return true;
  }
  res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
  return false;
}
