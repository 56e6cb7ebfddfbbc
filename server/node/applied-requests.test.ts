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
