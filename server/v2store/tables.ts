/**
 * The v2 store's rows in the member's SQLite backend (tables `v2_nodes` and `v2_state`, created
 * by server/storage/schema.ts). Every change is written by the applier inside the apply
 * transaction, so the store and the applied index are durable together; the tables travel in
 * Raft snapshots with the other state tables (server/node/snapshot-restore.ts) and in
 * `etcdctl backup` (which copies `v2_*`).
 */
import type { Database, Statement } from "bun:sqlite";

/** One stored node; `expireMs` 0 means permanent. */
export interface V2Row {
  path: string;
  dir: boolean;
  value: string;
  createdIndex: number;
  modifiedIndex: number;
  expireMs: number;
}

/** Where the store writes its changes (tests of the store alone pass none). */
export interface V2Persistence {
  put(row: V2Row): void;
  /** Removes `path` and everything under it. */
  removeTree(path: string): void;
  setIndex(index: number): void;
  /** Records that the cluster version was set (see V2Store.recordClusterVersion). */
  setClusterVersionRecorded(): void;
}

/** The `v2_*` tables of a member's backend. */
export class V2Tables implements V2Persistence {
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly writeIndex: Statement;
  private readonly writeVersion: Statement;

  constructor(private readonly db: Database) {
    this.upsert = db.query(
      `INSERT OR REPLACE INTO v2_nodes (path, dir, value, created_index, modified_index, expire_ms) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // Everything under `p/`: paths in ['p/', 'p0'), as '0' follows '/'.
    this.remove = db.query(`DELETE FROM v2_nodes WHERE path = ?1 OR (path >= ?1 || '/' AND path < ?1 || '0')`);
    this.writeIndex = db.query(`INSERT OR REPLACE INTO v2_state (key, value) VALUES ('index', ?)`);
    this.writeVersion = db.query(`INSERT OR REPLACE INTO v2_state (key, value) VALUES ('cluster_version', 1)`);
  }

  setClusterVersionRecorded(): void {
    this.writeVersion.run();
  }

  put(r: V2Row): void {
    this.upsert.run(r.path, r.dir ? 1 : 0, r.value, r.createdIndex, r.modifiedIndex, r.expireMs);
  }

  removeTree(path: string): void {
    this.remove.run(path);
  }

  setIndex(index: number): void {
    this.writeIndex.run(index);
  }

  /** Every row, parents before children (a path sorts after its prefix), the index and the cluster-version flag. */
  load(): { rows: V2Row[]; index: number; clusterVersionRecorded: boolean } {
    const rows = this.db
      .query<{ path: string; dir: number; value: string; created_index: number; modified_index: number; expire_ms: number }, []>(
        "SELECT path, dir, value, created_index, modified_index, expire_ms FROM v2_nodes ORDER BY path",
      )
      .all()
      .map((r) => ({
        path: r.path,
        dir: r.dir === 1,
        value: r.value,
        createdIndex: r.created_index,
        modifiedIndex: r.modified_index,
        expireMs: r.expire_ms,
      }));
    const state = (key: string) => this.db.query<{ value: number }, [string]>("SELECT value FROM v2_state WHERE key = ?").get(key)?.value;
    return { rows, index: state("index") ?? 0, clusterVersionRecorded: state("cluster_version") === 1 };
  }
}
