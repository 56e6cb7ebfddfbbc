/**
 * Unstable: the tail of the Raft log (and possibly an incoming snapshot) not yet handed to Storage.
 * Entries here are returned in Ready.entries and dropped once the application reports them persisted.
 * `entries[i]` has index `offset + i`.
 *
 * Mirrors go.etcd.io/etcd/raft/log_unstable.go in behaviour.
 */
import type { Entry, Snapshot } from "./types.ts";

export class Unstable {
  /** Incoming snapshot not yet persisted, if any. */
  snapshot: Snapshot | undefined = undefined;
  /** Entries not yet persisted. */
  entries: Entry[] = [];
  /** Index of entries[0]. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** First index known from an unstable snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** Last index of the unstable entries or snapshot, if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  /** Term of entry i when it is held here. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries up to (i, t) were persisted: drop them (unless they were overwritten meanwhile). */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
    }
  }

  /** The snapshot at index i was persisted. */
  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with an incoming snapshot. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends entries, truncating any conflicting unstable suffix from ents[0].index on. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // The whole unstable part is replaced (and possibly some stable entries get overwritten on persist).
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.slice(this.offset, after).concat(ents);
    }
  }

  /** Unstable entries in [lo, hi); the bounds must be inside [offset, offset+len]. */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    if (lo > hi || lo < this.offset || hi > upper) {
      throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
