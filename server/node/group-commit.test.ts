import { expect, test } from "bun:test";
import { GroupCommit } from "./group-commit.ts";

test("items submitted in one turn are flushed as one batch, outcomes in order", async () => {
  const batches: number[][] = [];
  const gc = new GroupCommit<number, number>((items) => {
    batches.push(items);
    return items.map((n) => (n === 3 ? new Error("three") : n * 10));
  });
  const results = await Promise.allSettled([1, 2, 3, 4].map((n) => gc.submit(n)));
  expect(batches).toEqual([[1, 2, 3, 4]]);
  expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
    10,
    20,
    "three",
    40,
  ]);
});

test("a throwing flush rejects its whole batch and later batches still run", async () => {
  let calls = 0;
  const gc = new GroupCommit<number, number>((items) => {
    calls++;
    if (calls === 1) throw new Error("disk full");
    return items;
  });
  const first = Promise.allSettled([gc.submit(1), gc.submit(2)]);
  expect((await first).every((r) => r.status === "rejected")).toBe(true);
  expect(await gc.submit(5)).toBe(5);
});

test("maxBatch splits a long queue into several flushes", async () => {
  const sizes: number[] = [];
  const gc = new GroupCommit<number, number>((items) => {
    sizes.push(items.length);
    return items;
  }, 2);
  await Promise.all([1, 2, 3, 4, 5].map((n) => gc.submit(n)));
  expect(sizes).toEqual([2, 2, 1]);
});
