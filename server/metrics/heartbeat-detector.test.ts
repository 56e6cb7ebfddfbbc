import { expect, test } from "bun:test";
import { HeartbeatTimeoutDetector } from "./heartbeat-detector.ts";

test("a heartbeat more than two intervals after the previous one to the same peer is late (pkg/contention)", () => {
  let now = 0;
  const d = new HeartbeatTimeoutDetector(100, () => now);
  expect(d.observe(1n)).toBe(0);
  now = 200;
  expect(d.observe(1n)).toBe(0);
  expect(d.observe(2n)).toBe(0);
  now = 650;
  expect(d.observe(1n)).toBe(250);
  expect(d.warningFields(1n, 250)).toEqual({ to: "1", "heartbeat-interval": "100ms", "expected-duration": "200ms", "exceeded-duration": "250ms" });
  d.reset();
  now = 5_000;
  expect(d.observe(2n)).toBe(0);
});
