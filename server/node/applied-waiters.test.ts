import { expect, test } from "bun:test";
import { AppliedWaiters } from "./applied-waiters.ts";
import { ManualEnv } from "./testing.ts";

test("waiters resolve true once the applied index reaches theirs, false at their deadline, sharing one timer", async () => {
  const env = new ManualEnv();
  const w = new AppliedWaiters(env);
  expect(await w.wait(3, 5, 100)).toBe(true);
  const results: [string, boolean][] = [];
  const track = (name: string, p: Promise<boolean>) => void p.then((r) => results.push([name, r]));
  track("a@10 within 100ms", w.wait(10, 5, 100));
  track("b@7 within 300ms", w.wait(7, 5, 300));
  track("c@20 unbounded", w.wait(20, 5));
  track("d@30 within 50ms", w.wait(30, 5, 50));
  expect(env.pendingTimers).toBe(1);
  w.release(8);
  await Promise.resolve();
  expect(results).toEqual([["b@7 within 300ms", true]]);
  await env.advance(60);
  expect(results.at(-1)).toEqual(["d@30 within 50ms", false]);
  expect(env.pendingTimers).toBe(1);
  await env.advance(50);
  expect(results.at(-1)).toEqual(["a@10 within 100ms", false]);
  expect(env.pendingTimers).toBe(0);
  w.release(25);
  await Promise.resolve();
  expect(results.at(-1)).toEqual(["c@20 unbounded", true]);
  expect(w.size).toBe(0);
});

test("failAll rejects every waiter and drops the timer", async () => {
  const env = new ManualEnv();
  const w = new AppliedWaiters(env);
  const p = w.wait(10, 1, 100);
  w.failAll(new Error("stopped"));
  await expect(p).rejects.toThrow("stopped");
  expect(env.pendingTimers).toBe(0);
});
