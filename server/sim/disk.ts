/**
 * A member's disk in the simulation: its SQLite backend in a file under a temporary directory
 * (tmpfs when there is one: snapshots are attached as files next to it), plus what would survive
 * a power cut. The member's storage contract is SQLite's with `synchronous=FULL`
 * (server/storage/sqlite.ts): a transaction that committed is on disk. So a correct disk keeps
 * everything committed, and a crash (between two tasks of the member, or when a write fails
 * inside a transaction, which SQLite rolls back) loses exactly the transaction in progress. The
 * simulated files skip fsync (`synchronous=OFF`): durability is what this class models.
 *
 * Faults:
 * - `failNextWrite()`: the next Raft log append fails with `disk I/O error` (a temporary
 *   trigger), inside the Ready transaction: the member must treat it as fatal.
 * - `lazySync` (the deliberately broken member of the "can fail" test): commits reach the durable
 *   image only when {@link SimDisk.flush} runs (the OS writing back every few hundred ms), as
 *   with `synchronous=OFF` on a real disk: the member acknowledges writes that a crash then loses.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSchema } from "../storage/schema.ts";

export class SimDisk {
  private db: Database | undefined;
  /** Broken fsync: only {@link flush} makes commits durable. */
  lazySync = false;
  /** With lazySync: the image as of the last flush (undefined: nothing flushed yet). */
  private flushed: Uint8Array | undefined;

  /** `dir`: this disk's directory (the member's data dir). */
  constructor(readonly dir: string) {}

  private get path(): string {
    return join(this.dir, "member", "db");
  }

  /** Opens the backend as a restarted process finds it (schema created on an empty disk). */
  open(): Database {
    if (this.db) throw new Error("disk already open");
    mkdirSync(join(this.dir, "member"), { recursive: true });
    const db = new Database(this.path, { create: true, readwrite: true });
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("PRAGMA journal_mode = MEMORY");
    db.run("PRAGMA synchronous = OFF");
    db.run("BEGIN IMMEDIATE");
    createSchema(db);
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('storage_schema', 1)");
    db.run("COMMIT");
    db.run("CREATE TEMP TABLE sim_fault (armed INTEGER NOT NULL)");
    db.run("INSERT INTO temp.sim_fault VALUES (0)");
    db.run(
      "CREATE TEMP TRIGGER sim_fail_append BEFORE INSERT ON main.raft_log WHEN (SELECT armed FROM temp.sim_fault) = 1 " +
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
    );
    this.db = db;
    return db;
  }

  /** Makes the next Raft log append fail (once: the member dies of it). */
  failNextWrite(): void {
    this.db?.run("UPDATE temp.sim_fault SET armed = 1");
  }

  /** The OS wrote back everything committed so far (only matters with {@link lazySync}). */
  flush(): void {
    if (this.lazySync && this.db && !this.db.inTransaction) this.flushed = this.db.serialize();
  }

  /**
   * Power cut: what survives is the last committed state (correct disk) or the last flushed one
   * (lazy sync). The open backend is closed; the member object using it must never run again.
   */
  crash(): void {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    try {
      if (db.inTransaction) db.run("ROLLBACK");
    } catch {
      // closed already by the member's own shutdown
    }
    db.close();
    if (this.lazySync) {
      rmSync(join(this.dir, "member"), { recursive: true, force: true });
      if (this.flushed) {
        mkdirSync(join(this.dir, "member"), { recursive: true });
        writeFileSync(this.path, this.flushed);
      }
    }
  }

  /** The open backend (undefined while crashed). */
  get backend(): Database | undefined {
    return this.db;
  }
}
