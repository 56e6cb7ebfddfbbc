/**
 * MemoryStorage: an in-memory Storage (tests, the deterministic simulation, and the model the SQLite
 * storage follows). Holds the hard state, the latest snapshot and the stable entries after it.
 *
 * Mirrors go.etcd.io/etcd/raft/storage.go (MemoryStorage) in behaviour.
 */
import { RaftError } from "./errors.ts";
import type { InitialState, Storage } from "./storage.ts";
import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  EMPTY_BYTES,
  EntryType,
  None,
  emptySnapshot,
  limitSize,
} from "./types.ts";

/** In-memory Storage. `ents[0]` is a dummy entry carrying the snapshot's index and term. */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: None, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES }];

  /** Creates an empty storage, optionally with an initial membership (a snapshot at index 0). */
  constructor(initialConf?: ConfState) {
    if (initialConf) this.snap.metadata.confState = { voters: [...initialConf.voters], learners: [...initialConf.learners] };
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  /** Saves the hard state (call with Ready.hardState). */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new RaftError("ErrCompacted");
    if (hi > this.lastIndex() + 1) {
      throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    if (this.ents.length === 1) throw new RaftError("ErrUnavailable");
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new RaftError("ErrCompacted");
    if (i - offset >= this.ents.length) throw new RaftError("ErrUnavailable");
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Replaces the contents with a snapshot received from the leader (call with Ready.snapshot).
   * Throws ErrSnapOutOfDate when it is not newer than the current snapshot.
   */
  applySnapshot(s: Snapshot): void {
    if (this.snap.metadata.index >= s.metadata.index) throw new RaftError("ErrSnapOutOfDate");
    this.snap = s;
    this.ents = [{ term: s.metadata.term, index: s.metadata.index, type: EntryType.EntryNormal, data: EMPTY_BYTES }];
  }

  /**
   * Makes a snapshot at applied index i (i <= lastIndex) with the application's state `data` and the
   * membership `cs` in force at i. Does not compact: call compact() afterwards.
   * Throws ErrSnapOutOfDate when i is not newer than the current snapshot.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new RaftError("ErrSnapOutOfDate");
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const offset = this.ents[0]!.index;
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ? { voters: [...cs.voters], learners: [...cs.learners] } : this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /**
   * Discards entries up to and including compactIndex (which must be <= the applied index and usually the
   * latest snapshot's index). Throws ErrCompacted when already compacted that far.
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new RaftError("ErrCompacted");
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const head: Entry = { term: this.ents[i]!.term, index: this.ents[i]!.index, type: EntryType.EntryNormal, data: EMPTY_BYTES };
    this.ents = [head, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries (call with Ready.entries); entries overlapping the stored tail replace it (a leader
   * overwrote a conflicting suffix). Entries already compacted are skipped. Throws on a gap.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    if (this.ents.length > offset) {
      this.ents = this.ents.slice(0, offset).concat(entries);
    } else if (this.ents.length === offset) {
      for (const e of entries) this.ents.push(e);
    } else {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`);
    }
  }
}
