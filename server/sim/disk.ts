/**
 * A member's disk in the simulation: an in-memory SQLite backend plus the image that would
 * survive a power cut (`durable`). The member's storage contract is SQLite's with
 * `synchronous=FULL` (server/storage/sqlite.ts): a transaction that committed is on disk. So a
 * correct disk's durable image is the backend as of its last committed transaction, and a
 * crash (between two tasks of the member, or when a write fails inside a transaction, which
 * SQLite rolls back) loses exactly the transaction in progress.
 *
 * Faults:
 * - `failNextWrite()`: the next Raft log append fails with `disk I/O error` (a temporary
 *   trigger), inside the Ready transaction: the member must treat it as fatal.
 * - `lazySync` (the deliberately broken member of the "can fail" test): commits reach the durable
 *   image only when {@link SimDisk.flush} runs (the OS writing back every few hundred ms), as
 *   with `synchronous=OFF`: the member acknowledges writes that a crash then loses.
 */
import { Database } from "bun:sqlite";
import { createSchema } from "../storage/schema.ts";

export class SimDisk {
  /** The bytes on disk after a crash (undefined: empty disk). */
  private durable: Uint8Array | undefined;
  private db: Database | undefined;
  /** Broken fsync: only {@link flush} makes commits durable. */
  lazySync = false;

  /** Opens the backend as a restarted process finds it (schema created on an empty disk). */
  open(): Database {
    if (this.db) throw new Error("disk already open");
    const db = this.durable ? Database.deserialize(this.durable) : new Database(":memory:");
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
    if (!this.lazySync) this.durable = undefined;
    return db;
  }

  /** Makes the next Raft log append fail (once: the member dies of it). */
  failNextWrite(): void {
    this.db?.run("UPDATE temp.sim_fault SET armed = 1");
  }

  /** The OS wrote back everything committed so far (only matters with {@link lazySync}). */
  flush(): void {
    if (this.lazySync && this.db && !this.db.inTransaction) this.durable = this.db.serialize();
  }

  /**
   * Power cut: what survives is the last committed state (correct disk) or the last flushed one
   * (lazy sync). The open backend is closed; the member object using it must never run again.
   */
  crash(): void {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    if (!this.lazySync) {
      if (db.inTransaction) db.run("ROLLBACK");
      this.durable = db.serialize();
    } else if (this.durable === undefined) {
      this.durable = emptyImage();
    }
    try {
      db.close();
    } catch {
      // already closed by the member's own shutdown
    }
  }

  /** The open backend (undefined while crashed). */
  get backend(): Database | undefined {
    return this.db;
  }

  /** Whether the backend is open. */
  get isOpen(): boolean {
    return this.db !== undefined;
  }
}

/** The image of a disk that had nothing durable yet. */
function emptyImage(): Uint8Array {
  const db = new Database(":memory:");
  const img = db.serialize();
  db.close();
  return img;
}
