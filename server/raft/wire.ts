/**
 * Conversions between the core's plain objects (types.ts; numbers for terms/indexes) and the protobuf
 * messages of proto/raftpb/raft.proto (bigint for every uint64), plus binary encode/decode helpers for
 * conf change entry payloads. The transport's Raft messages are encoded by message-codec.ts.
 *
 * Errors: decode functions throw the protobuf runtime's Error on malformed bytes; toNumber throws a
 * RangeError for values above Number.MAX_SAFE_INTEGER (never produced by a sane log).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as pb from "../../proto/gen/raftpb/raft_pb.ts";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  EMPTY_BYTES,
  emptySnapshot,
} from "./types.ts";

function toNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`raft index/term ${v} exceeds 2^53`);
  return Number(v);
}

export function entryToProto(e: Entry): pb.Entry {
  return create(pb.EntrySchema, { term: BigInt(e.term), index: BigInt(e.index), type: e.type, data: e.data });
}

export function entryFromProto(e: pb.Entry): Entry {
  return { term: toNumber(e.term), index: toNumber(e.index), type: e.type, data: e.data ?? EMPTY_BYTES };
}

export function confStateToProto(cs: ConfState): pb.ConfState {
  return create(pb.ConfStateSchema, { voters: [...cs.voters], learners: [...cs.learners] });
}

export function confStateFromProto(cs: pb.ConfState | undefined): ConfState {
  return { voters: [...(cs?.voters ?? [])], learners: [...(cs?.learners ?? [])] };
}

export function snapshotToProto(s: Snapshot): pb.Snapshot {
  return create(pb.SnapshotSchema, {
    data: s.data,
    metadata: {
      confState: confStateToProto(s.metadata.confState),
      index: BigInt(s.metadata.index),
      term: BigInt(s.metadata.term),
    },
  });
}

export function snapshotFromProto(s: pb.Snapshot | undefined): Snapshot {
  if (!s || !s.metadata) return emptySnapshot();
  return {
    data: s.data,
    metadata: {
      confState: confStateFromProto(s.metadata.confState),
      index: toNumber(s.metadata.index),
      term: toNumber(s.metadata.term),
    },
  };
}

export function hardStateToProto(h: HardState): pb.HardState {
  return create(pb.HardStateSchema, { term: BigInt(h.term), vote: h.vote, commit: BigInt(h.commit) });
}

export function hardStateFromProto(h: pb.HardState): HardState {
  return { term: toNumber(h.term), vote: h.vote, commit: toNumber(h.commit) };
}

export function messageToProto(m: Message): pb.Message {
  return create(pb.MessageSchema, {
    type: m.type,
    to: m.to,
    from: m.from,
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map(entryToProto),
    commit: BigInt(m.commit),
    snapshot: m.snapshot ? snapshotToProto(m.snapshot) : undefined,
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context,
  });
}

export function messageFromProto(m: pb.Message): Message {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: toNumber(m.term),
    logTerm: toNumber(m.logTerm),
    index: toNumber(m.index),
    entries: m.entries.map(entryFromProto),
    commit: toNumber(m.commit),
    snapshot: m.snapshot ? snapshotFromProto(m.snapshot) : undefined,
    reject: m.reject,
    rejectHint: toNumber(m.rejectHint),
    context: m.context,
  };
}

/** Encodes a conf change as the data of an EntryConfChange entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return toBinary(pb.ConfChangeSchema, create(pb.ConfChangeSchema, cc));
}

/** Decodes the data of an EntryConfChange entry. Throws on malformed input. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const cc = fromBinary(pb.ConfChangeSchema, data);
  return { type: cc.type, nodeId: cc.nodeId, context: cc.context, id: cc.id };
}
