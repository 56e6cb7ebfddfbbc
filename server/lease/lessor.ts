/**
 * The lessor: etcd's lease table of one member (lease/lessor.go, etcd 3.4).
 *
 * It keeps every granted lease (ID, granted TTL in seconds, the keys attached to it) and, on
 * the lease holder (the primary: today the single member, later the Raft leader), each lease's
 * expiry time. Writes to the lease table (grant, revoke, checkpoint, attach/detach) happen only
 * while applying committed log entries (server/lease/apply.ts), so every member holds the same
 * table. Keep-alives (renew) and time-to-live queries are answered by the primary alone, from
 * memory, without the log, as in etcd. Expiry does not delete anything by itself: the primary
 * finds expired leases ({@link Lessor.findExpired}) and proposes a LeaseRevoke through the log
 * like any write (server/lease/expiry.ts).
 *
 * Time comes from an injected {@link Clock} so tests never sleep. TTLs are seconds (int64 on the
 * wire, JS numbers here: etcd caps them at {@link MAX_LEASE_TTL}); times are milliseconds.
 */
import { Errors } from "../errors.ts";

/** etcd's MaxLeaseTTL: larger grants fail with LeaseTTLTooLarge, seconds (lease/lessor.go). */
export const MAX_LEASE_TTL = 9_000_000_000;
/** Revocations the primary starts per second at most (etcd's leaseRevokeRate). */
export const LEASE_REVOKE_RATE = 1000;
/** How long an expired lease waits before its revocation is proposed again, ms (etcd: 3 s). */
export const EXPIRED_LEASE_RETRY_MS = 3000;

/** A source of monotonic time in milliseconds. */
export interface Clock {
  now(): number;
}

/** The real clock: `performance.now()` (monotonic, ms). */
export const systemClock: Clock = { now: () => performance.now() };

/** A lease as persisted in the `leases` table (etcd's leasepb.Lease in the `lease` bucket). */
export interface PersistedLease {
  /** Lease ID (int64, never 0). */
  id: bigint;
  /** Granted TTL, seconds (already raised to the minimum TTL). */
  ttl: number;
  /** Checkpointed remaining TTL, seconds; 0 = none (the full TTL applies at promotion). */
  remainingTtl: number;
}

/** Where the lessor persists leases; writes join the caller's SQLite transaction. */
export interface LeaseStore {
  /** Every persisted lease (read once at start-up). */
  all(): PersistedLease[];
  /** Inserts or replaces one lease. */
  save(lease: PersistedLease): void;
  /** Deletes one lease (no-op when absent). */
  remove(id: bigint): void;
}

/** Settings of a {@link Lessor}. */
export interface LessorOptions {
  /** Smallest TTL granted, seconds: shorter requests get this (etcd: ceil(1.5 election timeouts)). */
  minTtl: number;
  /** Time source; default {@link systemClock}. */
  clock?: Clock;
  /** Persistence; default none (an in-memory lessor for tests). */
  store?: LeaseStore;
}

/** One lease. Fields are read-only for users of the lessor. */
export class Lease {
  /** Keys attached to the lease (binary strings, see server/mvcc/keys.ts). */
  readonly keys = new Set<string>();
  /** Expiry time on the lessor's clock, ms; Infinity until the lessor is primary. */
  expiry = Infinity;
  /** When the revocation of this expired lease was last handed out, ms. */
  revokeRequestedAt = -Infinity;
  private revokedWaiters: ((outcome: "revoked" | "demoted") => void)[] = [];

  /**
   * @param id lease ID
   * @param ttl granted TTL, seconds
   * @param remainingTtl checkpointed remaining TTL, seconds (0 = none)
   */
  constructor(
    readonly id: bigint,
    public ttl: number,
    public remainingTtl = 0,
  ) {}

  /** TTL a refresh starts from: the checkpointed remaining TTL if any, else the granted TTL (s). */
  get refreshTtl(): number {
    return this.remainingTtl > 0 ? this.remainingTtl : this.ttl;
  }

  /** Milliseconds until expiry at `now` (negative once expired; Infinity when not primary). */
  remainingMs(now: number): number {
    return this.expiry - now;
  }

  /**
   * Resolves with "revoked" once the lease has been revoked (removed from the lessor), or with
   * "demoted" once its lessor stopped being primary first (the revocation may then never come).
   */
  whenRevoked(): Promise<"revoked" | "demoted"> {
    return new Promise((resolve) => this.revokedWaiters.push(resolve));
  }

  /** Wakes everyone waiting in {@link whenRevoked} with `outcome`. */
  markRevoked(outcome: "revoked" | "demoted" = "revoked"): void {
    for (const w of this.revokedWaiters.splice(0)) w(outcome);
  }
}

/** Answer of {@link Lessor.timeToLive}. */
export interface LeaseTimeToLive {
  /** Remaining seconds, truncated (Go's `int64(Remaining().Seconds())`). */
  ttl: number;
  /** Granted TTL, seconds. */
  grantedTtl: number;
  /** Attached keys in byte order (binary strings). */
  keys: string[];
}

/** The lease table of one member. All methods are synchronous except {@link renew} on an expired lease. */
export class Lessor {
  private readonly table = new Map<bigint, Lease>();
  /** Key (binary string) → the lease it is attached to (etcd's itemMap). */
  private readonly itemMap = new Map<string, bigint>();
  private readonly clock: Clock;
  private readonly store: LeaseStore | undefined;
  private primary = false;
  /** Smallest TTL granted, seconds. */
  readonly minTtl: number;

  /** Loads persisted leases (TTL raised to `minTtl`, expiry "forever" until {@link promote}). */
  constructor(opts: LessorOptions) {
    this.minTtl = opts.minTtl;
    this.clock = opts.clock ?? systemClock;
    this.store = opts.store;
    this.load();
  }

  private load(): void {
    for (const p of this.store?.all() ?? []) {
      this.table.set(p.id, new Lease(p.id, Math.max(p.ttl, this.minTtl), p.remainingTtl));
    }
  }

  /**
   * Replaces the table with the persisted leases after the store was replaced underneath (a Raft
   * snapshot installed on a follower; etcd's lessor Recover). Key attachments are dropped: attach
   * them again from the MVCC store. Keep-alives waiting on a lease that is gone fail.
   */
  reload(): void {
    const old = [...this.table.values()];
    this.table.clear();
    this.itemMap.clear();
    this.load();
    for (const l of old) if (!this.table.has(l.id)) l.markRevoked();
    if (this.primary) this.promote(0);
  }

  /** Number of leases. */
  get size(): number {
    return this.table.size;
  }

  /** Whether this lessor decides expiry (etcd's isPrimary). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** The lease with `id`, if granted. */
  lookup(id: bigint): Lease | undefined {
    return this.table.get(id);
  }

  /** Whether `id` is granted (the MVCC store's lease check). */
  has(id: bigint): boolean {
    return this.table.has(id);
  }

  /**
   * Makes this lessor primary (etcd's Promote): every lease expires `extendMs` plus its
   * (checkpointed remaining or granted) TTL from now; with {@link LEASE_REVOKE_RATE} leases or
   * more, leases due in the same second are spread so at most 3/4 of the revoke rate expire
   * per second. Called when the member becomes lease holder (at start-up, single member).
   */
  promote(extendMs: number): void {
    this.primary = true;
    const now = this.clock.now();
    for (const l of this.table.values()) l.expiry = now + extendMs + l.refreshTtl * 1000;
    if (this.table.size < LEASE_REVOKE_RATE) return;
    const sorted = this.leases(); // by expiry
    let baseWindow = sorted[0]!.remainingMs(now);
    let nextWindow = baseWindow + 1000;
    let expires = 0;
    const target = (3 * LEASE_REVOKE_RATE) / 4;
    for (const l of sorted) {
      const remaining = l.remainingMs(now);
      if (remaining > nextWindow) {
        baseWindow = remaining;
        nextWindow = baseWindow + 1000;
        expires = 1;
        continue;
      }
      expires++;
      if (expires <= target) continue;
      const delay = 1000 * (expires / target) - (remaining - baseWindow);
      nextWindow = baseWindow + delay;
      l.expiry = now + delay + extendMs + l.refreshTtl * 1000;
    }
  }

  /** Stops deciding expiry (etcd's Demote): leases never expire until promoted again. */
  demote(): void {
    this.primary = false;
    for (const l of this.table.values()) {
      l.expiry = Infinity;
      // Keep-alives waiting for an expired lease's revocation: this member no longer decides it.
      l.markRevoked("demoted");
    }
  }

  /**
   * Grants lease `id` for `ttl` seconds (raised to the minimum TTL) and persists it; on the
   * primary it expires `ttl` seconds from now. Applied from a committed LeaseGrant entry.
   * Errors (nothing changed): LeaseNotFound (NotFound "etcdserver: requested lease not found")
   * for ID 0; LeaseTTLTooLarge (OutOfRange "etcdserver: too large lease TTL") above
   * {@link MAX_LEASE_TTL}; LeaseExist (FailedPrecondition "etcdserver: lease already exists").
   */
  grant(id: bigint, ttl: number): Lease {
    if (id === 0n) throw Errors.LeaseNotFound();
    if (ttl > MAX_LEASE_TTL) throw Errors.LeaseTTLTooLarge();
    if (this.table.has(id)) throw Errors.LeaseExist();
    const l = new Lease(id, Math.max(ttl, this.minTtl));
    if (this.primary) l.expiry = this.clock.now() + l.ttl * 1000;
    this.store?.save({ id, ttl: l.ttl, remainingTtl: 0 });
    this.table.set(id, l);
    return l;
  }

  /**
   * Removes lease `id` after its keys were deleted (the second half of etcd's Revoke; the
   * applier deletes the keys in one MVCC revision first): forgets its key attachments,
   * deletes it from the store and wakes keep-alives waiting on it.
   * Errors: LeaseNotFound (NotFound "etcdserver: requested lease not found").
   */
  remove(id: bigint): void {
    const l = this.table.get(id);
    if (!l) throw Errors.LeaseNotFound();
    for (const key of l.keys) {
      if (this.itemMap.get(key) === id) this.itemMap.delete(key);
    }
    this.table.delete(id);
    this.store?.remove(id);
    l.markRevoked();
  }

  /**
   * Records a checkpointed remaining TTL (etcd's Checkpoint; applied from LeaseCheckpoint
   * entries) and persists it; unknown leases are ignored.
   */
  checkpoint(id: bigint, remainingTtl: number): void {
    const l = this.table.get(id);
    if (!l) return;
    l.remainingTtl = remainingTtl;
    this.store?.save({ id, ttl: l.ttl, remainingTtl });
  }

  /**
   * Keep-alive (etcd's Renew): the lease expires its granted TTL from now; returns that TTL
   * (seconds). Only the primary renews. A lease already past its expiry, or whose revocation this
   * member has proposed, is not renewed: the answer waits until its revocation is applied and
   * then fails, or until this lessor is demoted
   * (etcd's Renew: `<-l.revokec` or `<-demotec`).
   * Errors: LeaseNotFound (NotFound) for an unknown or (after waiting) expired lease;
   * NotLeader (FailedPrecondition "etcdserver: not leader") when not primary, or demoted while
   * waiting (etcd's ErrNotPrimary: the caller asks the new leader).
   */
  renew(id: bigint): number | Promise<number> {
    if (!this.primary) throw Errors.NotLeader();
    const l = this.table.get(id);
    if (!l) throw Errors.LeaseNotFound();
    const now = this.clock.now();
    // A lease whose revocation this member proposed is not renewed even if a promotion has
    // refreshed it since: the revoke may still commit (found by server/sim seed 11707, a
    // keep-alive acknowledged just before the revoke proposed in an earlier term applied).
    if (l.remainingMs(now) <= 0 || l.revokeRequestedAt > -Infinity) {
      return l.whenRevoked().then((outcome) => {
        throw outcome === "demoted" ? Errors.NotLeader() : Errors.LeaseNotFound();
      });
    }
    l.remainingTtl = 0;
    l.expiry = now + l.ttl * 1000;
    return l.ttl;
  }

  /**
   * LeaseTimeToLive of lease `id`: remaining seconds (truncated), granted TTL and, with
   * `withKeys`, the attached keys sorted. Errors: LeaseNotFound (NotFound).
   */
  timeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive {
    const l = this.table.get(id);
    if (!l) throw Errors.LeaseNotFound();
    const remaining = l.remainingMs(this.clock.now());
    const ttl = remaining === Infinity ? 9_223_372_036 : Math.trunc(remaining / 1000);
    return { ttl, grantedTtl: l.ttl, keys: withKeys ? [...l.keys].sort() : [] };
  }

  /** Every lease, soonest expiry first (etcd's Leases, sorted by expiry). */
  leases(): Lease[] {
    return [...this.table.values()].sort((a, b) => a.expiry - b.expiry);
  }

  /**
   * IDs of expired leases whose revocation should be proposed now, at most `limit` (etcd's
   * findExpiredLeases): a lease handed out here is not handed out again for
   * {@link EXPIRED_LEASE_RETRY_MS}, unless its revocation failed meanwhile. Empty when not primary.
   */
  findExpired(limit: number): bigint[] {
    if (!this.primary) return [];
    const now = this.clock.now();
    const out: bigint[] = [];
    for (const l of this.table.values()) {
      if (out.length >= limit) break;
      if (l.expiry > now) continue;
      if (now - l.revokeRequestedAt < EXPIRED_LEASE_RETRY_MS) continue;
      l.revokeRequestedAt = now;
      out.push(l.id);
    }
    return out;
  }

  /** Number of keys attached to any lease (etcd's itemMap size). */
  get attachedKeys(): number {
    return this.itemMap.size;
  }

  /** The lease `key` (binary string) is attached to; 0n when none. */
  leaseOf(key: string): bigint {
    return this.itemMap.get(key) ?? 0n;
  }

  /**
   * Attaches `key` to lease `id` (etcd's Attach, from applying a put). Errors: LeaseNotFound.
   */
  attach(id: bigint, key: string): void {
    const l = this.table.get(id);
    if (!l) throw Errors.LeaseNotFound();
    l.keys.add(key);
    this.itemMap.set(key, id);
  }

  /** Detaches `key` from lease `id` (etcd's Detach, from a delete or a put moving the key); no-op when not attached. */
  detach(id: bigint, key: string): void {
    this.table.get(id)?.keys.delete(key);
    if (this.itemMap.get(key) === id) this.itemMap.delete(key);
  }
}

/**
 * etcd's minimum lease TTL in seconds for the given Raft timing (etcdserver/server.go):
 * ceil(⌊3 × electionTicks / 2⌋ × heartbeat), electionTicks = election timeout / heartbeat.
 * Defaults (100 ms, 1000 ms) give 2 s.
 */
export function minLeaseTtl(heartbeatIntervalMs: number, electionTimeoutMs: number): number {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatIntervalMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatIntervalMs) / 1000);
}
