/**
 * Installing a Raft snapshot received from the leader on a follower: the snapshot's image is a
 * copy of the leader's SQLite backend file, received by the peer transport into
 * `receivedImagePath(<db>, index)` (./raft-snapshot-image.ts). Its state-machine tables replace
 * ours; the Raft tables and this member's identity stay.
 * Mirrors etcd's applySnapshot (etcdserver/server.go: the received bbolt file replaces the
 * backend, then the KV store, lessor and membership are recovered from it).
 *
 * SQLite cannot ATTACH inside a transaction, so the image is attached first
 * ({@link attachSnapshotImage}), copied inside the apply transaction
 * ({@link copyStateFromImage}) and detached afterwards.
 */
import type { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { MetaKeys } from "../storage/meta.ts";
import { receivedImagePath } from "./raft-snapshot-image.ts";

/** Schema name the image is attached under. */
const SNAP = "snap";

/** Tables that belong to this member's Raft log and are never taken from an image. */
const RAFT_TABLES = new Set(["raft_log", "hard_state"]);

/**
 * `meta` keys never taken from an image: this member's identity and the Raft log's own
 * bookkeeping (snapshot/compaction position, set by Storage.applySnapshot).
 */
function keepOwnMeta(key: string): boolean {
  return key === MetaKeys.memberId || key === MetaKeys.clusterId || key.startsWith("raft_");
}

/** An attached image; `detach()` (call after the transaction ends) detaches and deletes it. */
export interface AttachedImage {
  detach(): void;
}

/**
 * Attaches the image received for the snapshot at Raft `index` as schema `snap` (only read);
 * detach() removes the file. Must be called outside any transaction. Throws Error `no snapshot
 * image received for index <index>` (ATTACH would create an empty one), SQLite errors (corrupt image).
 */
export function attachSnapshotImage(db: Database, index: number): AttachedImage {
  const path = receivedImagePath(db.filename, index);
  if (!existsSync(path)) throw new Error(`no snapshot image received for index ${index}`);
  try {
    db.run(`ATTACH DATABASE ? AS ${SNAP}`, [path]);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
  return {
    detach() {
      try {
        db.run(`DETACH DATABASE ${SNAP}`);
      } finally {
        rmSync(path, { force: true });
      }
    },
  };
}

/**
 * Replaces every state-machine table (all tables of the image but the Raft ones: MVCC `kv`,
 * `leases`, `members`, `removed_members`, and whatever later issues add) and the `meta` rows
 * other than this member's identity and Raft bookkeeping with the attached image's. Call inside
 * the apply transaction. Returns the image's applied index (0 when it has none).
 */
export function copyStateFromImage(db: Database): number {
  const tables = db
    .query<{ name: string }, []>(`SELECT name FROM ${SNAP}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    .all()
    .map((r) => r.name);
  const ours = new Set(
    db.query<{ name: string }, []>("SELECT name FROM main.sqlite_master WHERE type = 'table'").all().map((r) => r.name),
  );
  for (const t of tables) {
    if (RAFT_TABLES.has(t) || t === "meta" || !ours.has(t)) continue;
    db.run(`DELETE FROM main."${t}"`);
    // By column name: the two files may order a table's columns differently (`kv` moved `value`
    // last, server/storage/schema.ts).
    const cols = db
      .query<{ name: string }, []>(`PRAGMA ${SNAP}.table_info("${t}")`)
      .all()
      .map((c) => `"${c.name}"`)
      .join(", ");
    db.run(`INSERT INTO main."${t}" (${cols}) SELECT ${cols} FROM ${SNAP}."${t}"`);
  }
  const metaRows = db.query<{ key: string; value: unknown }, []>(`SELECT key, value FROM ${SNAP}.meta`).all();
  const upsert = db.query("INSERT OR REPLACE INTO main.meta (key, value) VALUES (?, ?)");
  for (const row of db.query<{ key: string }, []>("SELECT key FROM main.meta").all()) {
    if (!keepOwnMeta(row.key)) db.run("DELETE FROM main.meta WHERE key = ?", [row.key]);
  }
  let applied = 0;
  for (const { key, value } of metaRows) {
    if (keepOwnMeta(key)) continue;
    upsert.run(key, value as string | number);
    if (key === MetaKeys.appliedIndex && typeof value === "number") applied = value;
  }
  return applied;
}
