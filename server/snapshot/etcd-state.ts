/**
 * The state a snapshot carries, in etcd's terms, independent of where it comes from (our
 * SQLite backend, server/snapshot/sqlite-state.ts) or goes to (a bbolt file,
 * ./write-etcd-db.ts; our data dir, ./restore.ts). Runs under Bun and Deno.
 */
import type { KeyValueFields } from "../mvcc/key-value-wire.ts";
import type { EtcdMember } from "./etcd-schema.ts";

/**
 * One row of etcd's `key` bucket. A tombstone's `kv` holds only the key (other fields 0/empty).
 * `kv` is a KeyValue message or a plain object of its encoded fields.
 */
export type RevisionRecord = { main: number; sub: number; tombstone: boolean; kv: KeyValueFields };

/** A `key` bucket row for a layout pass: its revision and the size of its marshaled KeyValue, bytes. */
export type RevisionSize = { main: number; sub: number; tombstone: boolean; size: number };

/** A lease as etcd persists it: ID (int64), granted TTL and remaining TTL at the last checkpoint, seconds. */
export type LeaseRecord = { id: bigint; ttl: bigint; remainingTtl: bigint };

/** A user or role: name bytes and the marshaled authpb.User / authpb.Role. */
export type AuthRecord = { name: Uint8Array; data: Uint8Array };

/**
 * A consistent view of a member's state. Iterables are read once, in the order stated (the
 * order of etcd's bbolt keys), and may be backed by database cursors.
 */
export interface EtcdState {
  /** Every stored revision in (main, sub) order. */
  revisions(): Iterable<RevisionRecord>;
  /**
   * Optional, for a layout pass (./write-etcd-db.ts `layoutOnly`): the same rows as
   * revisions(), in the same order, with their encoded sizes, read without the values.
   */
  revisionSizes?(): Iterable<RevisionSize>;
  /** Leases by ascending ID (IDs are positive int64). */
  leases(): Iterable<LeaseRecord>;
  /** Users by name, byte order. */
  users(): Iterable<AuthRecord>;
  /** Roles by name, byte order. */
  roles(): Iterable<AuthRecord>;
  /** The membership (any order). */
  members(): EtcdMember[];
  /** IDs of removed members (any order). */
  removedMembers(): bigint[];
  /** Marshaled etcdserverpb.AlarmMember of each raised alarm (any order). */
  alarms(): Uint8Array[];
  /** Index of the last Raft entry applied (etcd's consistent index). */
  consistentIndex: bigint;
  /** Compacted revision (etcd's scheduledCompactRev); 0 or less when never compacted. */
  compactRevision: number;
  /**
   * Compaction whose old revisions are all deleted (etcd's finishedCompactRev): below
   * compactRevision while a compaction's deletes are pending; 0 or less for none.
   */
  finishedCompactRevision: number;
  authEnabled: boolean;
  authRevision: bigint;
  /** The cluster version, e.g. `3.4.0` (empty: not stored). */
  clusterVersion: string;
}
