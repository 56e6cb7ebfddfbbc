/**
 * The `leases` table: one row per granted lease, like etcd's `lease` bucket holding
 * leasepb.Lease{ID, TTL, RemainingTTL} (lease/lessor.go persistTo, unsafeGetAllLeases).
 * Rows are written while applying LeaseGrant / LeaseRevoke / LeaseCheckpoint entries, inside the
 * caller's SQLite transaction, so a lease and the applied index become durable together.
 * Expiry times are not stored: after a restart every lease gets its full TTL again (plus the
 * election timeout), as in etcd.
 */
import type { Database, Statement } from "bun:sqlite";
import type { LeaseStore, PersistedLease } from "../lease/lessor.ts";

type Row = { id: bigint; ttl: bigint; remaining_ttl: bigint };

/** Cached statements over `leases`; implements the lessor's {@link LeaseStore}. */
export class LeasesTable implements LeaseStore {
  private readonly allStmt: Statement<Row, []>;
  private readonly saveStmt: Statement<unknown, [bigint, number, number]>;
  private readonly removeStmt: Statement<unknown, [bigint]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.allStmt = db.query("SELECT id, ttl, remaining_ttl FROM leases ORDER BY id");
    // Lease IDs are int64: read them as bigint to keep all 64 bits.
    this.allStmt.safeIntegers(true);
    this.saveStmt = db.query("INSERT OR REPLACE INTO leases (id, ttl, remaining_ttl) VALUES (?, ?, ?)");
    this.removeStmt = db.query("DELETE FROM leases WHERE id = ?");
  }

  /** Every lease, by ID. */
  all(): PersistedLease[] {
    return this.allStmt.all().map((r) => ({ id: r.id, ttl: Number(r.ttl), remainingTtl: Number(r.remaining_ttl) }));
  }

  /** Inserts or replaces the row of `lease.id`. */
  save(lease: PersistedLease): void {
    this.saveStmt.run(lease.id, lease.ttl, lease.remainingTtl);
  }

  /** Deletes the row of `id` (no-op when absent). */
  remove(id: bigint): void {
    this.removeStmt.run(id);
  }
}
