/**
 * Protobuf encoding of RangeResponse for the lean unary gRPC path (server/http/grpc-unary.ts),
 * its KeyValues by server/mvcc/key-value-wire.ts, written straight into one buffer: the size is computed first, then every field is written
 * once. `toBinary` (reflection over the schema, a chunked writer, a copy per nested message)
 * took 100–200 ms and much garbage for a 10,000-key answer (2.8 MB) in a member holding
 * 200,000 keys; this takes a few ms. The bytes are exactly what
 * `toBinary(RangeResponseSchema, r)` gives (fields in number order, proto3 defaults left out,
 * int64 as two's-complement varints), as gogo-protobuf's generated `Marshal` of etcd's
 * rpc.pb.go / kv.pb.go writes them. Messages carrying unknown fields are left to `toBinary`.
 */
import { toBinary } from "@bufbuild/protobuf";
import { type RangeResponse, RangeResponseSchema, type ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { keyValueSize, writeKeyValue } from "../mvcc/key-value-wire.ts";
import { delimitedSize, optionalVarintSize, ProtoWriter } from "../raft/proto-writer.ts";

function headerSize(h: ResponseHeader): number {
  return optionalVarintSize(h.clusterId) + optionalVarintSize(h.memberId) + optionalVarintSize(h.revision) + optionalVarintSize(h.raftTerm);
}

function hasUnknown(m: { $unknown?: unknown[] }): boolean {
  return m.$unknown !== undefined && m.$unknown.length > 0;
}

/**
 * The protobuf encoding of `r` (etcdserverpb.RangeResponse: header = 1, repeated mvccpb.KeyValue
 * kvs = 2, more = 3, count = 4; KeyValue: key = 1, create_revision = 2, mod_revision = 3,
 * version = 4, value = 5, lease = 6), identical to `toBinary(RangeResponseSchema, r)`, after
 * `reserve` bytes left for the caller (e.g. the 5-byte gRPC message prefix, so a large answer is
 * written once rather than encoded and then copied into a frame), in a buffer of `reserve` + the
 * encoding's size from `allocate` (default Buffer.allocUnsafe; its contents may be anything).
 */
export function encodeRangeResponse(r: RangeResponse, reserve = 0, allocate: (size: number) => Uint8Array = Buffer.allocUnsafe): Uint8Array {
  if (hasUnknown(r) || (r.header && hasUnknown(r.header)) || r.kvs.some(hasUnknown)) {
    const bytes = toBinary(RangeResponseSchema, r);
    if (reserve === 0) return bytes;
    const out = allocate(reserve + bytes.length);
    out.set(bytes, reserve);
    return out;
  }
  const kvSizes = new Array<number>(r.kvs.length);
  let size = 0;
  const hSize = r.header ? headerSize(r.header) : -1;
  if (r.header) size += delimitedSize(hSize);
  for (let i = 0; i < r.kvs.length; i++) {
    const s = keyValueSize(r.kvs[i]!);
    kvSizes[i] = s;
    size += delimitedSize(s);
  }
  if (r.more) size += 2;
  size += optionalVarintSize(r.count);

  // Every byte after `reserve` is written below, so the buffer need not be zeroed.
  const w = new ProtoWriter(allocate(reserve + size));
  w.pos = reserve;
  if (r.header) {
    const h = r.header;
    w.buf[w.pos++] = (1 << 3) | 2;
    w.number(hSize);
    w.varintField((1 << 3) | 0, h.clusterId);
    w.varintField((2 << 3) | 0, h.memberId);
    w.varintField((3 << 3) | 0, h.revision);
    w.varintField((4 << 3) | 0, h.raftTerm);
  }
  for (let i = 0; i < r.kvs.length; i++) {
    const kv = r.kvs[i]!;
    w.buf[w.pos++] = (2 << 3) | 2;
    w.number(kvSizes[i]!);
    writeKeyValue(w, kv);
  }
  if (r.more) {
    w.buf[w.pos++] = (3 << 3) | 0;
    w.buf[w.pos++] = 1;
  }
  w.varintField((4 << 3) | 0, r.count);
  if (w.pos !== reserve + size) throw new Error(`range-wire: wrote ${w.pos - reserve} bytes, computed ${size}`);
  return w.buf;
}
