import { describe, expect, test } from "bun:test";
import { Errors } from "../errors.ts";
import { ManualEnv } from "../node/testing.ts";
import { parseCompactionRetention, startCompactor, type CompactionMode } from "./compactor.ts";

const MIN = 60_000;

/** A member whose revision grows by one per simulated minute; records compactions and log lines. */
function harness(mode: CompactionMode, retention: string, fail?: (rev: number) => Error | undefined) {
  const env = new ManualEnv();
  const compacted: [number, number][] = []; // [minute, revision]
  const logs: [string, Record<string, unknown>][] = [];
  const log = { info: (m: string, f = {}) => logs.push([m, f]), warn: (m: string, f = {}) => logs.push([m, f]) };
  const rev = () => 1 + Math.floor(env.monotonicMs() / MIN);
  const c = startCompactor(mode, parseCompactionRetention(mode, retention), {
    env,
    log,
    rev,
    compact: async (r) => {
      const e = fail?.(r);
      if (e) throw e;
      compacted.push([env.monotonicMs() / MIN, r]);
    },
  })!;
  return { env, c, compacted, logs };
}

describe("periodic auto-compaction (v3compactor/periodic.go)", () => {
  // etcd keeps period/interval + 1 samples and compacts at the oldest: after the first compaction
  // that is the revision sampled one period plus one sampling interval before (66 min for 1 h).
  test("retention 1h: nothing for the first hour, then hourly at the revision of 66 minutes before", async () => {
    const h = harness("periodic", "1");
    await h.env.advance(59 * MIN);
    expect(h.compacted).toEqual([]);
    await h.env.advance(181 * MIN);
    expect(h.compacted).toEqual([[60, 1], [120, 55], [180, 115], [240, 175]]);
    expect(h.logs.slice(0, 2)).toEqual([
      ["starting auto periodic compaction", { revision: 1, "compact-period": "1h0m0s" }],
      ["completed auto periodic compaction", { revision: 1, "compact-period": "1h0m0s", took: "1h0m0s" }],
    ]);
  });

  test("retention 3h: the first after 3 h, then every hour, each at the revision of 3 h 6 min before", async () => {
    const h = harness("periodic", "3h");
    await h.env.advance(300 * MIN);
    expect(h.compacted).toEqual([[180, 1], [240, 55], [300, 115]]);
  });

  test("retention 10m: samples every minute; compacts every 10 min at the revision of 11 min before", async () => {
    const h = harness("periodic", "10m");
    await h.env.advance(30 * MIN);
    expect(h.compacted).toEqual([[10, 1], [20, 10], [30, 20]]);
  });

  test("paused (not the leader): no compaction; resumed: compacts at the next sample", async () => {
    const h = harness("periodic", "10m");
    h.c.pause();
    await h.env.advance(30 * MIN);
    expect(h.compacted).toEqual([]);
    h.c.resume();
    await h.env.advance(1 * MIN);
    expect(h.compacted).toEqual([[31, 21]]);
    h.c.stop();
    await h.env.advance(60 * MIN);
    expect(h.compacted.length).toBe(1);
    expect(h.env.pendingTimers).toBe(0);
  });

  test("a failure is logged and retried a sampling interval later; 'compacted' counts as success", async () => {
    let failures = 1;
    const h = harness("periodic", "10m", () => (failures-- > 0 ? Errors.Timeout() : undefined));
    await h.env.advance(11 * MIN);
    expect(h.compacted).toEqual([[11, 1]]);
    expect(h.logs[1]).toEqual([
      "failed auto periodic compaction",
      { revision: 1, "compact-period": "10m0s", "retry-interval": "1m0s", error: "etcdserver: request timed out" },
    ]);
    const c = harness("periodic", "10m", () => Errors.Compacted());
    await c.env.advance(10 * MIN);
    expect(c.logs.map((l) => l[0])).toEqual(["starting auto periodic compaction", "completed auto periodic compaction"]);
  });
});

describe("revision auto-compaction (v3compactor/revision.go)", () => {
  test("every 5 minutes at the current revision minus the retention; skips a non-positive or repeated revision", async () => {
    const h = harness("revision", "8");
    await h.env.advance(5 * MIN);
    expect(h.compacted).toEqual([]); // revision 6 - 8 <= 0
    await h.env.advance(10 * MIN);
    expect(h.compacted).toEqual([[10, 3], [15, 8]]);
    expect(h.logs[0]).toEqual(["starting auto revision compaction", { revision: 3, "revision-compaction-retention": 8 }]);
    expect(h.logs[1]![0]).toBe("completed auto revision compaction");
    h.c.pause();
    await h.env.advance(10 * MIN);
    expect(h.compacted.length).toBe(2);
  });
});

test("--auto-compaction-retention is read as etcd 3.4 reads it (embed/etcd.go)", () => {
  expect(parseCompactionRetention("periodic", "1")).toBe(3600e9);
  expect(parseCompactionRetention("periodic", "30m")).toBe(1800e9);
  expect(parseCompactionRetention("periodic", "0")).toBe(0);
  expect(parseCompactionRetention("periodic", "")).toBe(0);
  expect(parseCompactionRetention("revision", "1000")).toBe(1000);
  expect(parseCompactionRetention("revision", "1h")).toBe(3600e9);
  expect(() => parseCompactionRetention("periodic", "abc")).toThrow('error parsing CompactionRetention: time: invalid duration "abc"');
  expect(startCompactor("periodic", 0, {} as never)).toBeUndefined();
});
