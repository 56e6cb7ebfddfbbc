/**
 * `etcdserverpb.Lease/LeaseKeepAlive` over gRPC (HTTP/2, `application/grpc`), served directly on
 * the HTTP/2 stream instead of through Connect's router, as the Watch method is
 * (server/api/watch-grpc.ts): a keep-alive is a map lookup and a new expiry on the leader, and
 * Connect's bidi pipeline (an async iterable step per message read and per message written, one
 * write per answer) cost several times that. Here every keep-alive of a DATA chunk is renewed at
 * once and their answers go out in one write, in request order.
 *
 * Semantics are those of `leaseService().leaseKeepAlive` (server/api/lease.ts, etcd 3.4's
 * v3rpc/lease.go LeaseKeepAlive): one answer per request with the header taken before renewing,
 * TTL 0 for an unknown or expired lease, any other error ends the stream with its status; when
 * the client half-closes, the answers still owed are sent and the call ends with OK. Requests
 * other than plain gRPC over HTTP/2 are left to the Connect router.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { unmarshalError } from "../http/request-guard.ts";
import type { NodeRequest, NodeResponse } from "../http/rpc-handler.ts";
import type { GrpcStats } from "../metrics/grpc-stats.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { GrpcMessageReader, rawGrpcInterceptor, RawGrpcCall, type RawCallStats } from "./grpc-raw-call.ts";
import { ResponseHeaderBytes, varintSize, writeVarint } from "./header-wire.ts";
import { renewedTtl, takeKeepAliveStreamSlot } from "./lease.ts";
import type { LeaderRequirement } from "./require-leader.ts";

/** The gRPC path of etcd's LeaseKeepAlive method. */
export const LEASE_KEEPALIVE_PATH = "/etcdserverpb.Lease/LeaseKeepAlive";

/**
 * The ID of an encoded LeaseKeepAliveRequest (field 1, int64); unknown fields are skipped as
 * protobuf requires. Throws Internal `grpc: error unmarshalling request: ...` on a broken message.
 */
export function decodeKeepAliveId(bytes: Uint8Array): bigint {
  // What every client sends: field 1 alone (tag, then a varint of up to 10 bytes).
  if (bytes.length >= 2 && bytes.length <= 11 && bytes[0] === 0x08 && bytes[bytes.length - 1]! < 0x80) {
    let lo = 0;
    let hi = 0;
    let i = 1;
    for (let shift = 0; i < bytes.length; i++, shift += 7) {
      const b = bytes[i]! & 0x7f;
      if (shift < 28) lo |= b << shift;
      else if (shift === 28) {
        lo |= b << 28;
        hi |= b >>> 4;
      } else hi |= b << (shift - 32);
      if (bytes[i]! < 0x80) break;
    }
    if (i === bytes.length - 1) return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }
  try {
    const r = new BinaryReader(bytes);
    let id = 0n;
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === 1 && wireType === WireType.Varint) id = BigInt(r.int64());
      else r.skip(wireType, field);
    }
    return id;
  } catch (e) {
    throw unmarshalError(e);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of the unsigned 64-bit `hi`·2^32 + `lo` (both uint32) as a varint. */
function varint64Size(lo: number, hi: number): number {
  let size = 1;
  while (hi !== 0 || lo >= 0x80) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    size++;
  }
  return size;
}

/** Writes the unsigned 64-bit `hi`·2^32 + `lo` (both uint32) as a varint at `pos`; returns the position after it. */
function writeVarint64(out: Uint8Array, pos: number, lo: number, hi: number): number {
  while (hi !== 0 || lo >= 0x80) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

/** Encodes LeaseKeepAliveResponses (`toBinary`'s bytes: fields in number order, zeros left out) with a cached header. */
export class KeepAliveResponseEncoder {
  private readonly header = new ResponseHeaderBytes();

  encode(header: ResponseHeader, id: bigint, ttl: bigint): Uint8Array {
    const head = this.header.encode(header);
    if (id > 0n && ttl >= 0n && ttl <= MAX_SAFE && head.length < 0x80) {
      // The usual answer, written byte by byte: header, positive ID (int64 varint), TTL.
      const idLo = Number(id & 0xffffffffn);
      const idHi = Number(id >> 32n);
      const ttlNum = Number(ttl);
      const out = new Uint8Array(2 + head.length + 1 + varint64Size(idLo, idHi) + (ttlNum !== 0 ? 1 + varintSize(ttlNum) : 0));
      out[0] = 0x0a;
      out[1] = head.length;
      out.set(head, 2);
      let pos = 2 + head.length;
      out[pos++] = 0x10;
      pos = writeVarint64(out, pos, idLo, idHi);
      if (ttlNum !== 0) {
        out[pos++] = 0x18;
        writeVarint(out, pos, ttlNum);
      }
      return out;
    }
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).bytes(head);
    if (id !== 0n) w.tag(2, WireType.Varint).int64(id);
    if (ttl !== 0n) w.tag(3, WireType.Varint).int64(ttl);
    return w.finish();
  }
}

/**
 * Runs one LeaseKeepAlive call until the client goes away, half-closes, or an error ends it.
 * Returns the function that ends the call with an error status (require-leader cancellation).
 */
function serve(api: EtcdServerApi, req: Http2ServerRequest, res: Http2ServerResponse, readMaxBytes: number, stats: RawCallStats, release: () => void): (error: ConnectError) => void {
  const call = new RawGrpcCall(res, stats);
  const reader = new GrpcMessageReader(readMaxBytes);
  const encoder = new KeepAliveResponseEncoder();
  // Answers of earlier chunks are written before later ones: each chunk's batch waits for this.
  let tail: Promise<void> = Promise.resolve();
  let failed = false;
  const finish = (error?: ConnectError) => {
    release();
    req.off("data", onData);
    call.finish(error);
  };
  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    finish(ConnectError.from(e));
  };
  res.on("close", release);

  // One header for the chunk, taken before its renewals (never newer than any of them).
  const answer = async (ids: bigint[], previous: Promise<void>) => {
    const header = api.header();
    const ttls = await Promise.all(ids.map((id) => renewedTtl(api, id)));
    await previous;
    if (failed || call.closed) return;
    const messages: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < ids.length; i++) {
      const m = encoder.encode(header, ids[i]!, ttls[i]!);
      messages.push(m);
      bytes += m.length;
    }
    if (!call.write(messages, bytes)) {
      // The client does not read its answers: stop reading its requests until it does.
      req.pause();
      await call.drained();
      req.resume();
    }
  };

  const onData = (chunk: Buffer) => {
    if (failed) return;
    let ids: bigint[];
    try {
      const messages = reader.push(chunk);
      if (messages.length === 0) return;
      ids = messages.map(decodeKeepAliveId);
      if (stats.method) stats.method.msgReceived += messages.length;
      if (stats.totals) for (const m of messages) stats.totals.receivedBytes += m.length;
    } catch (e) {
      return fail(e);
    }
    tail = answer(ids, tail).catch(fail);
  };
  req.on("data", onData);
  req.on("end", () => {
    // After the answers still owed, as etcd's send loop drains before the stream ends.
    void tail.then(() => {
      try {
        reader.end();
      } catch (e) {
        return fail(e);
      }
      if (!failed) finish();
    });
  });
  req.on("error", (e) => fail(new ConnectError(e instanceof Error ? e.message : String(e), Code.Unknown)));
  return (error) => fail(error);
}

/**
 * Returns a request interceptor for the client listener: serves plain gRPC calls of
 * `etcdserverpb.Lease/LeaseKeepAlive` and returns true, or returns false to let the router have
 * the request. `readMaxBytes`: largest request message (etcd: `--max-request-bytes` + 512 KiB).
 * `grpcStats`: `/metrics` counters; each call is counted as started and, when it ends, handled.
 * A call with `hasleader: true` is refused (Unavailable `etcdserver: no leader`) without a
 * leader and ended that way once the member lost it for good (server/api/require-leader.ts).
 */
export function rawGrpcLeaseKeepAlive(api: EtcdServerApi, readMaxBytes: number, grpcStats?: GrpcStats, leader?: LeaderRequirement): (req: NodeRequest, res: NodeResponse) => boolean {
  return rawGrpcInterceptor(
    LEASE_KEEPALIVE_PATH,
    grpcStats,
    leader,
    () => takeKeepAliveStreamSlot(api),
    (release, req, res, stats) => serve(api, req, res, readMaxBytes, stats, release),
  );
}
