import { expect, test } from "bun:test";
import { FollowerStats } from "./follower-stats.ts";

test("a follower's appends: etcd's running average, deviation, extremes and counts", () => {
  const f = new FollowerStats();
  expect(f.json()).toBe(
    `{"latency":{"current":0,"average":0,"standardDeviation":0,"minimum":9223372036854776000,"maximum":0},"counts":{"fail":0,"success":0}}`,
  );
  f.succeeded(1);
  f.succeeded(3);
  f.failed(2);
  const j = JSON.parse(f.json());
  expect(j.latency).toEqual({ current: 3, average: 2, standardDeviation: 1, minimum: 1, maximum: 3 });
  expect(j.counts).toEqual({ fail: 2, success: 2 });
});
