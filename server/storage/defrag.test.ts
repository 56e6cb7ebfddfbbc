import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { defragment, freePages } from "./defrag.ts";
import { backendPath, openBackend } from "./sqlite.ts";
import { backendSize } from "./size.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "defrag-"));
  dirs.push(d);
  return d;
}

/** Fills `kv` with 4 MiB of rows and deletes them, leaving free pages. */
function churn(db: Database): void {
  const ins = db.query("INSERT INTO kv (id, main, sub, key, value, create_revision, version, lease, tombstone) VALUES (?, ?, 0, ?, ?, 1, 1, 0, 0)");
  db.transaction(() => {
    for (let i = 1; i <= 1024; i++) ins.run(i, i, new TextEncoder().encode(`k${i}`), new Uint8Array(4096));
  })();
  db.run("DELETE FROM kv");
}

const nextTurn = (fn: () => void) => void setImmediate(fn);

test("a new backend vacuums incrementally in bounded steps, with writes between steps, and shrinks the file", async () => {
  const dir = tmp();
  const db = openBackend(dir);
  expect((db.query("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum).toBe(2);
  churn(db);
  expect(freePages(db)).toBeGreaterThan(1000);
  const sizeBefore = backendSize(db);
  expect(sizeBefore.inUseBytes).toBeLessThan(sizeBefore.totalBytes / 10);
  let turns = 0;
  let written = 0;
  const put = db.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('x', ?)");
  const result = await defragment(db, {
    stepPages: 64,
    nextTurn: (fn) => {
      turns++;
      // Another writer between steps (what apply batches do).
      db.transaction(() => put.run(++written))();
      setImmediate(fn);
    },
  });
  expect(result.fullVacuum).toBe(false);
  expect(result.freedPages).toBeGreaterThan(1000);
  expect(turns).toBeGreaterThanOrEqual(Math.floor(1000 / 64));
  expect(freePages(db)).toBe(0);
  expect(statSync(backendPath(dir)).size).toBeLessThan(sizeBefore.totalBytes / 4);
  db.close();
});

test("a backend without auto_vacuum is converted by one full VACUUM, then freed", async () => {
  const dir = tmp();
  const path = join(dir, "old.db");
  const db = new Database(path);
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE kv (id INTEGER PRIMARY KEY, main, sub, key, value, create_revision, version, lease, tombstone)");
  db.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value)");
  churn(db);
  let converted = 0;
  const result = await defragment(db, { nextTurn, onFullVacuum: () => converted++ });
  expect(converted).toBe(1);
  expect(result.fullVacuum).toBe(true);
  expect(freePages(db)).toBe(0);
  expect((db.query("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum).toBe(2);
  db.close();
});
