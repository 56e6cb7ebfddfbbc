/**
 * The request IDs of the most recently applied entries, so that an entry proposed twice is
 * applied once. A proposal reaches the log twice when the network delivers a forwarded MsgProp
 * twice (a follower forwards proposals to the leader; the simulated network duplicates messages,
 * and so may any transport that retries) or the same request is proposed again: both copies
 * carry the same request ID (InternalRaftRequest.ID = RequestHeader.ID, ConfChange.ID), and every
 * member applies the first and skips the second. etcd has no such check (its TCP streams never
 * deliver a message twice); it is ours.
 *
 * Bound: the IDs of the last {@link REQUEST_DEDUP_WINDOW_ENTRIES} log entries. The memory is a
 * state table (`applied_requests`, written in the apply transaction with the applied index and
 * carried by snapshots), so every member, restarted or not, makes the same decision for the same
 * log. Why the window is safe:
 * - a duplicate is caught when it is applied within 10,000 entries of the original: the copy of
 *   a message is delivered within the network's delivery time, while the original is still in
 *   flight or just appended; a leader would have to commit 10,000 entries in between (a member
 *   refuses proposals once apply lags 5000 entries behind, server/node/limits.ts);
 * - a fresh request never reuses an ID within the window: IDs are unique per member (the low 16
 *   bits of the member ID, the start-up time in ms, a counter: server/lease/ids.ts), so a reuse
 *   needs a member restarted with its wall clock set back to within a few ms of an earlier start,
 *   and the skipped request then times out at its proposer (it is never acknowledged);
 * - entries without an ID (0: Raft's empty entries, the bootstrap configuration changes) are
 *   never skipped.
 */
import type { Database, Statement } from "bun:sqlite";

/** How many of the latest log entries' request IDs are remembered, entries. */
export const REQUEST_DEDUP_WINDOW_ENTRIES = 10_000;

/**
 * See the module doc. Every method but {@link reload} runs inside the apply transaction.
 *
 * The table is mirrored in memory (the IDs, and their log indexes in index order), loaded when
 * the state machine opens and after a snapshot replaced the table ({@link reload}), so the check
 * costs no SELECT; each applied ID is still inserted in the apply transaction, and the window
 * trimmed there, so the table stays the record a restart or a snapshot carries. A failed apply
 * transaction is member-fatal (server/node/raft-driver.ts), so the mirror never outlives a
 * rollback of rows it holds.
 */
export class AppliedRequests {
  private readonly addStmt: Statement<unknown, [number, bigint]>;
  private readonly forgetStmt: Statement<unknown, [number]>;
  /** The IDs (as int64) of the table's rows. */
  private readonly ids = new Set<bigint>();
  /** Log index of each row, ascending, parallel to {@link keys}; rows before {@link head} are gone. */
  private indexes: number[] = [];
  private keys: bigint[] = [];
  private head = 0;

  constructor(private readonly db: Database) {
    this.addStmt = db.query("INSERT OR REPLACE INTO applied_requests (idx, id) VALUES (?, ?)");
    this.forgetStmt = db.query("DELETE FROM applied_requests WHERE idx <= ?");
    this.reload();
  }

  /** Reads the table again (after a snapshot replaced it). */
  reload(): void {
    this.ids.clear();
    this.indexes = [];
    this.keys = [];
    this.head = 0;
    // Prepared apart from db.query's shared cache, as it reads int64 IDs as bigints, and
    // finalized at once (an open statement would keep the closed database's file locked).
    const all = this.db.prepare<{ idx: bigint; id: bigint }, []>("SELECT idx, id FROM applied_requests ORDER BY idx");
    try {
      all.safeIntegers(true);
      for (const row of all.iterate()) {
        this.ids.add(row.id);
        this.indexes.push(Number(row.idx));
        this.keys.push(row.id);
      }
    } finally {
      all.finalize();
    }
  }

  /**
   * Records request `id` (uint64) as applied at log `index`; returns false, recording nothing,
   * when the same ID was applied within the window (the entry must be skipped). ID 0 is always new.
   */
  firstTime(id: bigint, index: number): boolean {
    if (id === 0n) return true;
    const key = BigInt.asIntN(64, id);
    if (this.ids.has(key)) return false;
    this.addStmt.run(index, key);
    const n = this.indexes.length;
    if (n > this.head && this.indexes[n - 1]! >= index) {
      // Not above the last recorded index (never in order of application): the row replaced
      // another one, so the mirror is read again from the table.
      this.reload();
      return true;
    }
    this.ids.add(key);
    this.indexes.push(index);
    this.keys.push(key);
    return true;
  }

  /** Forgets the IDs of entries older than the window, as of applied index `applied`. */
  trim(applied: number): void {
    if (applied <= REQUEST_DEDUP_WINDOW_ENTRIES) return;
    const cutoff = applied - REQUEST_DEDUP_WINDOW_ENTRIES;
    const n = this.indexes.length;
    let head = this.head;
    if (head === n || this.indexes[head]! > cutoff) return;
    this.forgetStmt.run(cutoff);
    while (head < n && this.indexes[head]! <= cutoff) this.ids.delete(this.keys[head++]!);
    if (head === n) {
      this.indexes = [];
      this.keys = [];
      this.head = 0;
    } else if (head > 4096 && head * 2 > n) {
      this.indexes = this.indexes.slice(head);
      this.keys = this.keys.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }
}
