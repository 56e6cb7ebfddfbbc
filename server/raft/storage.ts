/**
 * The Storage contract: how the Raft core reads the *stable* (persisted) part of its log, hard state and
 * latest snapshot. Raft only reads through it; the application writes to it while handling a Ready
 * (append entries, set hard state, apply snapshot) and compacts it after taking snapshots.
 *
 * All methods are synchronous (bun:sqlite is). Indexes and terms are numbers; sizes are bytes.
 * Mirrors go.etcd.io/etcd/raft/storage.go (Storage interface).
 */
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";

/** Persisted state read once at start-up. */
export interface InitialState {
  hardState: HardState;
  /** Membership as of the latest snapshot (entries after it re-apply their own conf changes). */
  confState: ConfState;
}

/** Read side of Raft's persisted log. */
export interface Storage {
  /** Hard state and snapshot membership saved before a restart. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at most maxSize bytes in total (by entrySize) but always at least one entry if any.
   * Throws RaftError ErrCompacted when lo <= the snapshot index, ErrUnavailable when the range is not stored.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /**
   * Term of entry i, for i in [firstIndex()-1, lastIndex()] (firstIndex()-1 is the snapshot's index and term).
   * Throws ErrCompacted below that, ErrUnavailable above lastIndex().
   */
  term(i: number): number;
  /** Index of the last stored entry (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** Index of the first entry that may be read with entries(): snapshot index + 1. */
  firstIndex(): number;
  /**
   * The most recent snapshot, sent to followers whose next entry is compacted. Its ConfState must include
   * every member the leader replicates to (a follower ignores a snapshot that does not list it), so take a
   * snapshot after applying a conf change that adds a member, or build a fresh one here (etcd sends a
   * snapshot of the current applied state). Throws ErrSnapshotTemporarilyUnavailable when it is being
   * made; Raft then retries later.
   */
  snapshot(): Snapshot;
}
