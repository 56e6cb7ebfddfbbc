/**
 * `etcdserverpb.Maintenance/Snapshot` over gRPC (HTTP/2, `application/grpc`), served directly on
 * the HTTP/2 stream instead of through Connect's router, as Watch and LeaseKeepAlive are
 * (./grpc-raw-call.ts). A snapshot is thousands of 32 KiB messages; Connect marshals each one
 * (`toBinary` into a growing buffer, then a second copy into its envelope) and awaits its write
 * through a chain of async iterables, which cost more CPU than building the snapshot itself.
 * Here the chunks of a member's snapshot arrive already framed, back to back in reused buffers
 * (server/snapshot/chunk-sink.ts), and go out several per write without a copy; other chunks
 * are framed once, straight into the buffer that is written.
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
import { frameHeadSize, writeFrame } from "../snapshot/response-frame.ts";
import { maintenanceService } from "./maintenance.ts";
import type { LeaderRequirement } from "./require-leader.ts";

/** The gRPC path of etcd's Maintenance.Snapshot method. */
export const SNAPSHOT_PATH = "/etcdserverpb.Maintenance/Snapshot";

/** Bytes gathered before a write (four 32 KiB chunks with their frames). */
const WRITE_BYTES = 120 * 1024;

/** One chunk as the implementation yields it (server/snapshot/chunk-sink.ts SnapshotChunk). */
type Chunk = { remainingBytes?: bigint; blob?: Uint8Array; frame?: Uint8Array; release?: () => void };

/**
 * Gathers chunks into writes of about {@link WRITE_BYTES} on `call`. Chunks that come framed,
 * back to back in one buffer, go out as one view of that buffer (no copy) and are released once
 * the write is handled; others are framed here into a fresh buffer.
 */
class FrameWriter {
  /** Framed chunks of one buffer awaiting their write, and the range they cover. */
  private framed: Chunk[] = [];
  private spanStart = 0;
  private spanEnd = 0;
  /** Chunks without a frame awaiting their write, and the bytes of their frames. */
  private plain: Chunk[] = [];
  private plainBytes = 0;

  constructor(private readonly call: RawGrpcCall) {}

  /** Queues `c`, writing what was gathered when it is a write's worth or cannot be joined with `c`. */
  async add(c: Chunk): Promise<void> {
    const f = c.frame;
    if (f) {
      const joins = this.framed.length > 0 && f.buffer === this.framed[0]!.frame!.buffer && f.byteOffset === this.spanEnd;
      if (!joins || this.plain.length > 0) await this.flush();
      if (this.framed.length === 0) this.spanStart = f.byteOffset;
      this.framed.push(c);
      this.spanEnd = f.byteOffset + f.length;
      if (this.spanEnd - this.spanStart >= WRITE_BYTES) await this.flush();
      return;
    }
    if (this.framed.length > 0) await this.flush();
    this.plain.push(c);
    this.plainBytes += frameSize(c);
    if (this.plainBytes >= WRITE_BYTES) await this.flush();
  }

  /** Writes what is queued; resolves once the stream can take more. */
  async flush(): Promise<void> {
    let ok = true;
    if (this.framed.length > 0) {
      const chunks = this.framed;
      this.framed = [];
      const first = chunks[0]!.frame!;
      const bytes = new Uint8Array(first.buffer, this.spanStart, this.spanEnd - this.spanStart);
      ok = this.call.writeFrames(bytes, chunks.length, bytes.length, () => {
        for (const c of chunks) c.release?.();
      });
    } else if (this.plain.length > 0) {
      const out = new Uint8Array(this.plainBytes);
      let pos = 0;
      for (const c of this.plain) pos = writeFrame(out, pos, Number(c.remainingBytes ?? 0n), c.blob ?? new Uint8Array(0));
      ok = this.call.writeFrames(out, this.plain.length, out.length);
      this.plain = [];
      this.plainBytes = 0;
    }
    if (!ok) await this.call.drained();
  }
}

/** Bytes of `c`'s gRPC frame. */
function frameSize(c: Chunk): number {
  const blob = c.blob?.length ?? 0;
  return frameHeadSize(Number(c.remainingBytes ?? 0n), blob) + blob;
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
    const out = new FrameWriter(call);
    for await (const c of maintenanceService(api).snapshot!(create(SnapshotRequestSchema), ctx) as AsyncIterable<Chunk>) {
      if (call.closed) return;
      await out.add(c);
    }
    await out.flush();
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
