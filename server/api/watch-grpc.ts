/**
 * `etcdserverpb.Watch/Watch` over gRPC (HTTP/2, `application/grpc`), served directly on the
 * HTTP/2 stream instead of through Connect's router: a watch fans every event out to many
 * watchers, one small response each, and writing them one message per write (Connect's
 * handler awaits each write) costs more than the watch work itself. Here every response that
 * is ready goes out in one write of concatenated gRPC frames, encoded with cached event and
 * header bytes (server/api/watch-wire.ts). Semantics are those of server/api/watch.ts.
 *
 * Requests other than plain gRPC over HTTP/2 (gRPC-Web, Connect, compressed gRPC) are left to
 * the Connect router, which serves the same method.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { WatchRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { guardRequestBody } from "../http/request-guard.ts";
import { answerGrpcStatusOnly, grpcPercentEncode as percentEncode } from "../http/grpc-status.ts";
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { clientCertCommonName } from "../tls/client-identity.ts";
import { handleCheckedWatchRequest, watchAuthorizer, type WatchAuthorizer } from "./watch.ts";
import type { GrpcMethodStats, GrpcStats } from "../metrics/grpc-stats.ts";
import { WatchResponseEncoder } from "./watch-wire.ts";
import { LeaderRequirement, REQUIRE_LEADER_KEY } from "./require-leader.ts";

/** The gRPC path of etcd's Watch method. */
export const WATCH_PATH = "/etcdserverpb.Watch/Watch";

/** Most bytes gathered into one write, bytes. */
const MAX_WRITE_BYTES = 256 * 1024;

/** Whether the raw path serves `req`: gRPC (proto) over HTTP/2, uncompressed, to the Watch method. */
function servesHere(req: NodeRequest): boolean {
  if (req.httpVersionMajor !== 2 || req.method !== "POST") return false;
  if ((req.url ?? "").split("?", 1)[0] !== WATCH_PATH) return false;
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/grpc" && type !== "application/grpc+proto") return false;
  const encoding = req.headers["grpc-encoding"];
  return encoding === undefined || encoding === "identity";
}

/** Concatenated gRPC frames (flag 0, 4-byte big-endian length, message) of `messages`. */
function frames(messages: Uint8Array[]): Buffer {
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

/** `/metrics` counters of the Watch method and of the client API's bytes (server/metrics/grpc-stats.ts). */
export interface WatchCallStats {
  method?: GrpcMethodStats;
  totals?: GrpcStats;
}

/**
 * Runs one Watch call on `res` until the client goes away or the request side fails. `stats`
 * counts the call as handled with its status code when it ends (Canceled when the client left).
 * Returns the function that ends the call with an error status (require-leader cancellation).
 */
function serve(
  stream: WatchStream,
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  readMaxBytes: number,
  stats: WatchCallStats,
  authorize?: WatchAuthorizer,
): (error: ConnectError) => void {
  let finished = false;
  const startMs = stats.method ? performance.now() : 0;
  let counted = false;
  const count = (code: number) => {
    if (counted || !stats.method) return;
    counted = true;
    stats.method.finish(code, performance.now() - startMs);
  };
  res.on("close", () => count(1)); // Canceled: the client went away first
  const finish = (error?: ConnectError) => {
    stream.close();
    if (finished || res.writableEnded || res.destroyed) return;
    finished = true;
    count(error ? error.code : 0);
    const trailers: Record<string, string> = { "grpc-status": error ? String(error.code) : "0" };
    if (error) trailers["grpc-message"] = percentEncode(error.rawMessage);
    res.addTrailers(trailers);
    res.end();
  };
  res.on("close", () => stream.close());
  req.on("close", () => stream.close());

  void (async () => {
    try {
      const body = guardRequestBody(req as AsyncIterable<Uint8Array>, {
        format: { enveloped: true, binary: true },
        limit: readMaxBytes,
        input: WatchRequestSchema,
        singleRequest: false,
      });
      for await (const frame of body) {
        if (stats.totals) stats.totals.receivedBytes += frame.length - 5;
        if (stats.method) stats.method.msgReceived++;
        await handleCheckedWatchRequest(stream, fromBinary(WatchRequestSchema, frame.subarray(5)), authorize);
      }
      // End of requests: responses keep flowing until the client leaves, as in etcd.
    } catch (e) {
      finish(ConnectError.from(e));
    }
  })();

  void (async () => {
    const encoder = new WatchResponseEncoder();
    for (;;) {
      const first = await stream.next();
      if (!first) break;
      const messages = [encoder.encode(first)];
      let size = messages[0]!.length;
      for (let r = size < MAX_WRITE_BYTES ? stream.tryNext() : undefined; r; r = size < MAX_WRITE_BYTES ? stream.tryNext() : undefined) {
        const m = encoder.encode(r);
        messages.push(m);
        size += m.length;
      }
      if (res.destroyed || res.writableEnded) break;
      if (stats.totals) stats.totals.sentBytes += size;
      if (stats.method) stats.method.msgSent += messages.length;
      if (!res.write(frames(messages))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    finish();
  })();
  return finish;
}

/**
 * Returns a request interceptor for the client listener: serves plain gRPC calls of
 * `etcdserverpb.Watch/Watch` and returns true, or returns false to let the router have the
 * request. `readMaxBytes`: largest request message (etcd: `--max-request-bytes` + 512 KiB).
 * `grpcStats`: `/metrics` counters; each call is counted as started and, when it ends, handled.
 */
export function rawGrpcWatch(api: EtcdServerApi, readMaxBytes: number, grpcStats?: GrpcStats, leader?: LeaderRequirement): (req: NodeRequest, res: NodeResponse) => boolean {
  const stats: WatchCallStats = { totals: grpcStats };
  return (req, res) => {
    if (!servesHere(req)) return false;
    // Looked up on use: the RPC handler creates the method records after this interceptor.
    stats.method ??= grpcStats?.forPath(WATCH_PATH);
    if (stats.method) stats.method.started++;
    const requireLeader = leader !== undefined && LeaderRequirement.asked(req.headers[REQUIRE_LEADER_KEY] as string | undefined);
    let stream: WatchStream;
    try {
      if (requireLeader) leader.check();
      stream = api.openWatchStream();
    } catch (e) {
      const err = ConnectError.from(e);
      stats.method?.finish(err.code, 0);
      answerGrpcStatusOnly(res, err.code, err.rawMessage);
      return true;
    }
    (res as { writeHead(status: number, headers: Record<string, string>): void }).writeHead(200, { "content-type": "application/grpc" });
    const headers = new Headers();
    for (const name of ["token", "authorization"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers.set(name, v);
    }
    const authorize = watchAuthorizer(api, headers, clientCertCommonName(req));
    const cancel = serve(stream, req as Http2ServerRequest, res as Http2ServerResponse, readMaxBytes, stats, authorize);
    if (requireLeader) {
      const untrack = leader.track(cancel);
      res.on("close", untrack);
    }
    return true;
  };
}
