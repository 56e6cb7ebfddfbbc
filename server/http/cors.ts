/**
 * CORS on the client port as etcd 3.4's accessController (embed/serve.go) does it for every HTTP
 * answer (gateway, `/health`, `/version`, 404s), with or without an `Origin` header: when
 * `--cors` allows every origin (`*`, the default, or empty) the three headers of etcd's
 * `addCORSHeader` go out with `Access-Control-Allow-Origin: *`; otherwise they go out only when
 * the request's `Origin` is in the list, naming that origin. Every `OPTIONS` request is then
 * answered `200` with an empty body, whatever its path or origin.
 *
 * Our Connect and gRPC-Web services are for browsers, so their answers also allow and expose the
 * headers those protocols use (Connect's recommended lists from @connectrpc/connect).
 * Plain gRPC (`application/grpc`, not `-web`) bypasses all this, as etcd's cmux hands it to the
 * gRPC server before the HTTP handler.
 */
import { cors } from "@connectrpc/connect";

/** etcd's `Access-Control-Allow-Methods`. */
export const CORS_ALLOWED_METHODS = "POST, GET, OPTIONS, PUT, DELETE";
/** etcd's `Access-Control-Allow-Headers`. */
export const CORS_ALLOWED_HEADERS = "accept, content-type, authorization";
/** Allowed request headers on RPC paths: etcd's, Connect's list and etcd's gRPC `token` metadata. */
const RPC_ALLOWED_HEADERS = [
  ...new Set([...CORS_ALLOWED_HEADERS.split(", "), ...cors.allowedHeaders.map((h) => h.toLowerCase()), "token"]),
].join(", ");
/** Response headers a browser may read on RPC paths (grpc-status, grpc-message, ...). */
const RPC_EXPOSED_HEADERS = cors.exposedHeaders.join(", ");

/** The `--cors` setting: origins as etcd stores them (`http://host:port`), `*`, or none. */
export type CorsOrigins = readonly string[];

/**
 * etcd's AccessController.OriginAllowed: true when the list is empty or holds `*`, or holds `origin`
 * exactly (etcd compares the header with the URL as written in `--cors`).
 */
export function originAllowed(origins: CorsOrigins, origin: string): boolean {
  return origins.length === 0 || origins.includes("*") || origins.includes(origin);
}

/** Minimal response surface shared by node:http and node:http2 responses. */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/**
 * Sets the CORS headers etcd would set for a request with `origin` (undefined: no `Origin`
 * header); `rpc` adds the Connect/gRPC-Web headers. Returns whether any were set.
 */
export function setCorsHeaders(res: HeaderSink, origins: CorsOrigins, origin: string | undefined, rpc: boolean): boolean {
  let allowOrigin: string;
  if (originAllowed(origins, "*")) allowOrigin = "*";
  else if (origin !== undefined && originAllowed(origins, origin)) allowOrigin = origin;
  else return false;
  res.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS);
  res.setHeader("access-control-allow-origin", allowOrigin);
  res.setHeader("access-control-allow-headers", rpc ? RPC_ALLOWED_HEADERS : CORS_ALLOWED_HEADERS);
  if (rpc) res.setHeader("access-control-expose-headers", RPC_EXPOSED_HEADERS);
  return true;
}
