/**
 * Size of a member's SQLite backend, the way etcd's backend reports it (mvcc/backend/backend.go
 * Size and SizeInUse): the whole database, free pages included, and the part in use.
 */
import type { Database } from "bun:sqlite";

/** Sizes in bytes: `total` = page_count * page_size (what the quota and Status.dbSize count), `inUse` = (page_count - freelist_count) * page_size. */
export interface BackendSize {
  totalBytes: number;
  inUseBytes: number;
}

/** Reads the page counts of `db`'s main database (includes pages still in the WAL). */
export function backendSize(db: Database): BackendSize {
  const pages = db.query<{ page_count: number }, []>("PRAGMA page_count").get()?.page_count ?? 0;
  const free = db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()?.freelist_count ?? 0;
  const bytes = pageBytes(db);
  return { totalBytes: pages * bytes, inUseBytes: (pages - free) * bytes };
}

/** Bytes per page of `db` (it changes only when a VACUUM is told to use another size). */
export function pageBytes(db: Database): number {
  return db.query<{ page_size: number }, []>("PRAGMA page_size").get()?.page_size ?? 4096;
}

/** Pages of `db`'s main database now (inside a write transaction: as that transaction left it). */
export function backendPages(db: Database): number {
  return db.query<{ page_count: number }, []>("PRAGMA page_count").get()?.page_count ?? 0;
}

/**
 * Bytes of the pages holding table `name` (SQLite's dbstat). Cost: one walk of that table's
 * pages; the quota check asks for the Raft log's only when a request would not fit otherwise.
 */
export function tableBytes(db: Database, name: string): number {
  return db.query<{ s: number | null }, [string]>("SELECT SUM(pgsize) AS s FROM dbstat WHERE name = ?").get(name)?.s ?? 0;
}
