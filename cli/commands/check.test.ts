/**
 * `check perf`'s verdict with etcd's thresholds (check.go): lines as etcdctl 3.4 prints them for
 * a passing run (seen on etcd 3.4.23), a slow one, and one with errors.
 */
import { expect, test } from "bun:test";
import { perfStats } from "./check-load.ts";
import { perfVerdict } from "./check.ts";

test("a passing run: etcdctl's five lines", () => {
  const stats = { rps: 150.2, slowestS: 0.123767, stddevS: 0.005517, errors: new Map() };
  expect(perfVerdict(stats, 150)).toEqual({
    lines: ["PASS: Throughput is 151 writes/s", "PASS: Slowest request took 0.123767s", "PASS: Stddev is 0.005517s", "PASS"],
    ok: true,
  });
});

test("throughput at 90 % of the limit, a put over 0.5 s, stddev over 0.1 s, errors: FAIL", () => {
  const stats = { rps: 135, slowestS: 0.75, stddevS: 0.2, errors: new Map([["etcdserver: too many requests", 3]]) };
  expect(perfVerdict(stats, 150)).toEqual({
    lines: [
      "FAIL: too many errors",
      "FAIL: ERROR(etcdserver: too many requests) -> 3",
      "FAIL: Throughput too low: 136 writes/s",
      "Slowest request took too long: 0.750000s",
      "Stddev too high: 0.200000s",
      "FAIL",
    ],
    ok: false,
  });
});

test("pkg/report's numbers: RPS over the total time, slowest, population stddev", () => {
  const s = perfStats([0.1, 0.3], 2, new Map());
  expect([s.rps, s.slowestS]).toEqual([1, 0.3]);
  expect(s.stddevS).toBeCloseTo(0.1, 12);
});
