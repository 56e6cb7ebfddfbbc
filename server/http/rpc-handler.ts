/**
 * The request handler shared by the HTTP/1.1 and HTTP/2 servers of a client port: Connect's
 * router (gRPC, gRPC-Web, Connect) with the hono app as fallback.
 *
 * It is connect-node's `connectNodeAdapter` plus what etcd's clients need from the server side,
 * built from connect-node's exported pieces (`universalRequestFromNodeRequest`,
 * `universalResponseToNodeResponse`):
 * - request bodies pass {@link guardRequestBody} first (grpc-go's size/unmarshal errors);
 * - gRPC calls to an unknown service or method get grpc-go's Unimplemented status
 *   (`unknown service X`, `unknown method M for service X`) instead of an HTTP 404;
 * - etcd's access controller on everything but plain gRPC: `--host-whitelist` on cleartext
 *   connections (421, server/http/host-whitelist.ts), CORS headers on every answer and `OPTIONS`
 *   answered 200 (server/http/cors.ts);
 * - the verified client certificate's CN in the context values (CLIENT_CERT_CN_KEY, server/tls/client-identity.ts);
 * - handler failures are written to our JSON log instead of console.error.
 */
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2Server, Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Logger } from "../log.ts";
import { clientIdentityContextValues } from "../tls/client-identity.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import { countGrpcCalls } from "../metrics/grpc-interceptor.ts";
import { setCorsHeaders } from "./cors.ts";
import { allowsEveryHost, isHostWhitelisted, refuseHost, requestHostname } from "./host-whitelist.ts";
import { isSecureRequest } from "./secure-connection.ts";
import { bodyFormat, guardRequestBody } from "./request-guard.ts";
import { answerGrpcStatusOnly } from "./grpc-status.ts";
import { isPlainUnaryGrpc, recordUnaryRoutes, serveUnaryGrpc, type UnaryRoute } from "./grpc-unary.ts";

/** A request as either server hands it over. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A response of either server. */
export type NodeResponse = ServerResponse | Http2ServerResponse;
/** A request listener usable by both `http.createServer` and `http2.createServer`. */
export type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;

/**
 * The client port's handler: a request listener for both servers, plus the HTTP/2 server's
 * stream-level fast path for plain unary gRPC (see {@link installUnaryStreamPath}).
 */
export type RpcHandler = NodeHandler & {
  /** Serves `stream` when it is a plain unary gRPC call of a known method (returns true); otherwise false. */
  serveUnaryStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean;
};

/**
 * Puts `handler.serveUnaryStream` in front of `h2`'s compatibility layer: plain unary gRPC calls
 * (what etcd clients send most) are answered on the raw stream, every other stream goes on to
 * the `stream` listeners `h2` had (node:http2's `onServerStream`, which builds the
 * request/response objects and emits `request`). Call once, after `http2.createServer`.
 */
export function installUnaryStreamPath(h2: Http2Server, handler: RpcHandler): void {
  const compat = h2.listeners("stream") as ((...args: unknown[]) => void)[];
  h2.removeAllListeners("stream");
  h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
    if (handler.serveUnaryStream(stream, headers)) return;
    for (const listener of compat) listener.call(h2, stream, headers, ...rest);
  });
}

/** Options of {@link createRpcHandler}. */
export interface RpcHandlerOptions {
  /** Registers the services (server/api). */
  routes: (router: ConnectRouter) => void;
  /** Serves everything that is not an RPC path (the hono app). */
  fallback: NodeHandler;
  /** Largest request message in bytes (etcd: `--max-request-bytes` + 512 KiB). */
  readMaxBytes: number;
  log: Logger;
  /** Serves a request itself before the router (returns true) or passes it on (false): the raw gRPC Watch. */
  intercept?: (req: NodeRequest, res: NodeResponse) => boolean;
  /** Counters of `/metrics` (grpc_server_*, etcd_network_client_grpc_*): every call is counted when given. */
  grpcStats?: GrpcStats;
  /** `--cors` origins (default `*`: all). */
  cors?: readonly string[];
  /** `--host-whitelist` host names (default `*`: all). */
  hostWhitelist?: readonly string[];
}

/**
 * Logs any non-ConnectError a service implementation throws and answers it like etcd's
 * togRPCError does for errors it does not know: code Unknown with the error's text.
 */
function unexpectedErrors(log: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (e) {
      if (e instanceof ConnectError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      log.error("unexpected error in RPC handler", { method: `${req.service.typeName}/${req.method.name}`, error: message, stack: e instanceof Error ? e.stack : undefined });
      throw new ConnectError(message, Code.Unknown);
    }
  };
}

/** grpc-go's message for a path no service handles. */
function unknownPathMessage(path: string, services: ReadonlySet<string>): string {
  const m = /^\/([^/]*)\/([^/]*)$/.exec(path);
  if (!m) return `malformed method name: ${JSON.stringify(path)}`;
  return services.has(m[1]!) ? `unknown method ${m[2]} for service ${m[1]}` : `unknown service ${m[1]}`;
}

/** Whether a content type is gRPC proper (`application/grpc[+proto|;...]`), not gRPC-Web. */
function isPlainGrpc(contentType: string): boolean {
  return /^application\/grpc(?![-\w])/i.test(contentType);
}

/** Creates the shared request handler; see the module doc. */
export function createRpcHandler(opts: RpcHandlerOptions): RpcHandler {
  const router = createConnectRouter({
    readMaxBytes: opts.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    interceptors: opts.grpcStats ? [countGrpcCalls(opts.grpcStats), unexpectedErrors(opts.log)] : [unexpectedErrors(opts.log)],
  });
  const unary = new Map<string, UnaryRoute>();
  opts.routes(recordUnaryRoutes(router, unary));
  const stats = opts.grpcStats;
  for (const h of router.handlers) stats?.addService(h.service);
  const paths = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  const services = new Set(router.handlers.map((h) => h.service.typeName));
  const corsOrigins = opts.cors ?? ["*"];
  const hostWhitelist = opts.hostWhitelist ?? ["*"];
  // Every host allowed (the default): no Host header to parse per request.
  const anyHost = allowsEveryHost(hostWhitelist);

  const serveUnaryStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean => {
    const path = headers[":path"];
    const route = path === undefined ? undefined : unary.get(path);
    if (!route || !isPlainUnaryGrpc(headers)) return false;
    serveUnaryGrpc(route, stream, headers, opts.readMaxBytes, opts.log, stats?.forPath(path!), stats);
    return true;
  };

  const handle: NodeHandler = (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    if (opts.intercept?.(req, res)) return;
    const handler = paths.get(path);
    const contentType = req.headers["content-type"] ?? "";
    if (!isPlainGrpc(contentType)) {
      // etcd's accessController: host check on cleartext, CORS headers, OPTIONS answered.
      if (!anyHost && !isSecureRequest(req)) {
        const host = requestHostname(String(req.headers[":authority"] ?? req.headers.host ?? ""));
        if (!isHostWhitelisted(hostWhitelist, host)) {
          opts.log.warn("rejecting HTTP request to prevent DNS rebinding attacks", { host });
          return refuseHost(res, host);
        }
      }
      setCorsHeaders(res, corsOrigins, req.headers.origin, handler !== undefined);
      if (req.method === "OPTIONS") {
        res.setHeader("content-length", "0");
        (res as ServerResponse).writeHead(200);
        res.end();
        return;
      }
    }
    if (!handler) {
      if (req.method === "POST" && /^application\/grpc/i.test(contentType)) {
        answerGrpcStatusOnly(res, Code.Unimplemented, unknownPathMessage(path, services), contentType);
      } else {
        opts.fallback(req, res);
      }
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res as never, undefined, clientIdentityContextValues(req));
    const format = bodyFormat(contentType);
    if (format && uReq.body !== null && typeof uReq.body === "object" && Symbol.asyncIterator in uReq.body) {
      const length = req.headers["content-length"];
      uReq.body = guardRequestBody(uReq.body as AsyncIterable<Uint8Array>, {
        format,
        limit: opts.readMaxBytes,
        input: handler.method.input,
        singleRequest: handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming",
        contentLength: length === undefined ? undefined : Number(length),
      });
    }
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        opts.log.warn("failed to write RPC response", { method: path, error: String(reason) });
      });
  };
  return Object.assign(handle, { serveUnaryStream });
}
