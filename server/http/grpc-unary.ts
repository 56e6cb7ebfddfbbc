/**
 * A lean path for the calls etcd clients make most: unary gRPC over HTTP/2
 * (`content-type: application/grpc`, no request compression).
 *
 * It runs the very same Connect service implementations (server/api) that the Connect router
 * serves, but skips the router's protocol-generic machinery (web Headers, async-iterable body
 * pipelines, per-call AbortControllers), which costs several times more CPU per call than
 * the request itself. The request message is decoded once, straight from the body; the answer
 * is one DATA frame and a `grpc-status` trailer, or a trailers-only status on error, as
 * grpc-go answers. Everything else (gRPC-Web, Connect, streams, compressed or JSON bodies)
 * stays on the Connect router. Wire format: gRPC over HTTP/2
 * (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 *
 * Errors as grpc-go/etcd send them: ResourceExhausted `grpc: received message larger than max
 * (N vs. M)`, Internal `grpc: error unmarshalling request: ...`, Unknown `unexpected EOF` /
 * `EOF`; a ConnectError thrown by the implementation keeps its code and message; any other
 * error is logged and answered as Unknown with its text.
 */
import { clientIdentityContextValues } from "../tls/client-identity.ts";
import { fromBinary, toBinary, create, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Logger } from "../log.ts";
import { grpcPercentEncode } from "./grpc-status.ts";
import type { GrpcMethodStats, GrpcStats } from "../metrics/grpc-stats.ts";
import { tooLargeError, unmarshalError } from "./request-guard.ts";
import { encodeRangeResponse } from "../api/range-wire.ts";
import { writeBuffers, type PooledBuffer } from "./write-buffer-pool.ts";
import { DeleteRangeRequestSchema, type RangeResponse, RangeResponseSchema, PutRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { decodeDeleteRangeRequest, decodePutRequest } from "../api/request-wire.ts";
import { ListenerCancellation, type CancellableContext } from "../api/call-cancellation.ts";
import type { Cancellation } from "../node/types.ts";

/** One unary method and the implementation that answers it. */
export interface UnaryRoute {
  service: DescService;
  method: DescMethod & { methodKind: "unary" };
  impl: (req: unknown, ctx: HandlerContext) => unknown;
}

/**
 * Wraps `router` so that every `router.service(desc, impl)` call also records the service's
 * unary methods in `routes`, keyed by request path (`/etcdserverpb.KV/Range`).
 */
export function recordUnaryRoutes(router: ConnectRouter, routes: Map<string, UnaryRoute>): ConnectRouter {
  return new Proxy(router, {
    get(target, prop, receiver) {
      if (prop !== "service") return Reflect.get(target, prop, receiver);
      return (service: DescService, impl: Record<string, unknown>, options?: unknown) => {
        for (const method of service.methods) {
          const fn = impl[method.localName];
          if (method.methodKind === "unary" && typeof fn === "function") {
            routes.set(`/${service.typeName}/${method.name}`, {
              service,
              method: method as UnaryRoute["method"],
              impl: fn.bind(impl) as UnaryRoute["impl"],
            });
          }
        }
        return target.service(service, impl as never, options as never);
      };
    },
  });
}

/** True when the request can take the lean path: HTTP/2 gRPC with protobuf and no compression. */
export function isPlainUnaryGrpc(headers: IncomingHttpHeaders): boolean {
  const ct = headers["content-type"];
  if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
  const enc = headers["grpc-encoding"];
  return enc === undefined || enc === "identity";
}

/**
 * The request metadata of a call that carries none that handlers read: one Headers shared by all
 * such calls (most calls; the KV handlers and the require-leader check read it on every call), so
 * it refuses changes.
 */
class NoMetadata extends Headers {
  override set = readOnly;
  override append = readOnly;
  override delete = readOnly;
}
function readOnly(): never {
  throw new Error("the request metadata is read-only");
}
const NO_METADATA: Headers = new NoMetadata();

/** The request metadata handlers may read (etcd's auth `token`, `hasleader`), without converting every header. */
function authHeaders(headers: IncomingHttpHeaders): Headers {
  const token = headers.token ?? headers.authorization;
  const hasLeader = headers.hasleader;
  if (typeof token !== "string" && typeof hasLeader !== "string") return NO_METADATA;
  const h = new Headers();
  if (typeof token === "string") h.set("token", token);
  if (typeof hasLeader === "string") h.set("hasleader", hasLeader);
  return h;
}

/**
 * The handler context of a lean call. The service implementations (server/api) read its request
 * metadata (the auth token), its abort signal and its context values (the client's TLS
 * identity); those and the response metadata are built only when read. Connect's
 * createHandlerContext links two more AbortControllers (deadline, request) and copies four
 * Headers on every call, whether read or not.
 *
 * The context is also the call's Cancellation (server/node/types.ts), which the KV handlers pass
 * to the member (server/api/call-cancellation.ts): `aborted` once the stream closed before the
 * answer (the client reset it or went away), and the member's listener called then. An
 * AbortSignal is built only when `signal` is read (the other services).
 */
class LeanHandlerContext extends ListenerCancellation implements HandlerContext, CancellableContext {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  /** Set when the answer (or error status) goes out: a close after it cancels nothing. */
  answered = false;
  private header: Headers | undefined;
  private contextValues: ContextValues | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly route: UnaryRoute,
    readonly url: string,
    private readonly headers: IncomingHttpHeaders,
    private readonly stream: ServerHttp2Stream,
  ) {
    super();
  }

  get cancellation(): Cancellation {
    return this;
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }
  /** The stream closed: unless the call was answered, it is canceled and the listeners run (once). */
  streamClosed(): void {
    if (this.answered || this.aborted) return;
    this.controller?.abort();
    this.abort();
  }

  get service(): DescService {
    return this.route.service;
  }
  get method(): DescMethod {
    return this.route.method;
  }
  /** No deadline: etcd ignores `grpc-timeout` (its own request timeout applies). */
  timeoutMs(): number | undefined {
    return undefined;
  }
  get requestHeader(): Headers {
    return (this.header ??= authHeaders(this.headers));
  }
  get values(): ContextValues {
    return (this.contextValues ??= clientIdentityContextValues({ stream: this.stream }));
  }
  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }
}

/**
 * The response headers of every answered call: grpc-go's minimal set. No `date` (node:http2's
 * `sendDate: false`): a new value every second would take a fresh entry in the client's HPACK
 * table, where grpc-go's fixed headers are sent as table indexes after the first answer.
 */
const OK_HEADERS = { ":status": 200, "content-type": "application/grpc" } as const;
const OK_TRAILERS = { "grpc-status": "0" } as const;
const RESPOND_OPTIONS = { waitForTrailers: true, sendDate: false } as const;
const STATUS_ONLY_OPTIONS = { endStream: true, sendDate: false } as const;

/** Sends a trailers-only gRPC status (HTTP 200, status in the headers), as grpc-go does on errors. */
function answerStatus(stream: ServerHttp2Stream, code: Code, message: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": grpcPercentEncode(message) }, STATUS_ONLY_OPTIONS);
}


/** Sends one response message and `grpc-status: 0`; returns the message's size, bytes. */
function answerMessage(stream: ServerHttp2Stream, output: DescMessage, message: unknown): number {
  if (stream.destroyed || stream.closed) return 0;
  const typed = (message as { $typeName?: string }).$typeName ? (message as never) : create(output, message as never);
  // Large ranges: a direct encoder (server/api/range-wire.ts), byte-identical to toBinary, that
  // writes the message after the 5-byte prefix of its gRPC frame, in a buffer of the write
  // buffer pool, given back once the write is done.
  const isRange = output.typeName === RangeResponseSchema.typeName;
  let frame: Uint8Array;
  let pooled: PooledBuffer | undefined;
  if (isRange) frame = encodeRangeResponse(typed as RangeResponse, 5, (size) => (pooled = writeBuffers.take(size)).bytes);
  else {
    const payload = toBinary(output, typed);
    frame = Buffer.allocUnsafe(5 + payload.length);
    frame.set(payload, 5);
  }
  const length = frame.length - 5;
  frame[0] = 0;
  frame[1] = length >>> 24;
  frame[2] = (length >>> 16) & 255;
  frame[3] = (length >>> 8) & 255;
  frame[4] = length & 255;
  stream.respond(OK_HEADERS, RESPOND_OPTIONS);
  // `on`, not `once`: each event fires once per stream, and once() wraps every listener anew.
  stream.on("wantTrailers", () => stream.sendTrailers(OK_TRAILERS));
  if (pooled) {
    const done = pooled;
    stream.end(frame, (err?: Error | null) => err || done.release());
  } else stream.end(frame);
  return length;
}

/**
 * Reads the single enveloped request message; resolves with the whole body (5-byte prefix, then
 * the message, checked to be all there); rejects with grpc-go's errors (see module doc).
 */
function readMessage(stream: ServerHttp2Stream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    stream.on("data", (chunk: Buffer) => {
      if (failed) return;
      chunks.push(chunk);
      total += chunk.length;
      if (total >= 5) {
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const length = head.readUInt32BE(1);
        if (length > limit) {
          failed = true;
          reject(tooLargeError(length, limit));
        }
      }
    });
    stream.on("end", () => {
      if (failed) return;
      if (total === 0) return reject(new ConnectError("EOF", Code.Unknown));
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (body.length < 5 || body.length < 5 + body.readUInt32BE(1)) {
        return reject(new ConnectError("unexpected EOF", Code.Unknown));
      }
      if ((body[0]! & 1) !== 0) {
        return reject(new ConnectError("grpc: compressed flag set with identity or empty encoding", Code.Internal));
      }
      resolve(body);
    });
    stream.on("error", (e) => {
      failed = true;
      reject(e);
    });
  });
}

/**
 * Serves one unary gRPC call on `route`, straight on the HTTP/2 stream (no compatibility
 * request/response objects). Never throws: every failure becomes a gRPC status
 * (non-ConnectErrors are logged). `limit` is the largest request message, bytes. `stats`
 * (the method's `/metrics` record) counts the call, its code, time and message bytes.
 */
export function serveUnaryGrpc(
  route: UnaryRoute,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  limit: number,
  log: Logger,
  stats?: GrpcMethodStats,
  totals?: GrpcStats,
): void {
  const startMs = stats ? performance.now() : 0;
  if (stats) stats.started++;
  const path = headers[":path"] ?? "";
  // Aborts when the client resets the stream or goes away before the answer: the member then
  // drops the request early (server/node/etcd-node.ts propose).
  const ctx = new LeanHandlerContext(route, path, headers, stream);
  stream.on("close", () => ctx.streamClosed());
  readMessage(stream, limit)
    .then((body) => {
      const length = body.readUInt32BE(1);
      if (totals) totals.receivedBytes += length;
      if (stats) stats.msgReceived++;
      const schema = route.method.input;
      let input: unknown =
        schema === PutRequestSchema ? decodePutRequest(body, 5, 5 + length) : schema === DeleteRangeRequestSchema ? decodeDeleteRangeRequest(body, 5, 5 + length) : undefined;
      try {
        // A plain Uint8Array view (not a Buffer): the decoded bytes fields are then Uint8Arrays
        // whose slice() copies, as the store's cache expects (server/mvcc/store.ts writePut).
        input ??= fromBinary(route.method.input, new Uint8Array(body.buffer, body.byteOffset + 5, length));
      } catch (e) {
        throw unmarshalError(e);
      }
      return route.impl(input, ctx);
    })
    .then(
      (output) => {
        ctx.answered = true;
        const sent = answerMessage(stream, route.method.output, output);
        if (totals) totals.sentBytes += sent;
        if (stats) stats.msgSent++;
        stats?.finish(0, performance.now() - startMs);
      },
      (e: unknown) => {
        ctx.answered = true;
        const code = e instanceof ConnectError ? e.code : Code.Unknown;
        stats?.finish(code, performance.now() - startMs);
        if (e instanceof ConnectError) return answerStatus(stream, e.code, e.rawMessage);
        const message = e instanceof Error ? e.message : String(e);
        log.error("unexpected error in RPC handler", { method: path, error: message });
        answerStatus(stream, Code.Unknown, message);
      },
    )
    .catch((e: unknown) => log.warn("failed to write RPC response", { method: path, error: String(e) }));
}
