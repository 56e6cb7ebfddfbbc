/**
 * Plain data types of the Raft core (server/raft). They mirror etcd's raftpb messages
 * (proto/raftpb/raft.proto) but are ordinary objects for speed: no protobuf runtime on the hot path.
 * `wire.ts` converts them to and from the protobuf messages the transport sends.
 *
 * Representation decisions:
 * - Terms and indexes are JS `number`s (exact up to 2^53; a log never gets near that).
 * - Node IDs are `bigint` (etcd member IDs are random uint64); `None` (0n) means "no node".
 * - Payloads are `Uint8Array`, opaque to Raft.
 *
 * Mirrors go.etcd.io/etcd/raft/raftpb and raft/node.go (SoftState, ReadState).
 */
import { ConfChangeType, EntryType, MessageType } from "../../proto/gen/raftpb/raft_pb.ts";

export { ConfChangeType, EntryType, MessageType };

/** A Raft node (member) ID: uint64 as bigint. 0n is reserved for "none". */
export type NodeId = bigint;

/** Placeholder node ID: no leader / no vote. */
export const None: NodeId = 0n;

/** Shared empty byte array (never mutate). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** One log entry. `data` empty with type EntryNormal is a leader's no-op entry. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** Cluster membership: voters count in quorums, learners only receive the log. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** Metadata of a snapshot: the last covered entry and the membership at that point. */
export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/** A state machine image covering the log up to metadata.index. An index of 0 means "no snapshot". */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/**
 * A Raft message. Fields not used by a message type are 0 / empty.
 * See proto/raftpb/raft.proto for the meaning of each field per type.
 */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

/** State persisted before sending the messages of the same Ready (Raft paper fig. 2 "persistent state"). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** Volatile state worth telling the application about: who leads and our role. */
export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

/** Roles of a Raft node. PreCandidate is the PreVote phase (thesis 9.6). */
export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

/** A single-member configuration change (payload of an EntryConfChange entry). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context: Uint8Array;
  /** Opaque request ID for the application (etcd's server uses it to match the caller). */
  id: bigint;
}

/**
 * Answer to a ReadIndex request: once the local applied index reaches `index`, a read started when
 * the request was made is linearizable. `requestCtx` is the context passed to readIndex().
 */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** Builds a message with every field defaulted; pass only what the message type uses. */
export function makeMessage(m: Partial<Message> & { type: MessageType }): Message {
  return {
    type: m.type,
    to: m.to ?? None,
    from: m.from ?? None,
    term: m.term ?? 0,
    logTerm: m.logTerm ?? 0,
    index: m.index ?? 0,
    entries: m.entries ?? [],
    commit: m.commit ?? 0,
    snapshot: m.snapshot,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0,
    context: m.context ?? EMPTY_BYTES,
  };
}

/** An empty snapshot (index 0, no members). */
export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { confState: { voters: [], learners: [] }, index: 0, term: 0 } };
}

/** True when the snapshot is the "no snapshot" value (index 0). */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** True when the hard state is all zero (nothing to persist). */
export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === None && h.commit === 0;
}

/** Field-wise equality of two hard states. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Message types that are only ever stepped locally and never sent over the network. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

/** Message types that answer a request (dropped when the sender is not in the configuration). */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** Approximate encoded size of an entry in bytes (protobuf framing + payload), used for batching limits. */
export function entrySize(e: Entry): number {
  return e.data.length + varintSize(e.term) + varintSize(e.index) + varintSize(e.data.length) + 5;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Returns the longest prefix of `ents` whose summed entrySize() is <= maxSize, but always at least one
 * entry (so a single oversized entry still travels). maxSize in bytes; Infinity = no limit.
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0 || maxSize === Infinity) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** Summed payload size in bytes (data only), used by the uncommitted-size limit. */
export function payloadSize(ents: Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.length;
  return s;
}
