/**
 * Safety checker for the deterministic Raft simulation: records what every node reports (leaders, logs,
 * commits, applied entries, read answers) and throws SafetyViolation as soon as a Raft safety property
 * breaks (Raft paper fig. 3):
 * - Election Safety: at most one leader per term.
 * - Log Matching: entries with the same index and term carry the same data and follow the same previous
 *   term (by induction: identical prefixes).
 * - Leader Completeness: a new leader's log holds every entry committed before it.
 * - State Machine Safety: no two nodes apply different entries at one index (checked on the applied entry
 *   and on the running state hash, so snapshots are covered too).
 * - Linearizable reads: a ReadIndex answer is never below a write acknowledged before the read began.
 */
import type { Entry, NodeId } from "../types.ts";
import type { RaftLog } from "../log.ts";

/** Thrown when a safety property is violated. */
export class SafetyViolation extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = "SafetyViolation";
  }
}

/** Printable identity of an entry's payload (latin1 of the bytes). */
export function dataKey(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** Identity of an entry as applied: term + type + payload. */
export function entryIdentity(e: Entry): string {
  return `${e.term}/${e.type}/${dataKey(e.data)}`;
}

/** 32-bit FNV-1a step over a string: the state machine's running hash. */
export function hashStep(h: number, s: string): number {
  h ^= 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SafetyChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** index -> term -> { data key, previous entry's term (-1 unknown) } */
  private readonly logEntries = new Map<number, Map<number, { data: string; prevTerm: number }>>();
  /** index -> term of the committed entry */
  private readonly committedTerm = new Map<number, number>();
  maxCommitted = 0;
  /** index -> applied identity and state hash after applying it */
  private readonly applied = new Map<number, { id: string; hash: number }>();
  /** Highest index of a client write acknowledged (applied somewhere). */
  ackedWriteIndex = 0;
  /** Number of distinct client writes applied. */
  writesApplied = 0;
  private readonly pendingReads = new Map<string, number>();
  checks = 0;

  /** A node is leader at `term` (Leader Completeness is checked the first time). */
  observeLeader(id: NodeId, term: number, log: RaftLog): void {
    const prev = this.leaderByTerm.get(term);
    if (prev === undefined) {
      this.leaderByTerm.set(term, id);
      this.checkCompleteness(id, term, log);
    } else if (prev !== id) {
      throw new SafetyViolation(`two leaders in term ${term}: ${prev} and ${id}`);
    }
  }

  private checkCompleteness(id: NodeId, term: number, log: RaftLog): void {
    const first = log.firstIndex();
    // Entries below `first` are inside the leader's snapshot, which only holds committed entries.
    for (let i = Math.max(first, 1); i <= this.maxCommitted; i++) {
      const ct = this.committedTerm.get(i);
      if (ct === undefined) continue;
      const t = log.term(i);
      if (t !== ct) {
        throw new SafetyViolation(`leader ${id} of term ${term} lacks committed entry ${i} (term ${ct}); has term ${t}`);
      }
      this.checks++;
    }
  }

  /** Entries a node just persisted (its log now holds them). */
  observeAppend(id: NodeId, ents: Entry[], log: RaftLog): void {
    for (const e of ents) {
      const prev = log.term(e.index - 1);
      const prevTerm = prev === undefined ? -1 : prev;
      const data = dataKey(e.data);
      let byTerm = this.logEntries.get(e.index);
      if (!byTerm) {
        byTerm = new Map();
        this.logEntries.set(e.index, byTerm);
      }
      const known = byTerm.get(e.term);
      if (!known) {
        byTerm.set(e.term, { data, prevTerm });
      } else {
        if (known.data !== data) {
          throw new SafetyViolation(`log matching: node ${id} entry ${e.index}/${e.term} has different data`);
        }
        if (known.prevTerm >= 0 && prevTerm >= 0 && known.prevTerm !== prevTerm) {
          throw new SafetyViolation(
            `log matching: node ${id} entry ${e.index}/${e.term} follows term ${prevTerm}, another log has ${known.prevTerm}`,
          );
        }
        if (known.prevTerm < 0) known.prevTerm = prevTerm;
      }
      this.checks++;
    }
  }

  /** A node's commit index moved from `from` to `to` (exclusive, inclusive). */
  observeCommit(id: NodeId, from: number, to: number, log: RaftLog): void {
    for (let i = from + 1; i <= to; i++) {
      const t = log.term(i);
      if (t === undefined || t === 0) continue; // compacted: covered by the snapshot hash check
      const ct = this.committedTerm.get(i);
      if (ct === undefined) this.committedTerm.set(i, t);
      else if (ct !== t) throw new SafetyViolation(`node ${id} committed ${i} at term ${t}, another node at term ${ct}`);
      this.checks++;
    }
    if (to > this.maxCommitted) this.maxCommitted = to;
  }

  /** A node applied entry e, reaching state hash `hash`. */
  observeApply(id: NodeId, e: Entry, hash: number): void {
    const ident = entryIdentity(e);
    const known = this.applied.get(e.index);
    if (!known) {
      this.applied.set(e.index, { id: ident, hash });
      if (ident.includes("/0/w")) {
        this.writesApplied++;
        if (e.index > this.ackedWriteIndex) this.ackedWriteIndex = e.index;
      }
    } else if (known.id !== ident || known.hash !== hash) {
      throw new SafetyViolation(`state machine safety: node ${id} applied ${ident} at ${e.index}, another node ${known.id}`);
    }
    this.checks++;
  }

  /** A node restored its state machine from a snapshot at `index` with state hash `hash`. */
  observeSnapshot(id: NodeId, index: number, hash: number): void {
    const known = this.applied.get(index);
    if (known && known.hash !== hash) throw new SafetyViolation(`node ${id} restored a snapshot at ${index} with a different state`);
    this.checks++;
  }

  /** A read with context `ctx` starts now: remember the writes it must observe. */
  observeReadStart(ctx: string): void {
    this.pendingReads.set(ctx, this.ackedWriteIndex);
  }

  /** A read was answered with read index `index`. */
  observeReadAnswer(id: NodeId, ctx: string, index: number): void {
    const min = this.pendingReads.get(ctx);
    if (min === undefined) throw new SafetyViolation(`node ${id} answered an unknown read ${ctx}`);
    if (index < min) {
      throw new SafetyViolation(`node ${id} read ${ctx} at index ${index} below acknowledged write ${min}`);
    }
    this.checks++;
  }
}
