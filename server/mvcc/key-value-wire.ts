/**
 * Hand-written protobuf encoding of mvccpb.KeyValue (key = 1, create_revision = 2,
 * mod_revision = 3, version = 4, value = 5, lease = 6; etcd's mvcc/mvccpb/kv.proto), shared by
 * the lean Range answer (server/api/range-wire.ts) and the snapshot's `key` bucket
 * (server/snapshot/write-etcd-db.ts). The bytes are exactly `toBinary(KeyValueSchema, kv)`'s for
 * a message without unknown fields: fields in number order, proto3 defaults left out, int64 as
 * two's-complement varints, as gogo-protobuf's generated Marshal (kv.pb.go) writes them.
 * Encoding: protobuf.dev/programming-guides/encoding.
 */
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { varintSize } from "../raft/message-size.ts";

/** The KeyValue fields that are encoded (a KeyValue message, or a plain object of the same shape). */
export type KeyValueFields = Pick<KeyValue, "key" | "createRevision" | "modRevision" | "version" | "value" | "lease">;

/** Bytes of the varint of an int64/uint64 field value (negative: 10 bytes, two's complement). */
export function int64Size(v: bigint): number {
  if (v < 0n) return 10;
  return v < 9007199254740992n ? varintSize(Number(v)) : varintSize(v);
}

/** Bytes of a length-delimited field with a one-byte tag: tag + length varint + payload. */
export function delimitedSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Bytes of a one-byte-tag varint field, 0 when the value is 0 (left out). */
export function optionalVarintSize(v: bigint): number {
  return v === 0n ? 0 : 1 + int64Size(v);
}

/** Bytes of a one-byte-tag bytes field of `len` bytes, 0 when empty (left out). */
export function optionalBytesSize(len: number): number {
  return len === 0 ? 0 : delimitedSize(len);
}

/** Writes protobuf into a preallocated buffer; `pos` is the next byte to write. */
export class ProtoWriter {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}

  /** A varint of a number in [0, 2^53). */
  number(v: number): void {
    const b = this.buf;
    while (v >= 128) {
      b[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }

  /** A varint of an int64/uint64 value (negative: 64-bit two's complement). */
  bigint(v: bigint): void {
    if (v >= 0n && v < 9007199254740992n) return this.number(Number(v));
    let u = BigInt.asUintN(64, v);
    const b = this.buf;
    while (u >= 128n) {
      b[this.pos++] = Number(u & 127n) | 128;
      u >>= 7n;
    }
    b[this.pos++] = Number(u);
  }

  /** A tag byte (field number < 16) followed by a varint field value, unless it is 0. */
  varintField(tag: number, v: bigint): void {
    if (v === 0n) return;
    this.buf[this.pos++] = tag;
    this.bigint(v);
  }

  /** A tag byte and length-delimited bytes, unless they are empty. */
  bytesField(tag: number, v: Uint8Array): void {
    if (v.length === 0) return;
    this.buf[this.pos++] = tag;
    this.number(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
}

/**
 * Bytes of a KeyValue from its key and value lengths and its numbers, without the bytes
 * themselves (a snapshot's layout pass reads only lengths from the backend).
 */
export function keyValueSizeOf(keyBytes: number, createRevision: bigint, modRevision: bigint, version: bigint, valueBytes: number, lease: bigint): number {
  return (
    optionalBytesSize(keyBytes) +
    optionalVarintSize(createRevision) +
    optionalVarintSize(modRevision) +
    optionalVarintSize(version) +
    optionalBytesSize(valueBytes) +
    optionalVarintSize(lease)
  );
}

/** Bytes of `toBinary(KeyValueSchema, kv)`. */
export function keyValueSize(kv: KeyValueFields): number {
  return keyValueSizeOf(kv.key.length, kv.createRevision, kv.modRevision, kv.version, kv.value.length, kv.lease);
}

/** Writes `kv`'s encoding ({@link keyValueSize} bytes) at `w.pos`. */
export function writeKeyValue(w: ProtoWriter, kv: KeyValueFields): void {
  w.bytesField((1 << 3) | 2, kv.key);
  w.varintField((2 << 3) | 0, kv.createRevision);
  w.varintField((3 << 3) | 0, kv.modRevision);
  w.varintField((4 << 3) | 0, kv.version);
  w.bytesField((5 << 3) | 2, kv.value);
  w.varintField((6 << 3) | 0, kv.lease);
}
