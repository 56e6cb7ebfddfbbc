/**
 * The Raft entry bytes of a client's put or delete, or of a v2 keys request: InternalRaftRequest{ID,
 * v2 | put | delete_range, header} written by hand, byte for byte what
 * `toBinary(InternalRaftRequestSchema, …)` writes for the same message (fields by number, proto3
 * defaults left out, a set `optional` field written even when false;
 * proto/etcdserverpb/raft_internal.proto and rpc.proto), and put and delete entries read back by
 * hand on followers. The reflective encoder was 4% of a put-loaded member's profile, and as much
 * of a v2-set-loaded one's; the reflective decoder a few % of a follower's.
 */
import { create } from "@bufbuild/protobuf";
import {
  InternalRaftRequestSchema,
  RequestHeaderSchema,
  type InternalRaftRequest,
  type RequestHeader,
  type V2Request,
} from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import type { DeleteRangeRequest, PutRequest } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { decodeDeleteRangeRequest, decodePutRequest, delimitedSpan, span, varint64, varintEnd } from "../api/request-wire.ts";
import { varintSize } from "../raft/message-size.ts";
import { optionalBytesSize, optionalVarintSize, ProtoWriter } from "../raft/proto-writer.ts";

/** Who sent the request (etcd's RequestHeader: ID, username, auth_revision), or none without auth. */
export interface EntryHeader {
  username: string;
  authRevision: bigint;
}

/** The request of an entry written by hand: one v2 request, put or delete_range, nothing else set. */
export interface HandEncodedRequest {
  v2?: V2Request;
  put?: PutRequest;
  deleteRange?: DeleteRangeRequest;
}

const utf8 = new TextEncoder();

/** PutRequest: key 1, value 2, lease 3 (int64), prev_kv 4, ignore_value 5, ignore_lease 6. */
function putSize(p: PutRequest): number {
  return optionalBytesSize(p.key.length) + optionalBytesSize(p.value.length) + optionalVarintSize(p.lease) + (p.prevKv ? 2 : 0) + (p.ignoreValue ? 2 : 0) + (p.ignoreLease ? 2 : 0);
}

function writePut(w: ProtoWriter, p: PutRequest): void {
  w.bytesField(0x0a, p.key);
  w.bytesField(0x12, p.value);
  w.varintField(0x18, p.lease);
  if (p.prevKv) (w.buf[w.pos++] = 0x20), (w.buf[w.pos++] = 1);
  if (p.ignoreValue) (w.buf[w.pos++] = 0x28), (w.buf[w.pos++] = 1);
  if (p.ignoreLease) (w.buf[w.pos++] = 0x30), (w.buf[w.pos++] = 1);
}

/** DeleteRangeRequest: key 1, range_end 2, prev_kv 3. */
function deleteSize(d: DeleteRangeRequest): number {
  return optionalBytesSize(d.key.length) + optionalBytesSize(d.rangeEnd.length) + (d.prevKv ? 2 : 0);
}

function writeDelete(w: ProtoWriter, d: DeleteRangeRequest): void {
  w.bytesField(0x0a, d.key);
  w.bytesField(0x12, d.rangeEnd);
  if (d.prevKv) (w.buf[w.pos++] = 0x18), (w.buf[w.pos++] = 1);
}

/** A bool field: tag bytes and 1 when true (proto3 leaves false out). */
function writeBool(w: ProtoWriter, tag: number, v: boolean | undefined, tag2?: number): void {
  if (!v) return;
  w.buf[w.pos++] = tag;
  if (tag2 !== undefined) w.buf[w.pos++] = tag2;
  w.buf[w.pos++] = 1;
}

/** A V2Request's strings as UTF-8: Method 2, Path 3, Val 4, PrevValue 6. */
interface V2Strings {
  method: Uint8Array;
  path: Uint8Array;
  val: Uint8Array;
  prevValue: Uint8Array;
}

/**
 * V2Request: ID 1, Method 2, Path 3, Val 4, Dir 5, PrevValue 6, PrevIndex 7, PrevExist 8
 * (optional), Expiration 9 (int64), Wait 10, Since 11, Recursive 12, Sorted 13, Quorum 14,
 * Time 15 (int64), Stream 16, Refresh 17 (optional); fields 16 and 17 have two-byte tags.
 */
function v2Size(r: V2Request, s: V2Strings): number {
  return (
    optionalVarintSize(r.ID) +
    optionalBytesSize(s.method.length) +
    optionalBytesSize(s.path.length) +
    optionalBytesSize(s.val.length) +
    (r.Dir ? 2 : 0) +
    optionalBytesSize(s.prevValue.length) +
    optionalVarintSize(r.PrevIndex) +
    (r.PrevExist !== undefined ? 2 : 0) +
    optionalVarintSize(r.Expiration) +
    (r.Wait ? 2 : 0) +
    optionalVarintSize(r.Since) +
    (r.Recursive ? 2 : 0) +
    (r.Sorted ? 2 : 0) +
    (r.Quorum ? 2 : 0) +
    optionalVarintSize(r.Time) +
    (r.Stream ? 3 : 0) +
    (r.Refresh !== undefined ? 3 : 0)
  );
}

function writeV2(w: ProtoWriter, r: V2Request, s: V2Strings): void {
  w.varintField(0x08, r.ID);
  w.bytesField(0x12, s.method);
  w.bytesField(0x1a, s.path);
  w.bytesField(0x22, s.val);
  writeBool(w, 0x28, r.Dir);
  w.bytesField(0x32, s.prevValue);
  w.varintField(0x38, r.PrevIndex);
  if (r.PrevExist !== undefined) (w.buf[w.pos++] = 0x40), (w.buf[w.pos++] = r.PrevExist ? 1 : 0);
  w.varintField(0x48, r.Expiration);
  writeBool(w, 0x50, r.Wait);
  w.varintField(0x58, r.Since);
  writeBool(w, 0x60, r.Recursive);
  writeBool(w, 0x68, r.Sorted);
  writeBool(w, 0x70, r.Quorum);
  w.varintField(0x78, r.Time);
  writeBool(w, 0x80, r.Stream, 0x01);
  if (r.Refresh !== undefined) (w.buf[w.pos++] = 0x88), (w.buf[w.pos++] = 0x01), (w.buf[w.pos++] = r.Refresh ? 1 : 0);
}

/** The body of the one request of an entry: its field's tag, size and writer. */
interface EntryBody {
  tag: number;
  size: number;
  write(w: ProtoWriter): void;
}

function entryBody(req: HandEncodedRequest): EntryBody | undefined {
  const { v2, put, deleteRange: del } = req;
  if (v2) {
    if (v2.$unknown?.length) return undefined;
    const s: V2Strings = { method: utf8.encode(v2.Method), path: utf8.encode(v2.Path), val: utf8.encode(v2.Val), prevValue: utf8.encode(v2.PrevValue) };
    return { tag: 0x12, size: v2Size(v2, s), write: (w) => writeV2(w, v2, s) };
  }
  if (put) return put.$unknown?.length ? undefined : { tag: 0x22, size: putSize(put), write: (w) => writePut(w, put) };
  if (del) return del.$unknown?.length ? undefined : { tag: 0x2a, size: deleteSize(del), write: (w) => writeDelete(w, del) };
  return undefined;
}

/**
 * Encodes InternalRaftRequest{ID: `id`, v2 (field 2), put (field 4) or delete_range (field 5): the request,
 * header (field 100): {ID: `id`, …`header`} when given}. Returns undefined for any other request,
 * or one carrying unknown fields (the caller then uses toBinary).
 */
export function encodeRequestEntry(id: bigint, req: HandEncodedRequest, header?: EntryHeader): Uint8Array | undefined {
  const body = entryBody(req);
  if (!body) return undefined;
  const bodyLen = body.size;
  const name = header && header.username !== "" ? utf8.encode(header.username) : undefined;
  const headerLen = header ? optionalVarintSize(id) + optionalBytesSize(name?.length ?? 0) + optionalVarintSize(header.authRevision) : 0;
  // Field 100, wire type 2: tag 802 = two varint bytes.
  const total = optionalVarintSize(id) + 1 + varintSize(bodyLen) + bodyLen + (header ? 2 + varintSize(headerLen) + headerLen : 0);
  const w = new ProtoWriter(new Uint8Array(total));
  w.varintField(0x08, id);
  w.buf[w.pos++] = body.tag;
  w.number(bodyLen);
  body.write(w);
  if (header) {
    w.buf[w.pos++] = 0xa2;
    w.buf[w.pos++] = 0x06;
    w.number(headerLen);
    w.varintField(0x08, id);
    if (name) w.bytesField(0x12, name);
    w.varintField(0x18, header.authRevision);
  }
  if (w.pos !== total) throw new Error(`request entry: wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}

const utf8Decoder = new TextDecoder();

/** RequestHeader{ID 1, username 2, auth_revision 3} in `buf[start, end)`; undefined for anything else or a non-ASCII name. */
function decodeHeader(buf: Uint8Array, start: number, end: number): RequestHeader | undefined {
  let id = 0n;
  let username = "";
  let authRevision = 0n;
  let pos = start;
  while (pos < end) {
    const t = buf[pos++]!;
    if (t === 0x08 || t === 0x18) {
      const next = varintEnd(buf, pos, end);
      if (next < 0) return undefined;
      const v = varint64(buf, pos, next);
      if (t === 0x08) id = v;
      else authRevision = BigInt.asIntN(64, v);
      pos = next;
    } else if (t === 0x12) {
      if (!delimitedSpan(buf, pos, end)) return undefined;
      for (let i = span.start; i < span.end; i++) if (buf[i]! >= 0x80) return undefined;
      username = utf8Decoder.decode(buf.subarray(span.start, span.end));
      pos = span.end;
    } else return undefined;
  }
  return create(RequestHeaderSchema, { ID: id, username, authRevision });
}

/**
 * The request in entry bytes `data`, the same message `fromBinary(InternalRaftRequestSchema,
 * data)` returns, when they hold what encodeRequestEntry writes: ID, one put or one
 * delete_range, optionally the header (an ASCII user name); undefined for anything else (another
 * request, a field repeated, unknown fields, malformed bytes): the caller then uses fromBinary.
 * Bytes fields are copies.
 */
export function decodeRequestEntry(data: Uint8Array): InternalRaftRequest | undefined {
  let id = 0n;
  let put: PutRequest | undefined;
  let deleteRange: DeleteRangeRequest | undefined;
  let header: RequestHeader | undefined;
  const end = data.length;
  let pos = 0;
  while (pos < end) {
    const t = data[pos++]!;
    if (t === 0x08) {
      const next = varintEnd(data, pos, end);
      if (next < 0) return undefined;
      id = varint64(data, pos, next);
      pos = next;
      continue;
    }
    if (t === 0xa2 && data[pos] === 0x06) pos++; // field 100 (header): a two-byte tag
    else if (t !== 0x22 && t !== 0x2a) return undefined;
    if (!delimitedSpan(data, pos, end)) return undefined;
    const { start, end: fieldEnd } = span;
    if (t === 0x22) {
      if (put || deleteRange || !(put = decodePutRequest(data, start, fieldEnd))) return undefined;
    } else if (t === 0x2a) {
      if (put || deleteRange || !(deleteRange = decodeDeleteRangeRequest(data, start, fieldEnd))) return undefined;
    } else if (header || !(header = decodeHeader(data, start, fieldEnd))) return undefined;
    pos = fieldEnd;
  }
  if (!put && !deleteRange) return undefined;
  return create(InternalRaftRequestSchema, { ID: id, put, deleteRange, header });
}
