/**
 * The binary form of a Raft message on the peer transport: proto3 `raftpb.Message`
 * (proto/raftpb/raft.proto), encoded and decoded by hand instead of through the protobuf
 * runtime's reflection (`create` + `toBinary` / `fromBinary`), because every MsgApp and its
 * entries pass through here once per follower and every answer once more on the leader.
 * The bytes are those protobuf-es writes for the same message (fields in number order, zero
 * scalars and empty bytes left out); the decoder reads any valid encoding (fields in any order,
 * unknown fields skipped). Entry data and the context come out as views of the input bytes
 * (no copy), as protobuf-es's `bytes` fields do. The rare MsgSnap's snapshot sub-message goes
 * through the protobuf runtime (wire.ts). The peer stream's MessageBatch (proto/etcdts/peer.proto)
 * is written with its messages in place and read here too.
 *
 * Errors: decodeMessage throws an Error (`raftpb.Message: ...`) on truncated or malformed input,
 * and a RangeError for a term or index above 2^53 (as wire.ts's toNumber).
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { SnapshotSchema } from "../../proto/gen/raftpb/raft_pb.ts";
import { snapshotFromProto, snapshotToProto } from "./wire.ts";
import { EMPTY_BYTES, type Entry, type Message, type MessageType, type EntryType } from "./types.ts";
import { varintSize } from "./message-size.ts";
import { ProtoWriter } from "./proto-writer.ts";

/** Wire types of the protobuf encoding (protobuf encoding guide, "Message Structure"). */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** Tag byte of field `no` (< 16) with wire type `wt`. */
const tag = (no: number, wt: number) => (no << 3) | wt;

/** Bytes of the proto3 Entry `e` without its own tag and length. */
function entryBodySize(e: Entry): number {
  let n = 0;
  if (e.type !== 0) n += 1 + varintSize(e.type);
  if (e.term !== 0) n += 1 + varintSize(e.term);
  if (e.index !== 0) n += 1 + varintSize(e.index);
  if (e.data.length > 0) n += 1 + varintSize(e.data.length) + e.data.length;
  return n;
}

/** Bytes of `m` as proto3 raftpb.Message, its snapshot sub-message encoded as `snapshot`. */
function messageSize(m: Message, snapshot: Uint8Array | undefined): number {
  let size = 0;
  if (m.type !== 0) size += 1 + varintSize(m.type);
  if (m.to !== 0n) size += 1 + varintSize(m.to);
  if (m.from !== 0n) size += 1 + varintSize(m.from);
  if (m.term !== 0) size += 1 + varintSize(m.term);
  if (m.logTerm !== 0) size += 1 + varintSize(m.logTerm);
  if (m.index !== 0) size += 1 + varintSize(m.index);
  for (const e of m.entries) {
    const n = entryBodySize(e);
    size += 1 + varintSize(n) + n;
  }
  if (m.commit !== 0) size += 1 + varintSize(m.commit);
  if (snapshot) size += 1 + varintSize(snapshot.length) + snapshot.length;
  if (m.reject) size += 2;
  if (m.rejectHint !== 0) size += 1 + varintSize(m.rejectHint);
  if (m.context.length > 0) size += 1 + varintSize(m.context.length) + m.context.length;
  return size;
}

/** Writes `m` (see messageSize) at `w.pos`. */
function writeMessage(w: ProtoWriter, m: Message, snapshot: Uint8Array | undefined): void {
  w.numberField(tag(1, VARINT), m.type);
  w.varintField(tag(2, VARINT), m.to);
  w.varintField(tag(3, VARINT), m.from);
  w.numberField(tag(4, VARINT), m.term);
  w.numberField(tag(5, VARINT), m.logTerm);
  w.numberField(tag(6, VARINT), m.index);
  for (const e of m.entries) {
    w.buf[w.pos++] = tag(7, LEN);
    w.number(entryBodySize(e));
    w.numberField(tag(1, VARINT), e.type);
    w.numberField(tag(2, VARINT), e.term);
    w.numberField(tag(3, VARINT), e.index);
    w.bytesField(tag(4, LEN), e.data);
  }
  w.numberField(tag(8, VARINT), m.commit);
  if (snapshot) {
    // A present sub-message is written even when empty (the snapshot's presence is meaningful).
    w.buf[w.pos++] = tag(9, LEN);
    w.number(snapshot.length);
    w.buf.set(snapshot, w.pos);
    w.pos += snapshot.length;
  }
  w.numberField(tag(10, VARINT), m.reject ? 1 : 0);
  w.numberField(tag(11, VARINT), m.rejectHint);
  w.bytesField(tag(12, LEN), m.context);
}

const snapshotBytes = (m: Message) => (m.snapshot ? toBinary(SnapshotSchema, snapshotToProto(m.snapshot)) : undefined);

/** Encodes `m` as proto3 raftpb.Message bytes. */
export function encodeMessage(m: Message): Uint8Array {
  const snapshot = snapshotBytes(m);
  const size = messageSize(m, snapshot);
  const w = new ProtoWriter(new Uint8Array(size));
  writeMessage(w, m, snapshot);
  if (w.pos !== size) throw new Error(`raftpb.Message: encoded ${w.pos} bytes, sized ${size}`);
  return w.buf;
}

/**
 * Encodes the peer stream's MessageBatch of `msgs` (proto/etcdts/peer.proto, `repeated bytes
 * messages = 1`, each the bytes encodeMessage writes) after `headBytes` bytes left for the
 * caller (zero), every message written in place.
 */
export function encodeMessageBatch(msgs: readonly Message[], headBytes: number): Uint8Array {
  const snapshots = msgs.some((m) => m.snapshot) ? msgs.map(snapshotBytes) : undefined;
  const sizes = new Array<number>(msgs.length);
  let total = headBytes;
  for (let i = 0; i < msgs.length; i++) {
    const n = messageSize(msgs[i]!, snapshots?.[i]);
    sizes[i] = n;
    total += 1 + varintSize(n) + n;
  }
  const w = new ProtoWriter(new Uint8Array(total), headBytes);
  for (let i = 0; i < msgs.length; i++) {
    w.buf[w.pos++] = tag(1, LEN);
    w.number(sizes[i]!);
    const start = w.pos;
    writeMessage(w, msgs[i]!, snapshots?.[i]);
    if (w.pos - start !== sizes[i]) throw new Error(`raftpb.Message: encoded ${w.pos - start} bytes, sized ${sizes[i]}`);
  }
  return w.buf;
}

/**
 * The last values above 2^49 read (member IDs: every message carries `to` and `from`), so that
 * reading one again costs no bigint arithmetic: [hi, lo, value] per slot, filled round-robin.
 */
const WIDE_SLOTS = 4;
const wideHi = new Array<number>(WIDE_SLOTS).fill(-1);
const wideLo = new Array<number>(WIDE_SLOTS).fill(-1);
const wideValue = new Array<bigint>(WIDE_SLOTS).fill(0n);
let wideNext = 0;

/** The uint64 `hi * 2^32 + lo` (both unsigned 32-bit), from the slots when read lately. */
function wideUint64(hi: number, lo: number): bigint {
  for (let i = 0; i < WIDE_SLOTS; i++) if (wideHi[i] === hi && wideLo[i] === lo) return wideValue[i]!;
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  wideHi[wideNext] = hi;
  wideLo[wideNext] = lo;
  wideValue[wideNext] = v;
  wideNext = (wideNext + 1) % WIDE_SLOTS;
  return v;
}

/** Reads protobuf fields from `buf[pos, end)`. */
class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  private fail(what: string): never {
    throw new Error(`raftpb.Message: ${what} at byte ${this.pos}`);
  }

  /** A varint as a number; throws RangeError above 2^53. */
  uint(): number {
    const buf = this.buf;
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = buf[this.pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new RangeError(`raft index/term ${v} exceeds 2^53`);
        return v;
      }
      scale *= 0x80;
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A varint as a uint64 bigint. */
  uint64(): bigint {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        if (this.pos - start <= 7) return BigInt((lo >>> 0) + (hi >>> 0) * 0x100000000);
        return wideUint64(hi >>> 0, lo >>> 0);
      }
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A length-delimited field's payload, as a view of the input. */
  bytes(): Uint8Array {
    const n = this.uint();
    if (n > this.end - this.pos) this.fail("truncated length-delimited field");
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Skips a field of wire type `wt` (an unknown field). */
  skip(wt: number): void {
    if (wt === VARINT) this.uint64();
    else if (wt === LEN) this.bytes();
    else if (wt === I64 || wt === I32) {
      this.pos += wt === I64 ? 8 : 4;
      if (this.pos > this.end) this.fail("truncated fixed-width field");
    } else this.fail(`unsupported wire type ${wt}`);
  }
}

function decodeEntry(r: Reader): Entry {
  const e: Entry = { term: 0, index: 0, type: 0 as EntryType, data: EMPTY_BYTES };
  while (r.pos < r.end) {
    const key = r.uint();
    const wt = key & 7;
    const no = key >>> 3;
    if (no === 1 && wt === VARINT) e.type = r.uint() as EntryType;
    else if (no === 2 && wt === VARINT) e.term = r.uint();
    else if (no === 3 && wt === VARINT) e.index = r.uint();
    else if (no === 4 && wt === LEN) e.data = r.bytes();
    else r.skip(wt);
  }
  return e;
}

/** Decodes proto3 raftpb.Message bytes (see the module doc for errors). */
export function decodeMessage(bytes: Uint8Array): Message {
  const m: Message = {
    type: 0 as MessageType,
    to: 0n,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
  };
  const r = new Reader(bytes, 0, bytes.length);
  while (r.pos < r.end) {
    const key = r.uint();
    const wt = key & 7;
    const no = key >>> 3;
    if (wt === VARINT) {
      if (no === 1) m.type = r.uint() as MessageType;
      else if (no === 2) m.to = r.uint64();
      else if (no === 3) m.from = r.uint64();
      else if (no === 4) m.term = r.uint();
      else if (no === 5) m.logTerm = r.uint();
      else if (no === 6) m.index = r.uint();
      else if (no === 8) m.commit = r.uint();
      else if (no === 10) m.reject = r.uint64() !== 0n;
      else if (no === 11) m.rejectHint = r.uint();
      else r.skip(wt);
    } else if (wt === LEN && no === 7) {
      const n = r.uint();
      if (n > r.end - r.pos) throw new Error(`raftpb.Message: truncated entry at byte ${r.pos}`);
      m.entries.push(decodeEntry(new Reader(bytes, r.pos, r.pos + n)));
      r.pos += n;
    } else if (wt === LEN && no === 9) m.snapshot = snapshotFromProto(fromBinary(SnapshotSchema, r.bytes()));
    else if (wt === LEN && no === 12) m.context = r.bytes();
    else r.skip(wt);
  }
  return m;
}

/**
 * Decodes the peer stream's MessageBatch (proto/etcdts/peer.proto, `repeated bytes messages = 1`,
 * each a raftpb.Message) into its messages, in order; other fields are skipped. Throws as
 * decodeMessage does (`raftpb.Message: ...`) for a malformed batch or message.
 */
export function decodeMessageBatch(bytes: Uint8Array): Message[] {
  const out: Message[] = [];
  const r = new Reader(bytes, 0, bytes.length);
  while (r.pos < r.end) {
    const key = r.uint();
    if (key === tag(1, LEN)) out.push(decodeMessage(r.bytes()));
    else r.skip(key & 7);
  }
  return out;
}
