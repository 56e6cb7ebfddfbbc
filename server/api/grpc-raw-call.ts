/**
 * The pieces shared by the bidi streams served straight on the HTTP/2 stream instead of through
 * Connect's router (server/api/watch-grpc.ts for Watch, server/api/lease-grpc.ts for
 * LeaseKeepAlive): which requests they take, gRPC framing (flag byte 0, 4-byte big-endian length,
 * message; PROTOCOL-HTTP2.md "Length-Prefixed-Message") in both directions, and the end of a call
 * (`grpc-status` trailers, `/metrics` counting). Connect's handler awaits every message written
 * and read through async iterables, which costs more than a watch event or a keep-alive itself;
 * these paths read all messages of a DATA chunk at once and write every ready answer in one write.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import { answerGrpcStatusOnly, grpcPercentEncode } from "../http/grpc-status.ts";
import { tooLargeError } from "../http/request-guard.ts";
import type { GrpcMethodStats, GrpcStats } from "../metrics/grpc-stats.ts";
import { LeaderRequirement, REQUIRE_LEADER_KEY } from "./require-leader.ts";

/** Whether the raw path serves `req`: gRPC (proto) over HTTP/2, uncompressed, to method `path`. */
export function isRawGrpcCall(req: NodeRequest, path: string): boolean {
  if (req.httpVersionMajor !== 2 || req.method !== "POST") return false;
  if ((req.url ?? "").split("?", 1)[0] !== path) return false;
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/grpc" && type !== "application/grpc+proto") return false;
  const encoding = req.headers["grpc-encoding"];
  return encoding === undefined || encoding === "identity";
}

/** Concatenated gRPC frames of `messages`, ready for one write. */
export function grpcFrames(messages: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const m of messages) size += 5 + m.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const m of messages) {
    out[pos] = 0;
    out.writeUInt32BE(m.length, pos + 1);
    out.set(m, pos + 5);
    pos += 5 + m.length;
  }
  return out;
}

/**
 * Splits a request body into gRPC messages as its chunks arrive, synchronously. Errors (thrown
 * as ConnectError, grpc-go's texts, server/http/request-guard.ts): ResourceExhausted `grpc:
 * received message larger than max (<len> vs. <limit>)` as soon as a header announces more than
 * `limitBytes`; Internal `grpc: compressed flag set with identity or empty encoding` for a
 * compressed message (these paths only take identity encoding); Unknown `unexpected EOF` from
 * {@link end} when the body stopped inside a message.
 */
export class GrpcMessageReader {
  private pending: Buffer | undefined;

  constructor(private readonly limitBytes: number) {}

  /** The messages (payloads, without the 5-byte prefix) completed by `chunk`. */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf: Buffer = this.pending ? Buffer.concat([this.pending, chunk]) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.pending = undefined;
    const out: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos >= 5) {
      const length = buf.readUInt32BE(pos + 1);
      if (length > this.limitBytes) throw tooLargeError(length, this.limitBytes);
      if (buf.length - pos < 5 + length) break;
      if ((buf[pos]! & 1) !== 0) throw new ConnectError("grpc: compressed flag set with identity or empty encoding", Code.Internal);
      out.push(buf.subarray(pos + 5, pos + 5 + length));
      pos += 5 + length;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos)); // a copy: the chunk's memory is not kept
    return out;
  }

  /** Call at the end of the body: throws Unknown `unexpected EOF` when a message was cut off. */
  end(): void {
    if (this.pending) throw new ConnectError("unexpected EOF", Code.Unknown);
  }
}

/** `/metrics` counters of one raw-served method and of the client API's bytes (server/metrics/grpc-stats.ts). */
export interface RawCallStats {
  method?: GrpcMethodStats;
  totals?: GrpcStats;
}

/**
 * The response side of one raw-served call on `res` (headers already sent): counts the call as
 * handled with its status code when it ends (Canceled when the client left first), writes
 * answers as concatenated frames, and ends the call once with `grpc-status` trailers.
 */
export class RawGrpcCall {
  private finished = false;
  private counted = false;
  /** True once the stream closed ('close' seen: Bun's response need not say `destroyed` then). */
  private gone = false;
  private readonly startMs: number;

  constructor(
    private readonly res: Http2ServerResponse,
    private readonly stats: RawCallStats,
  ) {
    this.startMs = stats.method ? performance.now() : 0;
    res.on("close", () => {
      this.gone = true;
      this.count(Code.Canceled);
    });
  }

  /** Whether nothing more can be written (the call ended or the client left). */
  get closed(): boolean {
    return this.finished || this.gone || this.res.destroyed || this.res.writableEnded;
  }

  /**
   * Writes `messages` (encoded, `bytes` in all) in one write. Returns false when the stream's
   * buffer is full: wait for {@link drained} before writing more.
   */
  write(messages: readonly Uint8Array[], bytes: number): boolean {
    if (this.closed) return true;
    if (this.stats.totals) this.stats.totals.sentBytes += bytes;
    if (this.stats.method) this.stats.method.msgSent += messages.length;
    return this.res.write(grpcFrames(messages));
  }

  /**
   * Writes `frames`, `count` whole gRPC frames of `bytes` in all (prefixes included), in one
   * write; returns false as {@link write} does. `written` is called once `frames` is no longer
   * needed (the write's callback, or at once when the call is closed), so it may be reused.
   */
  writeFrames(frames: Uint8Array, count: number, bytes: number, written?: () => void): boolean {
    if (this.closed) {
      written?.();
      return true;
    }
    if (this.stats.totals) this.stats.totals.sentBytes += bytes - 5 * count;
    if (this.stats.method) this.stats.method.msgSent += count;
    return written ? this.res.write(frames, written) : this.res.write(frames);
  }

  /** Resolves once the stream's buffer drained or the stream closed (at once if it is closed already). */
  drained(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }

  /** Ends the call with `error`'s status, or OK; only the first call does anything. */
  finish(error?: ConnectError): void {
    if (this.closed) return;
    this.finished = true;
    this.count(error ? error.code : 0);
    const trailers: Record<string, string> = { "grpc-status": error ? String(error.code) : "0" };
    if (error) trailers["grpc-message"] = grpcPercentEncode(error.rawMessage);
    this.res.addTrailers(trailers);
    this.res.end();
  }

  private count(code: number): void {
    if (this.counted || !this.stats.method) return;
    this.counted = true;
    this.stats.method.finish(code, performance.now() - this.startMs);
  }
}

/**
 * A request interceptor serving method `path` raw (see the module doc): counts the call as
 * started in `grpcStats`, refuses a `hasleader: true` call without a leader (Unavailable
 * `etcdserver: no leader`), calls `open` (a ConnectError it throws, e.g. TooManyRequests, becomes
 * a status-only answer), sends the response headers and runs `serve`, whose returned function
 * ends the call with an error; require-leader calls are ended with it once the member lost its
 * leader for good (server/api/require-leader.ts). Returns false for requests it does not serve.
 */
export function rawGrpcInterceptor<T>(
  path: string,
  grpcStats: GrpcStats | undefined,
  leader: LeaderRequirement | undefined,
  open: (req: NodeRequest) => T,
  serve: (opened: T, req: Http2ServerRequest, res: Http2ServerResponse, stats: RawCallStats) => (error: ConnectError) => void,
): (req: NodeRequest, res: NodeResponse) => boolean {
  const stats: RawCallStats = { totals: grpcStats };
  return (req, res) => {
    if (!isRawGrpcCall(req, path)) return false;
    // Looked up on use: the RPC handler creates the method records after this interceptor.
    stats.method ??= grpcStats?.forPath(path);
    if (stats.method) stats.method.started++;
    const requireLeader = leader !== undefined && LeaderRequirement.asked(req.headers[REQUIRE_LEADER_KEY] as string | undefined);
    let opened: T;
    try {
      if (requireLeader) leader.check();
      opened = open(req);
    } catch (e) {
      const err = ConnectError.from(e);
      stats.method?.finish(err.code, 0);
      answerGrpcStatusOnly(res, err.code, err.rawMessage);
      return true;
    }
    (res as { writeHead(status: number, headers: Record<string, string>): void }).writeHead(200, { "content-type": "application/grpc" });
    const cancel = serve(opened, req as Http2ServerRequest, res as Http2ServerResponse, stats);
    if (requireLeader) {
      const untrack = leader.track(cancel);
      res.on("close", untrack);
    }
    return true;
  };
}
