/**
 * Defragmentation of the SQLite backend without stopping the member (etcd's Maintenance.Defragment,
 * mvcc/backend/backend.go defrag, which rewrites the bbolt file while blocking all writes).
 *
 * Here free pages (left by compaction, Raft log truncation, deletes) are given back to the file
 * system in bounded steps: `PRAGMA incremental_vacuum(<stepPages>)` moves at most that many pages
 * per event-loop turn, so Raft heartbeats, reads and writes go on in between; a final
 * `wal_checkpoint(TRUNCATE)` writes the result into the main file and empties the WAL.
 *
 * Incremental vacuum needs `auto_vacuum = INCREMENTAL`, which new backends get when created
 * (server/storage/sqlite.ts). A data dir created before that (auto_vacuum NONE) is converted by
 * its first Defragment with one full `VACUUM`: it blocks the member for as long as rewriting the
 * file takes, like every etcd defrag does; later ones are incremental.
 */
import type { Database } from "bun:sqlite";
import { backendCopyRunning } from "./backend-copy.ts";

/** Pages moved per step (4 KiB pages: 1 MiB), small enough to keep a step within a few ms. */
export const DEFRAG_STEP_PAGES = 256;
/** Most steps one Defragment runs (with 1 MiB steps, 64 GiB): a bound on the loop. */
const MAX_DEFRAG_STEPS = 65_536;

/** What Defragment needs besides the database. */
export interface DefragOptions {
  /** Runs `fn` in a later event-loop turn (the member's env `setImmediate`). */
  nextTurn(fn: () => void): void;
  /** Pages per step (default {@link DEFRAG_STEP_PAGES}). */
  stepPages?: number;
  /** Told when an old data dir is converted with a full VACUUM. */
  onFullVacuum?(): void;
}

/** Result of one Defragment: pages given back, and whether a full VACUUM converted the file. */
export interface DefragResult {
  freedPages: number;
  fullVacuum: boolean;
}

function pragmaNumber(db: Database, name: string): number {
  const row = db.query(`PRAGMA ${name}`).get() as Record<string, number> | null;
  return row ? Number(Object.values(row)[0]) : 0;
}

/** Free pages of `db` now. */
export function freePages(db: Database): number {
  return pragmaNumber(db, "freelist_count");
}

/**
 * Gives the free pages of `db` back to the file system in steps of `stepPages`, one per
 * event-loop turn, waiting while a transaction is open (and, before the full VACUUM and the
 * final checkpoint, while a backend copy reads the file). Resolves when none are left and the WAL
 * was checkpointed. Throws SQLite errors (the caller answers them to the client).
 */
export async function defragment(db: Database, opts: DefragOptions): Promise<DefragResult> {
  const step = Math.max(1, opts.stepPages ?? DEFRAG_STEP_PAGES);
  const turn = () => new Promise<void>((resolve) => opts.nextTurn(resolve));
  const before = freePages(db);
  let fullVacuum = false;
  if (pragmaNumber(db, "auto_vacuum") !== 2) {
    while (db.inTransaction || backendCopyRunning(db)) await turn();
    opts.onFullVacuum?.();
    db.run("PRAGMA auto_vacuum = INCREMENTAL");
    db.run("VACUUM");
    fullVacuum = true;
  }
  for (let i = 0; i < MAX_DEFRAG_STEPS && freePages(db) > 0; i++) {
    if (db.inTransaction) {
      await turn();
      continue;
    }
    db.run(`PRAGMA incremental_vacuum(${step})`);
    await turn();
  }
  // A backend copy (server/storage/backend-copy.ts) reads the main file: checkpoint after it.
  while (db.inTransaction || backendCopyRunning(db)) await turn();
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  return { freedPages: before - freePages(db), fullVacuum };
}
