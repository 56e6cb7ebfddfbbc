import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { LEASE_REVOKE_RATE, Lessor, type LeaseStore, MAX_LEASE_TTL, minLeaseTtl, type PersistedLease } from "./lessor.ts";
import { LeaseIdGenerator } from "./ids.ts";
import { startLeaseExpiry } from "./expiry.ts";

/** A clock tests move by hand. */
class FakeClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

class MemoryStore implements LeaseStore {
  rows = new Map<bigint, PersistedLease>();
  all(): PersistedLease[] {
    return [...this.rows.values()];
  }
  save(l: PersistedLease): void {
    this.rows.set(l.id, { ...l });
  }
  remove(id: bigint): void {
    this.rows.delete(id);
  }
}

function primary(clock = new FakeClock(), store?: LeaseStore): Lessor {
  const l = new Lessor({ minTtl: 2, clock, store });
  l.promote(0);
  return l;
}

function errorOf(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConnectError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("grant", () => {
  test("raises short TTLs to the minimum and persists", () => {
    const store = new MemoryStore();
    const lessor = primary(new FakeClock(), store);
    expect(lessor.grant(1n, 1).ttl).toBe(2);
    expect(lessor.grant(2n, -5).ttl).toBe(2);
    expect(lessor.grant(3n, 60).ttl).toBe(60);
    expect(store.rows.get(3n)).toEqual({ id: 3n, ttl: 60, remainingTtl: 0 });
  });

  test("etcd's errors", () => {
    const lessor = primary();
    lessor.grant(7n, 10);
    const exists = errorOf(() => lessor.grant(7n, 10));
    expect([exists.code, exists.rawMessage]).toEqual([Code.FailedPrecondition, "etcdserver: lease already exists"]);
    const tooLarge = errorOf(() => lessor.grant(8n, MAX_LEASE_TTL + 1));
    expect([tooLarge.code, tooLarge.rawMessage]).toEqual([Code.OutOfRange, "etcdserver: too large lease TTL"]);
    expect(errorOf(() => lessor.grant(0n, 10)).rawMessage).toBe("etcdserver: requested lease not found");
    expect(lessor.grant(9n, MAX_LEASE_TTL).ttl).toBe(MAX_LEASE_TTL);
  });

  test("minimum TTL from Raft timing", () => {
    expect(minLeaseTtl(100, 1000)).toBe(2);
    expect(minLeaseTtl(50, 500)).toBe(1);
    expect(minLeaseTtl(100, 5000)).toBe(8);
  });
});

describe("expiry with an injected clock", () => {
  test("a lease is handed out for revocation once its TTL has passed, then again after the retry interval", () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 5);
    clock.advance(4999);
    expect(lessor.findExpired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.findExpired(10)).toEqual([1n]);
    clock.advance(2999);
    expect(lessor.findExpired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.findExpired(10)).toEqual([1n]);
  });

  test("at most `limit` per round", () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    for (let i = 1n; i <= 5n; i++) lessor.grant(i, 2);
    clock.advance(2000);
    expect(lessor.findExpired(3)).toHaveLength(3);
    expect(lessor.findExpired(3)).toHaveLength(2);
  });

  test("a lessor that is not primary never expires leases", () => {
    const clock = new FakeClock();
    const lessor = new Lessor({ minTtl: 2, clock });
    lessor.grant(1n, 2);
    clock.advance(1e9);
    expect(lessor.findExpired(10)).toEqual([]);
    expect(lessor.timeToLive(1n, false).ttl).toBeGreaterThan(1e9);
  });

  test("the expiry loop proposes a revoke per expired lease", async () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 3);
    lessor.grant(2n, 10);
    const revoked: bigint[] = [];
    const loop = startLeaseExpiry(lessor, async (id) => revoked.push(id), 3_600_000);
    try {
      expect(loop.tick()).toBe(0);
      clock.advance(3000);
      expect(loop.tick()).toBe(1);
      expect(revoked).toEqual([1n]);
    } finally {
      loop.stop();
    }
  });
});

describe("keep-alive", () => {
  test("renew restarts the full TTL", () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 10);
    clock.advance(9000);
    expect(lessor.timeToLive(1n, false).ttl).toBe(1);
    expect(lessor.renew(1n)).toBe(10);
    expect(lessor.timeToLive(1n, false).ttl).toBe(10);
    clock.advance(9999);
    expect(lessor.findExpired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.findExpired(10)).toEqual([1n]);
  });

  test("unknown lease: LeaseNotFound; expired lease: waits for the revoke, then LeaseNotFound", async () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    expect(errorOf(() => lessor.renew(5n)).code).toBe(Code.NotFound);
    lessor.grant(1n, 2);
    clock.advance(2000);
    const pending = lessor.renew(1n);
    expect(pending).toBeInstanceOf(Promise);
    let settled = false;
    const result = (pending as Promise<number>).catch((e: ConnectError) => {
      settled = true;
      return e;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    lessor.remove(1n);
    const e = await result;
    expect((e as ConnectError).rawMessage).toBe("etcdserver: requested lease not found");
  });

  test("a lease whose revoke was proposed is not renewed after a re-promotion refreshed it (found by server/sim seed 11707)", async () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 2);
    clock.advance(2000);
    expect(lessor.findExpired(10)).toEqual([1n]);
    // Leadership lost and regained before the revoke committed: the lease looks alive again.
    lessor.demote();
    lessor.promote(1000);
    const pending = lessor.renew(1n);
    expect(pending).toBeInstanceOf(Promise);
    lessor.remove(1n);
    const e = await (pending as Promise<number>).catch((err: ConnectError) => err);
    expect((e as ConnectError).rawMessage).toBe("etcdserver: requested lease not found");
  });

  test("a keep-alive waiting for an expired lease's revoke fails with 'not leader' when the lessor is demoted (found by server/sim seed 7140: it waited for good)", async () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 2);
    clock.advance(2000);
    const pending = lessor.renew(1n) as Promise<number>;
    lessor.demote();
    const e = await pending.catch((err: ConnectError) => err);
    expect((e as ConnectError).rawMessage).toBe("etcdserver: not leader");
  });
});

describe("time to live and listing", () => {
  test("remaining seconds truncate; keys sorted; leases by expiry", () => {
    const clock = new FakeClock();
    const lessor = primary(clock);
    lessor.grant(1n, 30);
    lessor.grant(2n, 5);
    lessor.attach(1n, "b");
    lessor.attach(1n, "a");
    clock.advance(1500);
    expect(lessor.timeToLive(1n, true)).toEqual({ ttl: 28, grantedTtl: 30, keys: ["a", "b"] });
    expect(lessor.timeToLive(1n, false).keys).toEqual([]);
    expect(lessor.leases().map((l) => l.id)).toEqual([2n, 1n]);
    expect(errorOf(() => lessor.timeToLive(3n, false)).code).toBe(Code.NotFound);
  });

  test("attach, move, detach; remove forgets keys", () => {
    const lessor = primary();
    lessor.grant(1n, 10);
    lessor.grant(2n, 10);
    lessor.attach(1n, "k");
    expect(lessor.leaseOf("k")).toBe(1n);
    lessor.detach(1n, "k");
    lessor.attach(2n, "k");
    expect(lessor.lookup(1n)!.keys.size).toBe(0);
    expect(lessor.leaseOf("k")).toBe(2n);
    lessor.remove(2n);
    expect(lessor.leaseOf("k")).toBe(0n);
    expect(lessor.has(2n)).toBe(false);
  });
});

describe("restart", () => {
  test("leases come back with their full TTL plus the promotion extension", () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const before = primary(clock, store);
    before.grant(1n, 20);
    before.grant(2n, 1);
    clock.advance(15_000);
    const after = new Lessor({ minTtl: 2, clock, store });
    after.promote(1000);
    expect(after.timeToLive(1n, false)).toEqual({ ttl: 21, grantedTtl: 20, keys: [] });
    expect(after.timeToLive(2n, false).grantedTtl).toBe(2);
  });

  test("a checkpointed remaining TTL is used at promotion, and a renew clears it", () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const before = primary(clock, store);
    before.grant(1n, 100);
    before.checkpoint(1n, 40);
    const after = new Lessor({ minTtl: 2, clock, store });
    after.promote(0);
    expect(after.timeToLive(1n, false).ttl).toBe(40);
    after.renew(1n);
    expect(after.timeToLive(1n, false).ttl).toBe(100);
  });

  test("promotion spreads piled-up expiries over several seconds", () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const n = 2 * LEASE_REVOKE_RATE;
    for (let i = 1; i <= n; i++) store.save({ id: BigInt(i), ttl: 10, remainingTtl: 0 });
    const lessor = new Lessor({ minTtl: 2, clock, store });
    lessor.promote(0);
    clock.advance(11_000);
    // Without spreading, all 2000 would be expired 10 s after promotion.
    expect(lessor.findExpired(n).length).toBeLessThan(n);
    clock.advance(10_000);
    expect(lessor.findExpired(n).length).toBeGreaterThan(0);
  });
});

test("server-chosen IDs: member prefix, positive, increasing", () => {
  const gen = new LeaseIdGenerator(0x8e9e05c52164694dn, 1_700_000_000_000);
  const a = gen.next();
  const b = gen.next();
  expect(a >> 48n).toBe(0x694dn);
  expect(b).toBe(a + 1n);
  expect(a > 0n).toBe(true);
});
