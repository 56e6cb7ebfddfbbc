/**
 * Raft's Storage (server/raft/storage.ts) over the SQLite tables: `raft_log` for entries,
 * `hard_state` for (term, vote, commit), and `meta` for the latest snapshot's index, term and
 * membership (ConfState). Recent entries are also kept in memory (a contiguous tail) so the
 * leader replicates without reading SQLite.
 *
 * A snapshot carries no data here: the peer transport sends the state-machine image beside the
 * message, a copy of the backend file made when the MsgSnap is sent (server/node/
 * raft-snapshot-image.ts), as etcd's rafthttp streams its bbolt file. The image holds the state
 * machine at some applied index >= the snapshot index; the receiver skips entries at or below
 * the applied index stored inside it (etcd's consistent index trick).
 * Mirrors etcd's raft.MemoryStorage + WAL + snapshotter (raft/storage.go, etcdserver/storage.go).
 */
import type { Database } from "bun:sqlite";
import { RaftError } from "../raft/errors.ts";
import type { InitialState, Storage } from "../raft/storage.ts";
import { EMPTY_BYTES, limitSize, type ConfState, type Entry, type HardState, type Snapshot } from "../raft/types.ts";
import { HardStateTable } from "./hard-state.ts";
import type { Meta } from "./meta.ts";
import { RaftLog } from "./raft-log.ts";
import { RaftMetaKeys } from "./raft-meta-keys.ts";

/** `meta` keys of the latest snapshot and of the log's compaction point (entries up to it are gone). */
const { snapIndex: SNAP_INDEX, snapTerm: SNAP_TERM, confState: CONF_STATE, compactIndex: COMPACT_INDEX, compactTerm: COMPACT_TERM } = RaftMetaKeys;

/** Entries kept in the in-memory tail, at most. */
const TAIL_ENTRIES = 20000;
/**
 * Released entries (see releaseTail) the tail keeps at its end, at most this many and at most
 * TAIL_KEEP_BYTES of their data: Raft looks up the terms of the latest entries and probes
 * followers a little way back, and those reads should not go to SQLite. 1024 entries of a 256 B
 * put are about 0.4 MB; 1024 entries of 64 KiB values would be 64 MiB nobody reads, hence the
 * byte cap (16 such entries).
 */
const TAIL_KEEP_ENTRIES = 1024;
/**
 * Data of released entries the tail keeps at its end, bytes (see TAIL_KEEP_ENTRIES). The tail is
 * cut back to this only once it holds about twice as much (releaseTail copies the tail, and the
 * copy is paid for by as many dropped bytes as kept ones), so up to 2 MiB of released data stay.
 */
const TAIL_KEEP_BYTES = 1024 * 1024;
/** Entry data kept in the in-memory tail, bytes at most (large values must not pin the log in memory). */
const TAIL_BYTES = 64 * 1024 * 1024;

/**
 * Compacted entries deleted from `raft_log` per trimLog call, at most. Log compaction itself is
 * logical (the compaction index moves in `meta`); the rows go in these steps, one per Ready, so
 * no Ready transaction deletes a whole snapshot interval: 95,000 rows (the default
 * `--snapshot-count` less the 5,000 kept) took about 110 ms in one DELETE, 4,096 take a few ms.
 */
export const LOG_TRIM_BATCH = 4096;

const dataBytes = (entries: readonly Entry[]) => entries.reduce((n, e) => n + e.data.length, 0);

function encodeConfState(cs: ConfState): string {
  return JSON.stringify({ voters: cs.voters.map(String), learners: cs.learners.map(String) });
}

function decodeConfState(s: string | undefined): ConfState {
  if (!s) return { voters: [], learners: [] };
  const o = JSON.parse(s) as { voters: string[]; learners: string[] };
  return { voters: o.voters.map(BigInt), learners: o.learners.map(BigInt) };
}

/** Raft Storage backed by SQLite; writes join the caller's transaction if one is open. */
export class SqliteRaftStorage implements Storage {
  private readonly log: RaftLog;
  private readonly hardStates: HardStateTable;
  private snapIndex: number;
  private snapTerm: number;
  private confState: ConfState;
  private compactIndex: number;
  private compactTerm: number;
  private last: number;
  /** Contiguous entries ending at `last` (possibly empty). */
  private tail: Entry[] = [];
  /** Sum of the tail's entry data, bytes. */
  private tailBytes = 0;
  /** Every `raft_log` row below this index is deleted; rows from here to the compaction index await trimLog. */
  private trimmedBelow: number;

  constructor(
    private readonly db: Database,
    private readonly meta: Meta,
  ) {
    this.log = new RaftLog(db);
    this.hardStates = new HardStateTable(db);
    this.snapIndex = meta.getNumber(SNAP_INDEX, 0);
    this.snapTerm = meta.getNumber(SNAP_TERM, 0);
    this.confState = decodeConfState(meta.getString(CONF_STATE));
    this.compactIndex = meta.getNumber(COMPACT_INDEX, 0);
    this.compactTerm = meta.getNumber(COMPACT_TERM, 0);
    this.last = Math.max(this.log.lastIndex(), this.compactIndex);
    this.trimmedBelow = this.log.firstIndex() || this.compactIndex + 1;
  }

  initialState(): InitialState {
    return { hardState: this.hardStates.load(), confState: this.confState };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo <= this.compactIndex) throw new RaftError("ErrCompacted");
    if (hi > this.last + 1) throw new RaftError("ErrUnavailable", `entries' hi(${hi}) is out of bound lastindex(${this.last})`);
    if (lo >= hi) return [];
    const tailStart = this.last - this.tail.length + 1;
    if (this.tail.length > 0 && lo >= tailStart) {
      return limitSize(this.tail.slice(lo - tailStart, hi - tailStart), maxSize);
    }
    const rows = this.log.entries(lo, hi, maxSize);
    if (rows.length === 0) throw new RaftError("ErrUnavailable");
    return rows as Entry[];
  }

  term(i: number): number {
    if (i === this.compactIndex) return this.compactTerm;
    if (i < this.compactIndex) throw new RaftError("ErrCompacted");
    if (i > this.last) throw new RaftError("ErrUnavailable");
    const tailStart = this.last - this.tail.length + 1;
    if (this.tail.length > 0 && i >= tailStart) return this.tail[i - tailStart]!.term;
    const t = this.log.term(i);
    if (t === undefined) throw new RaftError("ErrUnavailable");
    return t;
  }

  lastIndex(): number {
    return this.last;
  }

  firstIndex(): number {
    return this.compactIndex + 1;
  }

  snapshot(): Snapshot {
    return {
      data: EMPTY_BYTES,
      metadata: { index: this.snapIndex, term: this.snapTerm, confState: this.confState },
    };
  }

  /** Membership as of the latest snapshot. */
  snapshotConfState(): ConfState {
    return this.confState;
  }

  /** Index of the latest snapshot (0 = none). */
  snapshotIndex(): number {
    return this.snapIndex;
  }

  /** Appends entries, replacing any stored entries from `entries[0].index` on (a new leader's tail). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first <= this.compactIndex) {
      entries = entries.filter((e) => e.index > this.compactIndex);
      if (entries.length === 0) return;
    }
    this.log.append(entries);
    const tailStart = this.last - this.tail.length + 1;
    const start = entries[0]!.index;
    if (this.tail.length > 0 && start >= tailStart && start <= this.last + 1) {
      this.tailBytes -= dataBytes(this.tail.slice(start - tailStart));
      this.tail.length = start - tailStart;
      for (const e of entries) this.tail.push(e);
      this.tailBytes += dataBytes(entries);
    } else {
      this.tail = [...entries];
      this.tailBytes = dataBytes(entries);
    }
    if (this.tail.length > TAIL_ENTRIES || this.tailBytes > TAIL_BYTES) this.trimTail();
    this.last = entries[entries.length - 1]!.index;
  }

  /**
   * Lets the in-memory tail forget the entries up to `index` (they stay in SQLite, where
   * entries() and term() still read them): the caller needs them no more, having applied them
   * and, as a leader, seen every follower acknowledge them. Of those, the tail keeps the latest
   * while it holds at most TAIL_KEEP_ENTRIES entries and TAIL_KEEP_BYTES of data, and always the
   * last entry (its term is read at every append). The tail is copied only when at least as many
   * entries, or as many bytes, go as stay, so that releasing a few entries per Ready costs O(1)
   * per entry.
   */
  releaseTail(index: number): void {
    const tailStart = this.last - this.tail.length + 1;
    const releasable = Math.min(index, this.last - 1) - tailStart + 1;
    if (releasable <= 0) return;
    let drop = Math.min(releasable, Math.max(0, this.tail.length - TAIL_KEEP_ENTRIES));
    // Below 2 × TAIL_KEEP_BYTES the bytes dropped cannot reach the bytes kept: only the count matters.
    if (drop < this.tail.length - drop && this.tailBytes < 2 * TAIL_KEEP_BYTES) return;
    let bytes = 0;
    for (let i = 0; i < drop; i++) bytes += this.tail[i]!.data.length;
    while (drop < releasable && this.tailBytes - bytes > TAIL_KEEP_BYTES) bytes += this.tail[drop++]!.data.length;
    if (drop === 0 || (drop < this.tail.length - drop && bytes < this.tailBytes - bytes)) return;
    this.tail = this.tail.slice(drop);
    this.tailBytes -= bytes;
  }

  /** Drops the tail's older half (by count and by bytes); those entries are read from SQLite. */
  private trimTail(): void {
    let drop = Math.max(0, this.tail.length - TAIL_ENTRIES / 2);
    let bytes = dataBytes(this.tail.slice(0, drop));
    while (drop < this.tail.length - 1 && this.tailBytes - bytes > TAIL_BYTES / 2) bytes += this.tail[drop++]!.data.length;
    this.tail = this.tail.slice(drop);
    this.tailBytes -= bytes;
  }

  /** Persists the hard state. */
  setHardState(hs: HardState): void {
    this.hardStates.save(hs);
  }

  /**
   * Records that everything up to `index` (term `term`, membership `confState`) is in the state
   * machine, and drops log entries up to `index - keep` (Raft may still need the last few to
   * catch up slow followers without a snapshot). At the latest snapshot's own index it only
   * drops entries (a smaller `keep`). Call inside the apply transaction.
   */
  createSnapshot(index: number, term: number, confState: ConfState, keep: number): void {
    if (index < this.snapIndex) return;
    if (index > this.snapIndex) this.recordSnapshot(index, term, confState);
    const compactTo = index - keep;
    if (compactTo > this.compactIndex) this.compactLogTo(compactTo);
  }

  /** Remembers (and persists) the latest snapshot's position and membership. */
  private recordSnapshot(index: number, term: number, confState: ConfState): void {
    this.snapIndex = index;
    this.snapTerm = term;
    this.confState = confState;
    this.meta.setNumber(SNAP_INDEX, index);
    this.meta.setNumber(SNAP_TERM, term);
    this.meta.setString(CONF_STATE, encodeConfState(confState));
  }

  /** Compacts the log through `index`, remembering its term; trimLog deletes the rows later. */
  private compactLogTo(index: number): void {
    this.compactTerm = this.term(index);
    this.compactIndex = index;
    this.meta.setNumber(COMPACT_INDEX, index);
    this.meta.setNumber(COMPACT_TERM, this.compactTerm);
    const tailStart = this.last - this.tail.length + 1;
    if (this.tail.length > 0 && index >= tailStart) {
      this.tailBytes -= dataBytes(this.tail.slice(0, index - tailStart + 1));
      this.tail = this.tail.slice(index - tailStart + 1);
    }
  }

  /** Replaces the log with a received snapshot's position (state machine data handled by the caller). */
  applySnapshot(snap: Snapshot): void {
    const { index, term, confState } = snap.metadata;
    if (index <= this.snapIndex) throw new RaftError("ErrSnapOutOfDate");
    this.recordSnapshot(index, term, confState);
    this.compactIndex = index;
    this.compactTerm = term;
    this.meta.setNumber(COMPACT_INDEX, index);
    this.meta.setNumber(COMPACT_TERM, term);
    this.log.truncateFrom(index + 1);
    this.trimmedBelow = this.log.firstIndex() || index + 1;
    this.tail = [];
    this.tailBytes = 0;
    this.last = index;
  }

  /**
   * Deletes up to `maxRows` (default LOG_TRIM_BATCH) of the `raft_log` rows at or below the
   * compaction index, oldest first. Returns true while rows are left to delete. Call inside the
   * Ready transaction (or a transaction of its own between Readies); after a restart it resumes
   * where the deleted rows end.
   */
  trimLog(maxRows = LOG_TRIM_BATCH): boolean {
    const target = this.compactIndex + 1;
    if (this.trimmedBelow >= target) return false;
    const to = Math.min(target, this.trimmedBelow + maxRows);
    this.log.compactBefore(to);
    this.trimmedBelow = to;
    return to < target;
  }
}
