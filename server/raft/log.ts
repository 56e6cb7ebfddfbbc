/**
 * RaftLog: the node's view of the replicated log = stable entries (Storage) + unstable tail, with the
 * commit and applied cursors. Implements the AppendEntries consistency check and conflict truncation
 * (Raft paper 5.3), the up-to-date check for votes (5.4.1) and the conflict search used for fast back-off.
 *
 * Invariant: applied <= committed <= lastIndex(). Terms/indexes are numbers; sizes are bytes.
 * Mirrors go.etcd.io/etcd/raft/log.go in behaviour.
 */
import { RaftError, isRaftError } from "./errors.ts";
import { Unstable } from "./log-unstable.ts";
import type { Storage } from "./storage.ts";
import { type Entry, type Snapshot, limitSize } from "./types.ts";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index the application reported applied. */
  applied: number;
  /** Byte limit of committed entries handed out per Ready. */
  readonly maxNextEntsSize: number;

  constructor(storage: Storage, maxNextEntsSize: number = Infinity) {
    this.storage = storage;
    this.maxNextEntsSize = maxNextEntsSize;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /**
   * Follower side of AppendEntries: when our entry at `index` has term `logTerm`, appends `ents`
   * (truncating a conflicting suffix), advances commit to min(committed, last new index) and returns the
   * last new index; returns undefined when the consistency check fails.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new Error(`entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries to the unstable tail (truncating after ents[0].index-1); returns the new last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) throw new Error(`after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` whose term differs from ours (or that we lack), 0 when all match.
   * Entries must be contiguous.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast back-off helper (thesis 5.3 / etcd's findConflictByTerm): the largest index <= `index` whose term
   * is <= `term`, or the first index we cannot read (compacted) when the search runs out. Entries above that
   * index certainly do not match a log whose entry at `index` has term `term`.
   */
  findConflictByTerm(index: number, term: number): number {
    const last = this.lastIndex();
    if (index > last) return index;
    for (;;) {
      const t = this.term(index);
      if (t === undefined || t <= term) return index;
      index--;
    }
  }

  /** Unstable entries (to persist). */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed but not yet applied entries, at most maxNextEntsSize bytes (at least one). */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize) ?? [];
    return [];
  }

  /** True when nextEnts() would return something. */
  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** The unstable snapshot if any, else Storage's (may throw ErrSnapshotTemporarilyUnavailable). */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Raises the commit index (never lowers it). */
  commitTo(toCommit: number): void {
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        throw new Error(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
      }
      this.committed = toCommit;
    }
  }

  /** Records that the application applied up to i. */
  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new Error(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new Error("unexpected error when getting the last term");
    return t;
  }

  /**
   * Term of entry i: 0 outside [firstIndex()-1, lastIndex()] (like etcd), undefined when compacted or
   * unavailable in Storage.
   */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return 0;
    const ut = this.unstable.maybeTerm(i);
    if (ut !== undefined) return ut;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (isRaftError(e, "ErrCompacted") || isRaftError(e, "ErrUnavailable")) return undefined;
      throw e;
    }
  }

  /** Term of entry i, 0 when it cannot be read. */
  termOrZero(i: number): number {
    return this.term(i) ?? 0;
  }

  /** Entries from i to the end, at most maxSize bytes; undefined when i is compacted. */
  entries(i: number, maxSize: number): Entry[] | undefined {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Every entry still held (tests and invariant checks). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), Infinity) ?? [];
  }

  /** Raft paper 5.4.1: a candidate with last (lasti, term) is at least as up to date as us. */
  isUpToDate(lasti: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.term(i);
    return t !== undefined && t === term;
  }

  /**
   * Leader commit rule (Raft paper 5.4.2): commits maxIndex only if it is above the current commit and its
   * entry is from the leader's current term. Returns true when the commit index moved.
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Resets the log to an incoming snapshot (committed jumps to its index). */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) up to maxSize bytes (at least one); undefined when lo is compacted. */
  slice(lo: number, hi: number, maxSize: number): Entry[] | undefined {
    const fi = this.firstIndex();
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    if (lo < fi) return undefined;
    if (hi > this.lastIndex() + 1) throw new Error(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uoff = this.unstable.offset;
    if (lo < uoff) {
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, Math.min(hi, uoff), maxSize);
      } catch (e) {
        if (isRaftError(e, "ErrCompacted")) return undefined;
        if (isRaftError(e, "ErrUnavailable")) {
          throw new RaftError("ErrUnavailable", `entries[${lo}:${Math.min(hi, uoff)}) is unavailable from storage`);
        }
        throw e;
      }
      // Storage hit the size limit: stop here.
      if (stored.length < Math.min(hi, uoff) - lo) return stored;
      ents = stored;
    }
    if (hi > uoff) {
      const u = this.unstable.slice(Math.max(lo, uoff), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxSize);
  }
}
