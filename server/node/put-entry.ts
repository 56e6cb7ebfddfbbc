/**
 * The Raft entry bytes of a client's put: InternalRaftRequest{ID, put, header} written by hand,
 * byte for byte what `toBinary(InternalRaftRequestSchema, …)` writes for the same message
 * (fields by number, proto3 defaults left out; proto/etcdserverpb/raft_internal.proto and
 * rpc.proto). The reflective encoder was 4% of a put-loaded member's profile.
 */
import type { PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { varintSize } from "../raft/message-size.ts";

/** Who sent the put (etcd's RequestHeader: ID, username, auth_revision), or none without auth. */
export interface PutEntryHeader {
  username: string;
  authRevision: bigint;
}

const utf8 = new TextEncoder();

/** Bytes of `v` as an unsigned varint (0 ≤ `v` < 2^64), without a BigInt shift per byte. */
function varintBytes(v: bigint): number {
  if (v < 0x1_0000_0000n) return varintSize(Number(v));
  const hi = Number(v >> 32n);
  // Bits above 32: hi's bit length plus 32, 7 bits per byte.
  return Math.ceil((32 + (32 - Math.clz32(hi))) / 7);
}

/** Writer over one preallocated buffer. */
class Out {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  small(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  /** The unsigned varint `v` (0 ≤ `v` < 2^64), from two 32-bit halves (no BigInt per byte). */
  big(v: bigint): void {
    if (v < 0x1_0000_0000n) return this.small(Number(v));
    let lo = Number(v & 0xffff_ffffn);
    let hi = Number(v >> 32n);
    // Four full groups of 7 bits from the low half, then one group spanning both halves.
    for (let i = 0; i < 4; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    const rest = lo | ((hi & 0x07) << 4);
    hi >>>= 3;
    if (hi === 0) {
      this.buf[this.pos++] = rest;
      return;
    }
    this.buf[this.pos++] = rest | 0x80;
    while (hi >= 0x80) {
      this.buf[this.pos++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    this.buf[this.pos++] = hi;
  }
  bytes(b: Uint8Array): void {
    this.small(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** int64 on the wire: a negative value as its 64-bit two's complement. */
const asUint64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * Encodes InternalRaftRequest{ID: `id`, put: `put`, header: {ID: `id`, …`header`} when given}.
 * Returns undefined when `put` carries unknown fields (the caller then uses toBinary).
 */
export function encodePutEntry(id: bigint, put: PutRequest, header?: PutEntryHeader): Uint8Array | undefined {
  if (put.$unknown?.length) return undefined;
  const lease = put.lease === 0n ? 0n : asUint64(put.lease);
  let putLen = 0;
  if (put.key.length > 0) putLen += 1 + varintSize(put.key.length) + put.key.length;
  if (put.value.length > 0) putLen += 1 + varintSize(put.value.length) + put.value.length;
  if (lease !== 0n) putLen += 1 + varintBytes(lease);
  if (put.prevKv) putLen += 2;
  if (put.ignoreValue) putLen += 2;
  if (put.ignoreLease) putLen += 2;
  const name = header && header.username !== "" ? utf8.encode(header.username) : undefined;
  let headerLen = 0;
  if (header) {
    if (id !== 0n) headerLen += 1 + varintBytes(id);
    if (name) headerLen += 1 + varintSize(name.length) + name.length;
    if (header.authRevision !== 0n) headerLen += 1 + varintBytes(header.authRevision);
  }
  let total = 1 + varintSize(putLen) + putLen;
  if (id !== 0n) total += 1 + varintBytes(id);
  // Field 100, wire type 2: tag 802 = two varint bytes.
  if (header) total += 2 + varintSize(headerLen) + headerLen;
  const o = new Out(new Uint8Array(total));
  if (id !== 0n) {
    o.buf[o.pos++] = 0x08;
    o.big(id);
  }
  o.buf[o.pos++] = 0x22;
  o.small(putLen);
  if (put.key.length > 0) {
    o.buf[o.pos++] = 0x0a;
    o.bytes(put.key);
  }
  if (put.value.length > 0) {
    o.buf[o.pos++] = 0x12;
    o.bytes(put.value);
  }
  if (lease !== 0n) {
    o.buf[o.pos++] = 0x18;
    o.big(lease);
  }
  if (put.prevKv) (o.buf[o.pos++] = 0x20), (o.buf[o.pos++] = 1);
  if (put.ignoreValue) (o.buf[o.pos++] = 0x28), (o.buf[o.pos++] = 1);
  if (put.ignoreLease) (o.buf[o.pos++] = 0x30), (o.buf[o.pos++] = 1);
  if (header) {
    o.buf[o.pos++] = 0xa2;
    o.buf[o.pos++] = 0x06;
    o.small(headerLen);
    if (id !== 0n) {
      o.buf[o.pos++] = 0x08;
      o.big(id);
    }
    if (name) {
      o.buf[o.pos++] = 0x12;
      o.bytes(name);
    }
    if (header.authRevision !== 0n) {
      o.buf[o.pos++] = 0x18;
      o.big(header.authRevision);
    }
  }
  if (o.pos !== total) throw new Error(`put entry: wrote ${o.pos} of ${total} bytes`);
  return o.buf;
}
