/**
 * The backend read in etcd's terms (./sqlite-state.ts) through a connection that changes
 * mid-read, as a streamed snapshot switches from the frozen backend file to its copy
 * (./stream.ts): the revisions go on after the last row read, each exactly once, in order.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createSchema } from "../storage/schema.ts";
import { sqliteEtcdState } from "./sqlite-state.ts";

const enc = new TextEncoder();

/** An in-memory backend with `n` kv rows (ids 10, 20, ...: resumption goes by id, not by position). */
function backend(n: number): Database {
  const db = new Database(":memory:");
  createSchema(db);
  const ins = db.query("INSERT INTO kv (id, main, sub, key, value, create_revision, version, lease, tombstone) VALUES (?, ?, 0, ?, ?, ?, 1, 0, 0)");
  for (let i = 1; i <= n; i++) ins.run(i * 10, i + 1, enc.encode(`k${i}`), enc.encode(`v${i}`), i + 1);
  return db;
}

test("revisions go on from a second connection with the same data after the last row read", () => {
  const first = backend(7);
  const second = backend(7);
  // Rows only the second has before the switch point would show up twice if it restarted.
  let source = first;
  const state = sqliteEtcdState(() => source, "3.4.0");
  const mains: number[] = [];
  for (const r of state.revisions()) {
    mains.push(r.main);
    if (mains.length === 3) {
      source = second;
      first.close(); // nothing may read it any more
    }
  }
  expect(mains).toEqual([2, 3, 4, 5, 6, 7, 8]);
  second.close();
});

test("a switch before the first row reads everything from the new connection", () => {
  const first = backend(2);
  const second = backend(4);
  let source = first;
  const state = sqliteEtcdState(() => source, "3.4.0");
  source = second;
  expect([...state.revisions()].map((r) => r.main)).toEqual([2, 3, 4, 5]);
  first.close();
  second.close();
});
