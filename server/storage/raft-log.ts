/**
 * The persisted Raft log: table `raft_log(idx, term, type, data)`.
 *
 * Plays the part of etcd's WAL plus raft.MemoryStorage (raft/storage.go): entries are
 * appended (replacing any conflicting tail), read by index range, truncated and compacted.
 * Writes join the caller's transaction, if any.
 */
import type { Database, Statement } from "bun:sqlite";

/**
 * One Raft log entry. `index` and `term` are positive integers, `type` is raftpb.EntryType
 * (0 = EntryNormal, 1 = EntryConfChange, 2 = EntryConfChangeV2), `data` the opaque payload.
 */
export type LogEntry = { index: number; term: number; type: number; data: Uint8Array };

type EntryRow = { idx: number; term: number; type: number; data: Uint8Array | null };

const EMPTY = new Uint8Array(0);

function toEntry(row: EntryRow): LogEntry {
  return { index: row.idx, term: row.term, type: row.type, data: row.data ?? EMPTY };
}

/** Cached statements over `raft_log`. */
export class RaftLog {
  private readonly db: Database;
  private readonly insertStmt: Statement<unknown, [number, number, number, Uint8Array]>;
  private readonly rangeStmt: Statement<EntryRow, [number, number]>;
  private readonly termStmt: Statement<{ term: number }, [number]>;
  private readonly lastStmt: Statement<{ idx: number | null }, []>;
  private readonly firstStmt: Statement<{ idx: number | null }, []>;
  private readonly truncateStmt: Statement<unknown, [number]>;
  private readonly compactStmt: Statement<unknown, [number]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.db = db;
    this.insertStmt = db.query("INSERT OR REPLACE INTO raft_log (idx, term, type, data) VALUES (?, ?, ?, ?)");
    this.rangeStmt = db.query("SELECT idx, term, type, data FROM raft_log WHERE idx >= ? AND idx < ? ORDER BY idx");
    this.termStmt = db.query("SELECT term FROM raft_log WHERE idx = ?");
    this.lastStmt = db.query("SELECT max(idx) AS idx FROM raft_log");
    this.firstStmt = db.query("SELECT min(idx) AS idx FROM raft_log");
    this.truncateStmt = db.query("DELETE FROM raft_log WHERE idx >= ?");
    this.compactStmt = db.query("DELETE FROM raft_log WHERE idx < ?");
  }

  /**
   * Appends entries with consecutive indexes. Like raft.MemoryStorage.Append, every stored
   * entry at or after `entries[0].index` is dropped first (a new leader's entries replace a
   * conflicting tail). No-op for an empty list. Throws RangeError if indexes are not consecutive.
   */
  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) {
        throw new RangeError(`raft log: entry ${i} has index ${entries[i]!.index}, expected ${first + i}`);
      }
    }
    const write = () => {
      this.truncateStmt.run(first);
      for (const e of entries) this.insertStmt.run(e.index, e.term, e.type, e.data);
    };
    if (this.db.inTransaction) write();
    else this.db.transaction(write)();
  }

  /**
   * Entries with `lo <= index < hi`, in index order (like raft Storage.Entries). With
   * `maxBytes`, stops before the entry that would take the total data size past it, but
   * always returns at least one entry when any is in range (raft's limitSize).
   */
  entries(lo: number, hi: number, maxBytes?: number): LogEntry[] {
    if (maxBytes === undefined) return this.rangeStmt.all(lo, hi).map(toEntry);
    const out: LogEntry[] = [];
    let size = 0;
    for (const row of this.rangeStmt.iterate(lo, hi)) {
      size += row.data?.byteLength ?? 0;
      if (out.length > 0 && size > maxBytes) break;
      out.push(toEntry(row));
    }
    return out;
  }

  /** Term of the entry at `index`, or undefined when it is not stored (compacted or beyond the end). */
  term(index: number): number | undefined {
    return this.termStmt.get(index)?.term;
  }

  /** Highest stored index, 0 when the log is empty. */
  lastIndex(): number {
    return this.lastStmt.get()?.idx ?? 0;
  }

  /** Lowest stored index, 0 when the log is empty. */
  firstIndex(): number {
    return this.firstStmt.get()?.idx ?? 0;
  }

  /** Deletes every entry with index >= `index` (drops a conflicting tail). */
  truncateFrom(index: number): void {
    this.truncateStmt.run(index);
  }

  /** Deletes every entry with index < `index` (log compaction after a snapshot). */
  compactBefore(index: number): void {
    this.compactStmt.run(index);
  }
}
