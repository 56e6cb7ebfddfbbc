/**
 * The MVCC revisions table `kv`: one row per write of a key, like etcd's `key` bucket
 * (mvcc/kvstore_txn.go put/delete, mvcc/revision.go). A row is addressed by `id`, its write
 * order, which grows with the (main, sub) revision; `main` is the store revision of the write
 * and `sub` its position among the writes of that revision.
 *
 * A put row carries the KeyValue fields (value, create_revision, version, lease); a delete
 * writes a tombstone row (tombstone = 1, empty value, zeros elsewhere).
 */
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";

/** One row to insert. Revisions and version are positive integers; lease is the int64 lease ID (0n = none). */
export type RevisionWrite = {
  id: number;
  main: number;
  sub: number;
  key: Uint8Array;
  value: Uint8Array;
  createRevision: number;
  version: number;
  lease: bigint;
  tombstone: boolean;
};

/** Stored KeyValue fields of a row, as read back (int64 columns as bigint). */
export type RevisionValue = {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: bigint;
  version: bigint;
  lease: bigint;
};

/** What restoring the key index needs from each row, in write order (no values). */
export type RevisionIndexRow = {
  id: number;
  main: number;
  key: Uint8Array;
  createRevision: number;
  version: number;
  /** Lease ID of a put (0n for none and for tombstones). */
  lease: bigint;
  tombstone: boolean;
};

type ValueRow = [Uint8Array, Uint8Array, bigint, bigint, bigint];
type IndexRow = {
  id: number;
  main: number;
  key: Uint8Array;
  create_revision: number;
  version: number;
  lease: string | null;
  tombstone: number;
};

/** A whole row, as HashKV reads it (int64 columns as bigint). */
export type RevisionRow = RevisionValue & { id: number; main: number; sub: number; tombstone: boolean };

type FullRow = { id: number; main: number; sub: number; key: Uint8Array; value: Uint8Array; create_revision: bigint; version: bigint; lease: bigint; tombstone: number };

/** Cached statements over `kv`. Writes join the caller's transaction. */
export class RevisionsTable {
  private readonly insertStmt: Statement<unknown, SQLQueryBindings[]>;
  private readonly getStmt: Statement<unknown, [number]>;
  private readonly deleteStmt: Statement<unknown, [number]>;
  private readonly scanStmt: Statement<IndexRow, []>;
  private readonly pageStmt: Statement<FullRow, [number, number, number]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.insertStmt = db.query(
      "INSERT INTO kv (id, main, sub, key, value, create_revision, version, lease, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.getStmt = db.query("SELECT key, value, create_revision, version, lease FROM kv WHERE id = ?");
    this.getStmt.safeIntegers(true);
    this.deleteStmt = db.query("DELETE FROM kv WHERE id = ?");
    // Lease IDs are int64: read them as text to keep all 64 bits.
    this.scanStmt = db.query(
      `SELECT id, main, key, create_revision, version,
              CASE WHEN lease = 0 THEN NULL ELSE CAST(lease AS TEXT) END AS lease, tombstone
       FROM kv ORDER BY id`,
    );
    this.pageStmt = db.query(
      "SELECT id, main, sub, key, value, create_revision, version, lease, tombstone FROM kv WHERE id > ? AND main <= ? ORDER BY id LIMIT ?",
    );
    this.pageStmt.safeIntegers(true);
  }

  /** Up to `limit` whole rows with id > `afterId` and main <= `maxMain`, by id (HashKV reads history in pages). */
  page(afterId: number, maxMain: number, limit: number): RevisionRow[] {
    return this.pageStmt.all(afterId, maxMain, limit).map((r) => ({
      id: Number(r.id),
      main: Number(r.main),
      sub: Number(r.sub),
      key: r.key,
      value: r.value,
      createRevision: r.create_revision,
      version: r.version,
      lease: r.lease,
      tombstone: Number(r.tombstone) !== 0,
    }));
  }

  /** Inserts one row. Throws SQLiteError (e.g. a duplicate id) without writing anything. */
  insert(w: RevisionWrite): void {
    this.insertStmt.run(
      w.id,
      w.main,
      w.sub,
      w.key,
      w.value,
      w.createRevision,
      w.version,
      w.lease,
      w.tombstone ? 1 : 0,
    );
  }

  /** The stored fields of row `id`, or undefined when there is no such row. */
  get(id: number): RevisionValue | undefined {
    const rows = this.getStmt.values(id) as unknown as ValueRow[];
    const r = rows[0];
    if (!r) return undefined;
    return { key: r[0], value: r[1], createRevision: r[2], version: r[3], lease: r[4] };
  }

  /** Deletes row `id` (compaction). */
  delete(id: number): void {
    this.deleteStmt.run(id);
  }

  /** Every row in write order, without values: what restoring the in-memory key index reads. */
  *scan(): IterableIterator<RevisionIndexRow> {
    for (const o of this.scanStmt.iterate()) {
      yield {
        id: o.id,
        main: o.main,
        key: o.key,
        createRevision: o.create_revision,
        version: o.version,
        lease: o.lease === null ? 0n : BigInt(o.lease),
        tombstone: o.tombstone !== 0,
      };
    }
  }
}
