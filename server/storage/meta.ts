/**
 * Typed access to the `meta` table: small named values that must survive restarts and be
 * written in the same SQLite transaction as the data they describe (like etcd's `meta`
 * bucket holding `consistent_index`, `scheduledCompactRev` and `finishedCompactRev`,
 * mvcc/kvstore.go).
 *
 * Values are stored as SQLite INTEGER/REAL (numbers), TEXT (strings) or decimal TEXT
 * (bigints, so uint64 IDs above 2^63 round-trip exactly).
 */
import type { Database, Statement } from "bun:sqlite";

/** Well-known meta keys. Numbers are Raft indexes/terms or MVCC revisions; IDs are uint64 bigints. */
export const MetaKeys = {
  /** Cluster ID (bigint, uint64). */
  clusterId: "cluster_id",
  /** This member's ID (bigint, uint64). */
  memberId: "member_id",
  /** Index of the last Raft entry applied to the state machine (number). */
  appliedIndex: "applied_index",
  /** etcd's consistent index: last entry index whose effects are in the MVCC tables (number). */
  consistentIndex: "consistent_index",
  /** Last known Raft term (number). */
  term: "term",
  /** MVCC compact revision; absent or 0 = never compacted (number). Written by server/mvcc. */
  compactRevision: "compact_revision",
  /**
   * Compact revision whose freed `kv` rows are all deleted (number; etcd's finishedCompactRev).
   * Below `compact_revision` while a compaction's deletes are pending; absent on data dirs whose
   * compactions always finished at once. Written by server/mvcc.
   */
  compactFinishedRevision: "compact_finished_revision",
  /** 1 while authentication is enabled, else 0 or absent (number; etcd's `auth/authEnabled`). Written by server/auth. */
  authEnabled: "auth_enabled",
  /** Revision of the auth store (number; etcd's `auth/authRevision`). Written by server/auth. */
  authRevision: "auth_revision",
} as const;

/** Reads and writes named values of the `meta` table with cached prepared statements. */
export class Meta {
  private readonly getStmt: Statement<{ value: unknown }, [string]>;
  private readonly setStmt: Statement<unknown, [string, string | number]>;
  private readonly delStmt: Statement<unknown, [string]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.getStmt = db.query("SELECT value FROM meta WHERE key = ?");
    this.setStmt = db.query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    this.delStmt = db.query("DELETE FROM meta WHERE key = ?");
  }

  /** The stored value checked to be of `type`, or undefined when the key is absent. */
  private typed<T extends "number" | "string">(key: string, type: T): (T extends "number" ? number : string) | undefined {
    const v = this.getStmt.get(key)?.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== type) throw new TypeError(`meta ${key}: expected a ${type}, found ${typeof v}`);
    return v as T extends "number" ? number : string;
  }

  /** A number value, or `fallback` (default undefined) when absent. Throws TypeError if not a number. */
  getNumber(key: string): number | undefined;
  getNumber(key: string, fallback: number): number;
  getNumber(key: string, fallback?: number): number | undefined {
    return this.typed(key, "number") ?? fallback;
  }

  /** Stores a number (integers up to 2^53 exactly). */
  setNumber(key: string, value: number): void {
    this.setStmt.run(key, value);
  }

  /** A bigint value (stored as decimal TEXT), or `fallback` when absent. Throws TypeError if not text. */
  getBigint(key: string): bigint | undefined;
  getBigint(key: string, fallback: bigint): bigint;
  getBigint(key: string, fallback?: bigint): bigint | undefined {
    const v = this.typed(key, "string");
    return v === undefined ? fallback : BigInt(v);
  }

  /** Stores a bigint as decimal TEXT (any size, e.g. uint64 IDs). */
  setBigint(key: string, value: bigint): void {
    this.setStmt.run(key, value.toString());
  }

  /** A string value, or `fallback` when absent. Throws TypeError if not a string. */
  getString(key: string): string | undefined;
  getString(key: string, fallback: string): string;
  getString(key: string, fallback?: string): string | undefined {
    return this.typed(key, "string") ?? fallback;
  }

  /** Stores a string. */
  setString(key: string, value: string): void {
    this.setStmt.run(key, value);
  }

  /** Removes a key (no-op when absent). */
  delete(key: string): void {
    this.delStmt.run(key);
  }
}
