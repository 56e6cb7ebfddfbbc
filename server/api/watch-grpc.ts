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
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { clientCertCommonName } from "../tls/client-identity.ts";
import { handleCheckedWatchRequest, watchAuthorizer, type WatchAuthorizer } from "./watch.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import { rawGrpcInterceptor, RawGrpcCall, type RawCallStats } from "./grpc-raw-call.ts";
import { WatchFrameBatch } from "./watch-wire.ts";
import { writeBuffers } from "../http/write-buffer-pool.ts";
import type { LeaderRequirement } from "./require-leader.ts";

/** The gRPC path of etcd's Watch method. */
export const WATCH_PATH = "/etcdserverpb.Watch/Watch";

/** Most bytes gathered into one write, bytes. */
const MAX_WRITE_BYTES = 256 * 1024;

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
  stats: RawCallStats,
  authorize?: WatchAuthorizer,
): (error: ConnectError) => void {
  const call = new RawGrpcCall(res, stats);
  const finish = (error?: ConnectError) => {
    stream.close();
    call.finish(error);
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
    const batch = new WatchFrameBatch();
    for (;;) {
      const first = await stream.next();
      if (!first) break;
      batch.add(first);
      for (let r = batch.bytes < MAX_WRITE_BYTES ? stream.tryNext() : undefined; r; r = batch.bytes < MAX_WRITE_BYTES ? stream.tryNext() : undefined) batch.add(r);
      if (call.closed) break;
      const count = batch.count;
      const bytes = batch.bytes;
      const out = batch.takePooled(writeBuffers);
      if (!call.writeFrames(out.bytes, count, bytes, out.release)) await call.drained();
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
  return rawGrpcInterceptor(
    WATCH_PATH,
    grpcStats,
    leader,
    () => api.openWatchStream(),
    (stream, req, res, stats) => {
      const headers = new Headers();
      for (const name of ["token", "authorization"]) {
        const v = req.headers[name];
        if (typeof v === "string") headers.set(name, v);
      }
      return serve(stream, req, res, readMaxBytes, stats, watchAuthorizer(api, headers, clientCertCommonName(req)));
    },
  );
}
