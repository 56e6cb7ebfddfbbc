/**
 * The encoded size of a Raft message as etcd computes it: `raftpb.Message.Size()` of etcd 3.4's
 * gogoproto code (raft/raftpb/raft.pb.go), which is what rafthttp adds to
 * `etcd_network_peer_sent_bytes_total` / `received_bytes_total` for every message it streams
 * (etcdserver/api/rafthttp/stream.go, pipeline.go, snapshot_sender.go). Computed arithmetically,
 * without encoding anything.
 *
 * etcd's raftpb is proto2 with `(gogoproto.nullable) = false`: every scalar field and the
 * snapshot are always written, zero or not (unlike this project's proto3 wire messages); entry
 * data and the context only when present. Its ConfState also carries the joint-consensus fields
 * (voters_outgoing, learners_next: empty outside a joint configuration, which this Raft does not
 * use) and auto_leave (always 2 bytes).
 */
import type { Entry, Message, Snapshot } from "./types.ts";

/** Bytes of `v` as a protobuf varint (gogo's sovRaft); a negative bigint (an int64) takes 10. */
export function varintSize(v: number | bigint): number {
  if (typeof v === "bigint") {
    if (v < 0n) return 10;
    if (v >= 0x20_0000_0000_0000n) {
      // 54 to 64 significant bits (member IDs mostly): one shift instead of a bigint per 7 bits.
      const highBits = 32 - Math.clz32(Number(v >> 32n));
      return Math.ceil((32 + highBits) / 7);
    }
    v = Number(v);
  }
  // Compares for the common sizes (entry indexes, terms, lengths): this runs several times per entry.
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x20_0000) return 3;
  if (v < 0x1000_0000) return 4;
  let n = 4;
  for (v = Math.floor(v / 0x1000_0000); v >= 1; v = Math.floor(v / 0x80)) n++;
  return n;
}

/** A length-delimited field of `len` bytes: tag, length varint, payload. */
function delimited(len: number): number {
  return 1 + varintSize(len) + len;
}

function entrySize(e: Entry): number {
  let n = 1 + varintSize(e.type) + 1 + varintSize(e.term) + 1 + varintSize(e.index);
  if (e.data.length > 0) n += delimited(e.data.length);
  return n;
}

function snapshotSize(s: Snapshot | undefined): number {
  const meta = s?.metadata;
  let confState = 2; // auto_leave
  for (const id of meta?.confState.voters ?? []) confState += 1 + varintSize(id);
  for (const id of meta?.confState.learners ?? []) confState += 1 + varintSize(id);
  const metadata = delimited(confState) + 1 + varintSize(meta?.index ?? 0) + 1 + varintSize(meta?.term ?? 0);
  const data = s && s.data.length > 0 ? delimited(s.data.length) : 0;
  return data + delimited(metadata);
}

/** The always-written snapshot field of a message without snapshot, bytes. */
const NO_SNAPSHOT_FIELD_SIZE = delimited(snapshotSize(undefined));

/** etcd's `raftpb.Message.Size()` of `m`, bytes (snapshot data included, for MsgSnap). */
export function raftMessageSize(m: Message): number {
  let n =
    1 + varintSize(m.type) +
    1 + varintSize(m.to) +
    1 + varintSize(m.from) +
    1 + varintSize(m.term) +
    1 + varintSize(m.logTerm) +
    1 + varintSize(m.index);
  for (const e of m.entries) n += delimited(entrySize(e));
  n += 1 + varintSize(m.commit);
  n += m.snapshot ? delimited(snapshotSize(m.snapshot)) : NO_SNAPSHOT_FIELD_SIZE;
  n += 2; // reject
  n += 1 + varintSize(m.rejectHint);
  if (m.context.length > 0) n += delimited(m.context.length);
  return n;
}

/** Sum of {@link raftMessageSize} over `msgs`, bytes. */
export function raftMessagesSize(msgs: readonly Message[]): number {
  let n = 0;
  for (const m of msgs) n += raftMessageSize(m);
  return n;
}
