import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createSchema } from "../storage/schema.ts";
import { AppliedRequests, REQUEST_DEDUP_WINDOW_ENTRIES } from "./applied-requests.ts";

test("a request ID applied within the window is refused once more; ID 0 never; older IDs are forgotten", () => {
  const db = new Database(":memory:");
  createSchema(db);
  const r = new AppliedRequests(db);
  expect(r.firstTime(7n, 1)).toBe(true);
  expect(r.firstTime(7n, 2)).toBe(false);
  expect(r.firstTime(0n, 3)).toBe(true);
  expect(r.firstTime(0n, 4)).toBe(true);
  // uint64 IDs above 2^63 are kept as int64 and still told apart.
  expect(r.firstTime(2n ** 64n - 1n, 5)).toBe(true);
  expect(r.firstTime(2n ** 64n - 1n, 6)).toBe(false);
  // The memory is the table: another instance on the same backend (a restart) knows it.
  expect(new AppliedRequests(db).firstTime(7n, 7)).toBe(false);
  r.trim(REQUEST_DEDUP_WINDOW_ENTRIES);
  expect(r.firstTime(7n, 8)).toBe(false);
  r.trim(REQUEST_DEDUP_WINDOW_ENTRIES + 1);
  expect(r.firstTime(7n, REQUEST_DEDUP_WINDOW_ENTRIES + 2)).toBe(true);
  db.close();
});

test("the in-memory mirror follows the table: trims delete rows, a replaced row or table is read again", () => {
  const db = new Database(":memory:");
  createSchema(db);
  const rows = () => db.query<{ idx: number; id: number }, []>("SELECT idx, id FROM applied_requests ORDER BY idx").all();
  const r = new AppliedRequests(db);
  for (let i = 1; i <= 5; i++) expect(r.firstTime(BigInt(100 + i), i)).toBe(true);
  r.trim(REQUEST_DEDUP_WINDOW_ENTRIES + 2);
  expect(rows().map((x) => x.idx)).toEqual([3, 4, 5]);
  expect(r.firstTime(101n, 6)).toBe(true);
  expect(r.firstTime(103n, 7)).toBe(false);
  // A row written again at an index already recorded replaces that index's ID.
  expect(r.firstTime(200n, 4)).toBe(true);
  expect(rows()).toEqual([{ idx: 3, id: 103 }, { idx: 4, id: 200 }, { idx: 5, id: 105 }, { idx: 6, id: 101 }]);
  expect(r.firstTime(104n, 8)).toBe(true);
  expect(r.firstTime(200n, 9)).toBe(false);
  // A snapshot replaces the table: reload() forgets what it does not hold.
  db.run("DELETE FROM applied_requests");
  db.run("INSERT INTO applied_requests (idx, id) VALUES (50, 300)");
  r.reload();
  expect(r.firstTime(103n, 51)).toBe(true);
  expect(r.firstTime(300n, 52)).toBe(false);
  r.trim(REQUEST_DEDUP_WINDOW_ENTRIES + 50);
  expect(rows()).toEqual([{ idx: 51, id: 103 }]);
  expect(r.firstTime(300n, 53)).toBe(true);
  db.close();
});
