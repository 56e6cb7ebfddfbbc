/**
 * `etcdserverpb.Maintenance/Snapshot` over gRPC (HTTP/2, `application/grpc`), served directly on
 * the HTTP/2 stream instead of through Connect's router, as Watch and LeaseKeepAlive are
 * (./grpc-raw-call.ts). A snapshot is thousands of 32 KiB messages; Connect marshals each one
 * (`toBinary` into a growing buffer, then a second copy into its envelope) and awaits its write
 * through a chain of async iterables, which cost more CPU than building the snapshot itself.
 * Here each chunk is framed once, straight into the buffer that is written, and several chunks
 * go out in one write.
 *
 * Semantics are those of `maintenanceService().snapshot` (./maintenance.ts), which runs
 * unchanged: a learner refuses, with auth only root may save, errors end the stream with their
 * status. SnapshotResponse wire format: remaining_bytes = 2 (uint64), blob = 3 (bytes), no
 * header (etcd 3.4). Requests other than plain gRPC over HTTP/2 go to the Connect router.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Maintenance, SnapshotRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { CLIENT_CERT_CN_KEY, clientCertCommonName } from "../tls/client-identity.ts";
import { rawGrpcInterceptor, RawGrpcCall, type RawCallStats } from "./grpc-raw-call.ts";
import { varintSize, writeVarint } from "./header-wire.ts";
import { maintenanceService } from "./maintenance.ts";
import type { LeaderRequirement } from "./require-leader.ts";

/** The gRPC path of etcd's Maintenance.Snapshot method. */
export const SNAPSHOT_PATH = "/etcdserverpb.Maintenance/Snapshot";

/** Bytes gathered before a write (four 32 KiB chunks with their frames, below 128 KiB). */
const WRITE_BYTES = 120 * 1024;

/** One chunk as the implementation yields it. */
type Chunk = { remainingBytes?: bigint; blob?: Uint8Array };

/** Bytes of `c`'s gRPC frame: 5-byte prefix, then remaining_bytes and blob as protobuf fields. */
function frameSize(c: Chunk): number {
  const remaining = Number(c.remainingBytes ?? 0n);
  const blob = c.blob?.length ?? 0;
  return 5 + (remaining > 0 ? 1 + varintSize(remaining) : 0) + (blob > 0 ? 1 + varintSize(blob) + blob : 0);
}

/** Writes `c`'s frame ({@link frameSize} bytes) at `pos` of `out`; returns the position after it. */
function writeFrame(out: Uint8Array, pos: number, c: Chunk): number {
  const remaining = Number(c.remainingBytes ?? 0n);
  const blob = c.blob ?? new Uint8Array(0);
  const length = frameSize(c) - 5;
  out[pos] = 0;
  out[pos + 1] = length >>> 24;
  out[pos + 2] = (length >>> 16) & 0xff;
  out[pos + 3] = (length >>> 8) & 0xff;
  out[pos + 4] = length & 0xff;
  pos += 5;
  if (remaining > 0) {
    out[pos++] = (2 << 3) | 0;
    pos = writeVarint(out, pos, remaining);
  }
  if (blob.length > 0) {
    out[pos++] = (3 << 3) | 2;
    pos = writeVarint(out, pos, blob.length);
    out.set(blob, pos);
    pos += blob.length;
  }
  return pos;
}

/** Runs one Snapshot call on `res`; returns the function that ends it with an error status. */
function serve(api: EtcdServerApi, req: Http2ServerRequest, res: Http2ServerResponse, stats: RawCallStats): (error: ConnectError) => void {
  const call = new RawGrpcCall(res, stats);
  const gone = new AbortController();
  res.on("close", () => gone.abort(new ConnectError("the client went away", Code.Canceled)));
  req.resume(); // the request is an empty SnapshotRequest: nothing to read
  const requestHeader = new Headers();
  for (const name of ["token", "authorization"]) {
    const v = req.headers[name];
    if (typeof v === "string") requestHeader.set(name, v);
  }
  const contextValues = createContextValues();
  const cn = clientCertCommonName(req);
  if (cn !== undefined) contextValues.set(CLIENT_CERT_CN_KEY, cn);
  const ctx = createHandlerContext({
    service: Maintenance,
    method: Maintenance.method.snapshot,
    protocolName: "grpc",
    requestMethod: "POST",
    url: SNAPSHOT_PATH,
    requestHeader,
    contextValues,
    requestSignal: gone.signal,
  });
  const run = async () => {
    let batch: Chunk[] = [];
    let bytes = 0;
    const flush = async () => {
      const out = new Uint8Array(bytes);
      let pos = 0;
      for (const c of batch) pos = writeFrame(out, pos, c);
      const count = batch.length;
      batch = [];
      bytes = 0;
      if (!call.writeFrames(out, count, out.length)) await call.drained();
    };
    for await (const c of maintenanceService(api).snapshot!(create(SnapshotRequestSchema), ctx) as AsyncIterable<Chunk>) {
      if (call.closed) return;
      batch.push(c);
      bytes += frameSize(c);
      if (bytes >= WRITE_BYTES) await flush();
    }
    if (batch.length > 0) await flush();
    call.finish();
  };
  run().catch((e) => call.finish(ConnectError.from(e)));
  return (error) => {
    gone.abort(error);
    call.finish(error);
  };
}

/**
 * Returns a request interceptor for the client listener: serves plain gRPC calls of
 * `etcdserverpb.Maintenance/Snapshot` and returns true, or returns false to let the router have
 * the request. `grpcStats`: `/metrics` counters; a call with `hasleader: true` is refused
 * (Unavailable `etcdserver: no leader`) without a leader and ended that way once the member
 * lost it for good (server/api/require-leader.ts).
 */
export function rawGrpcSnapshot(api: EtcdServerApi, grpcStats?: GrpcStats, leader?: LeaderRequirement): (req: NodeRequest, res: NodeResponse) => boolean {
  return rawGrpcInterceptor(
    SNAPSHOT_PATH,
    grpcStats,
    leader,
    () => undefined,
    (_, req, res, stats) => serve(api, req, res, stats),
  );
}
