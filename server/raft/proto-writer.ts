/**
 * A protobuf writer into a buffer sized in advance (the hand-written encoders compute the exact
 * size first, then write every field once): varints of numbers and of 64-bit integers, and
 * one-byte-tag fields as proto3 writes them (zero values and empty bytes left out). Used by
 * server/raft/message-codec.ts (Raft messages between members), server/api/range-wire.ts
 * (RangeResponse), server/mvcc/key-value-wire.ts (KeyValue, in answers and snapshots) and
 * server/node/request-entry.ts (put and delete entries); sizes come from message-size.ts `varintSize`. Wire format: the protobuf
 * encoding guide (protobuf.dev/programming-guides/encoding), "Base 128 Varints".
 */
import { varintSize } from "./message-size.ts";

/** Bytes of a length-delimited field with a one-byte tag: tag + length varint + payload. */
export function delimitedSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Bytes of a one-byte-tag varint field of an int64/uint64 (negative: 10-byte varint), 0 when the value is 0 (left out). */
export function optionalVarintSize(v: bigint): number {
  return v === 0n ? 0 : 1 + varintSize(v);
}

/** Bytes of a one-byte-tag bytes field of `len` bytes, 0 when empty (left out). */
export function optionalBytesSize(len: number): number {
  return len === 0 ? 0 : delimitedSize(len);
}

/** Writes protobuf into a buffer sized in advance. */
export class ProtoWriter {
  /** `pos`: the next byte to write. */
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

  /** A varint of an int64/uint64 value (negative: its 64-bit two's complement, 10 bytes). */
  bigint(v: bigint): void {
    if (v >= 0n && v < 9007199254740992n) return this.number(Number(v));
    const u = BigInt.asUintN(64, v);
    const b = this.buf;
    // Seven bits at a time across the two 32-bit halves (no bigint arithmetic per byte).
    let lo = Number(u & 0xffffffffn);
    let hi = Number(u >> 32n);
    while (lo >= 128 || hi > 0) {
      b[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | ((hi & 127) << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.pos++] = lo;
  }

  /** A tag byte (field number < 16) followed by a varint field value, unless it is 0. */
  varintField(tag: number, v: bigint): void {
    if (v === 0n) return;
    this.buf[this.pos++] = tag;
    this.bigint(v);
  }

  /** A tag byte and a varint of a number in [0, 2^53), unless it is 0. */
  numberField(tag: number, v: number): void {
    if (v === 0) return;
    this.buf[this.pos++] = tag;
    this.number(v);
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
