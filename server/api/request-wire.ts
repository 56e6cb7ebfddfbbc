/**
 * A PutRequest or DeleteRangeRequest read by hand from a unary call's body (or, on a follower, from
 * a Raft entry: server/node/request-entry.ts decodeRequestEntry): the same message
 * `fromBinary(…Schema, …)` returns (proto/etcdserverpb/rpc.proto: PutRequest key = 1, value = 2,
 * lease = 3, prev_kv = 4, ignore_value = 5, ignore_lease = 6; DeleteRangeRequest key = 1,
 * range_end = 2, prev_kv = 3; a repeated field's last occurrence wins), for messages that hold
 * only those fields with their own wire types. Anything else (an unknown field, which fromBinary
 * keeps, a wrong wire type, a truncated message) is left to fromBinary and its errors.
 *
 * Why: the bytes fields come out as copies, not views. A view of the body the HTTP/2 layer hands
 * over makes JavaScriptCore give that small array an ArrayBuffer of its own (`get buffer`, 3% of
 * a put-loaded member's profile), and the reflective decoder costs more than this loop.
 */
import type { DeleteRangeRequest, PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/** Position after a varint starting at `pos`, or -1 when it runs past `end` or over 10 bytes. */
export function varintEnd(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i < end && i < pos + 10; i++) if (buf[i]! < 0x80) return i + 1;
  return -1;
}

/** The varint in `buf[pos, next)` as a uint64 (low 64 bits, as protobuf reads an int64). */
export function varint64(buf: Uint8Array, pos: number, next: number): bigint {
  if (next - pos <= 7) {
    let v = 0;
    for (let i = next - 1; i >= pos; i--) v = v * 128 + (buf[i]! & 0x7f);
    return BigInt(v);
  }
  // Seven bits at a time into two 32-bit halves; one bigint at the end.
  let lo = 0;
  let hi = 0;
  for (let i = pos, shift = 0; i < next; i++, shift += 7) {
    const b = buf[i]! & 0x7f;
    if (shift < 28) lo |= b << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi = b >> 4;
    } else hi |= b << (shift - 32);
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Where the last {@link delimitedSpan} found its bytes: `buf[start, end)`. */
export const span = { start: 0, end: 0 };

/**
 * Finds the payload of the length-delimited field whose length varint is at `pos`: true with its
 * place left in {@link span}, false when it runs past `end` (a length under 2^28 takes at most 4 bytes).
 */
export function delimitedSpan(buf: Uint8Array, pos: number, end: number): boolean {
  const lenEnd = varintEnd(buf, pos, end);
  if (lenEnd < 0 || lenEnd - pos > 4) return false;
  let len = 0;
  for (let i = lenEnd - 1; i >= pos; i--) len = len * 128 + (buf[i]! & 0x7f);
  if (lenEnd + len > end) return false;
  span.start = lenEnd;
  span.end = lenEnd + len;
  return true;
}

/**
 * A copy of the bytes of the length-delimited field whose length varint is at `pos` (their place
 * left in {@link span}), or undefined when it runs past `end`.
 */
function bytesField(buf: Uint8Array, pos: number, end: number): Uint8Array | undefined {
  return delimitedSpan(buf, pos, end) ? copyOf(buf, span.start, span.end) : undefined;
}

/** A bool varint in `buf[pos, next)`: true when its low 64 bits are not all zero (a 10th byte adds bit 63 only). */
function boolAt(buf: Uint8Array, pos: number, next: number): boolean {
  for (let i = pos; i < next; i++) if ((buf[i]! & (i === pos + 9 ? 0x01 : 0x7f)) !== 0) return true;
  return false;
}

/** A plain Uint8Array copy of `buf[start, end)` (no view, no ArrayBuffer for `buf`). */
function copyOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = buf[i]!;
  return out;
}

/**
 * The PutRequest encoded in `buf[start, end)`, or undefined when fromBinary must read it (see
 * the module doc). Bytes fields are fresh copies.
 */
export function decodePutRequest(buf: Uint8Array, start: number, end: number): PutRequest | undefined {
  let key: Uint8Array | undefined;
  let value: Uint8Array | undefined;
  let lease = 0n;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  let pos = start;
  while (pos < end) {
    const tag = buf[pos++]!;
    if (tag === 0x0a || tag === 0x12) {
      const bytes = bytesField(buf, pos, end);
      if (!bytes) return undefined;
      if (tag === 0x0a) key = bytes;
      else value = bytes;
      pos = span.end;
    } else if (tag === 0x18 || tag === 0x20 || tag === 0x28 || tag === 0x30) {
      const next = varintEnd(buf, pos, end);
      if (next < 0) return undefined;
      if (tag === 0x18) lease = BigInt.asIntN(64, varint64(buf, pos, next));
      else {
        const set = boolAt(buf, pos, next);
        if (tag === 0x20) prevKv = set;
        else if (tag === 0x28) ignoreValue = set;
        else ignoreLease = set;
      }
      pos = next;
    } else {
      return undefined;
    }
  }
  return {
    $typeName: "etcdserverpb.PutRequest",
    key: key ?? new Uint8Array(0),
    value: value ?? new Uint8Array(0),
    lease,
    prevKv,
    ignoreValue,
    ignoreLease,
  };
}

/**
 * The DeleteRangeRequest encoded in `buf[start, end)`, or undefined when fromBinary must read it
 * (see the module doc). Bytes fields are fresh copies.
 */
export function decodeDeleteRangeRequest(buf: Uint8Array, start: number, end: number): DeleteRangeRequest | undefined {
  let key: Uint8Array | undefined;
  let rangeEnd: Uint8Array | undefined;
  let prevKv = false;
  let pos = start;
  while (pos < end) {
    const tag = buf[pos++]!;
    if (tag === 0x0a || tag === 0x12) {
      const bytes = bytesField(buf, pos, end);
      if (!bytes) return undefined;
      if (tag === 0x0a) key = bytes;
      else rangeEnd = bytes;
      pos = span.end;
    } else if (tag === 0x18) {
      const next = varintEnd(buf, pos, end);
      if (next < 0) return undefined;
      prevKv = boolAt(buf, pos, next);
      pos = next;
    } else {
      return undefined;
    }
  }
  return { $typeName: "etcdserverpb.DeleteRangeRequest", key: key ?? new Uint8Array(0), rangeEnd: rangeEnd ?? new Uint8Array(0), prevKv };
}
