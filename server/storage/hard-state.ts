/**
 * The persisted Raft hard state (raftpb.HardState: term, vote, commit), table `hard_state`
 * with a single row. etcd keeps it in WAL state records (wal/wal.go SaveState); Raft must
 * persist it before answering votes or appends.
 */
import type { Database, Statement } from "bun:sqlite";

/** Raft hard state. `term` and `commit` (an index) are numbers; `vote` is a member ID (uint64), 0n = none. */
export type HardState = { term: number; vote: bigint; commit: number };

type HardStateRow = { term: number; vote: string; commit_index: number };

/** Reads and writes the single `hard_state` row. */
export class HardStateTable {
  private readonly getStmt: Statement<HardStateRow, []>;
  private readonly setStmt: Statement<unknown, [number, string, number]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.getStmt = db.query("SELECT term, vote, commit_index FROM hard_state WHERE id = 1");
    this.setStmt = db.query(
      "INSERT OR REPLACE INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, ?, ?)",
    );
  }

  /** The stored hard state; `{ term: 0, vote: 0n, commit: 0 }` before the first save (raft's empty state). */
  load(): HardState {
    const row = this.getStmt.get();
    if (!row) return { term: 0, vote: 0n, commit: 0 };
    return { term: row.term, vote: BigInt(row.vote), commit: row.commit_index };
  }

  /** Replaces the stored hard state. */
  save(hs: HardState): void {
    this.setStmt.run(hs.term, hs.vote.toString(), hs.commit);
  }
}
