import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBackend } from "./sqlite.ts";
import { openWalSync } from "./wal-sync.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function backend(): Database {
  const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
  dirs.push(dir);
  return openBackend(dir);
}

const flushed = (sync: ReturnType<typeof openWalSync>) => new Promise<Error | null>((resolve) => sync.sync(resolve));

test("a commit made without fsync is flushed: done(null), and the log holds the commit", async () => {
  const db = backend();
  const sync = openWalSync(db);
  db.run("PRAGMA synchronous = NORMAL");
  db.run("INSERT INTO meta (key, value) VALUES ('probe', 1)");
  expect(await flushed(sync)).toBeNull();
  expect(statSync(`${db.filename}-wal`).size).toBeGreaterThan(0);
  sync.close();
  db.close();
});

test("close() waits for the flush in flight; a flush asked after close() fails", async () => {
  const db = backend();
  const sync = openWalSync(db);
  const inFlight = flushed(sync);
  sync.close();
  expect(await inFlight).toBeNull();
  expect((await flushed(sync))?.message).toBe("write-ahead log already closed");
  db.close();
});

test("a backend that is not in WAL mode has no log to flush: openWalSync throws ENOENT", () => {
  const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
  dirs.push(dir);
  const db = new Database(join(dir, "db"), { create: true });
  db.run("PRAGMA journal_mode = DELETE");
  expect(() => openWalSync(db)).toThrow(/ENOENT|no such file/);
  db.close();
});
