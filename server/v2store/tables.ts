/**
 * The v2 store's rows in the member's SQLite backend (tables `v2_nodes`, `v2_state` and
 * `v2_events`, created by server/storage/schema.ts). Every change, and the event it makes, is
 * written by the applier inside the apply transaction, so the store, its watch history and the
 * applied index are durable together; the tables travel in Raft snapshots with the other state
 * tables (server/node/snapshot-restore.ts) and in `etcdctl backup` (which copies `v2_*`).
 * etcd 3.4 gets the same from its v2 snapshot (store.Save: the tree and the watcher hub's
 * EventHistory) plus the WAL entries after it, applied again at start-up.
 */
import type { Database, Statement } from "bun:sqlite";
import { eventFromJson, eventIndex, eventJson, type V2Event } from "./event.ts";
import { HISTORY_EVENTS } from "./watcher-hub.ts";

/** One stored node; `expireMs` 0 means permanent. */
export interface V2Row {
  path: string;
  dir: boolean;
  value: string;
  createdIndex: number;
  modifiedIndex: number;
  expireMs: number;
}

/**
 * Where the store writes its changes (tests of the store alone pass none). Rows put are written
 * by {@link V2Persistence.flush} at the latest, which the applier calls at the end of every
 * batch of entries, inside its transaction.
 */
export interface V2Persistence {
  /** Writes `row` by the next flush (a later put of the same path replaces it). */
  put(row: V2Row): void;
  /** Writes the rows put since the last flush. */
  flush(): void;
  /** Removes `path` and everything under it. */
  removeTree(path: string): void;
  /** Records that the cluster version was set (see V2Store.recordClusterVersion). */
  setClusterVersionRecorded(): void;
  /**
   * Keeps `e` in the event history, replacing the one {@link HISTORY_EVENTS} indexes older. Every
   * change of the store index comes with its event, so the newest event's index is the store
   * index (no row of its own is written per change; see {@link V2Tables.load}).
   */
  addEvent(e: V2Event): void;
}

/** What the tables hold: the tree's rows (parents first), the index, the cluster-version flag and the last events (oldest first). */
export interface V2State {
  rows: V2Row[];
  index: number;
  clusterVersionRecorded: boolean;
  /** At most {@link HISTORY_EVENTS}, with indexes in (index - HISTORY_EVENTS, index]. */
  events: V2Event[];
}

/**
 * An event as kept in `v2_events`, without its etcdIndex (the store's when answered): its answer's
 * JSON, built once for both (kept as `e.json`; a JSON.stringify of the event as well was about 2%
 * of a v2-set-loaded member's samples), or for a TTL refresh, which that JSON does not tell
 * apart, the event's JSON.stringify form. Read back by eventFromJson.
 */
function eventRecord(e: V2Event): string {
  if (e.refresh) return JSON.stringify({ action: e.action, node: e.node, prevNode: e.prevNode, refresh: true });
  return (e.json = eventJson(e));
}

/** The `v2_*` tables of a member's backend. */
export class V2Tables implements V2Persistence {
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly writeVersion: Statement;
  private readonly writeEvent: Statement;
  /**
   * Rows put and not written yet, by path: a batch of entries that writes one key many times
   * writes its row once (a `v2 set` benchmark's batch of 50 sets of one key wrote 50 rows).
   */
  private readonly pending = new Map<string, V2Row>();

  constructor(private readonly db: Database) {
    this.upsert = db.query(
      `INSERT OR REPLACE INTO v2_nodes (path, dir, value, created_index, modified_index, expire_ms) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // Everything under `p/`: paths in ['p/', 'p0'), as '0' follows '/'.
    this.remove = db.query(`DELETE FROM v2_nodes WHERE path = ?1 OR (path >= ?1 || '/' AND path < ?1 || '0')`);
    this.writeVersion = db.query(`INSERT OR REPLACE INTO v2_state (key, value) VALUES ('cluster_version', 1)`);
    this.writeEvent = db.query(`INSERT OR REPLACE INTO v2_events (slot, idx, event) VALUES (?1 % ${HISTORY_EVENTS}, ?1, ?2)`);
  }

  addEvent(e: V2Event): void {
    this.writeEvent.run(eventIndex(e), eventRecord(e));
  }

  setClusterVersionRecorded(): void {
    this.writeVersion.run();
  }

  put(r: V2Row): void {
    this.pending.set(r.path, r);
  }

  flush(): void {
    if (this.pending.size === 0) return;
    for (const r of this.pending.values()) this.upsert.run(r.path, r.dir ? 1 : 0, r.value, r.createdIndex, r.modifiedIndex, r.expireMs);
    this.pending.clear();
  }

  removeTree(path: string): void {
    // Rows put before the removal are written first: it removes them, or those under other paths stay.
    this.flush();
    this.remove.run(path);
  }

  /**
   * Every row, parents before children (a path sorts after its prefix), the index, the
   * cluster-version flag and the history. The index is the newest event's, or the `index` row of
   * `v2_state` when that is higher (data dirs of builds that wrote it on every change, before
   * their history was kept).
   */
  load(): V2State {
    this.flush();
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
    const newest = this.db.query<{ idx: number | null }, []>("SELECT max(idx) AS idx FROM v2_events").get()?.idx ?? 0;
    const index = Math.max(state("index") ?? 0, newest);
    const events = this.db
      .query<{ idx: number; event: string }, [number, number]>("SELECT idx, event FROM v2_events WHERE idx > ? AND idx <= ? ORDER BY idx")
      .all(index - HISTORY_EVENTS, index)
      .map((r) => eventFromJson(r.event, r.idx));
    return { rows, index, clusterVersionRecorded: state("cluster_version") === 1, events };
  }
}
