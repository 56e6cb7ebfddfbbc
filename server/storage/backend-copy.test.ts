/**
 * The backend copy (./backend-copy.ts): a point-in-time copy of a WAL backend held exclusively,
 * made while the event loop keeps running and writes keep landing; copies queue; Defragment's
 * checkpoint waits for a copy; a held copy keeps the main file frozen, readable through an
 * `immutable=1` connection, until it is released.
 */
import { afterAll, expect, test } from "bun:test";
import { constants, Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendCopyRunning, copyBackendFile, startBackendCopy } from "./backend-copy.ts";
import { defragment } from "./defrag.ts";
import { openBackend } from "./sqlite.ts";
import { beginImmediateInChild } from "./testing.ts";
import { watchEventLoopGaps } from "../http/test-util.ts";

const dir = mkdtempSync(join(tmpdir(), "backend-copy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A backend as the member opens it, with a `blobs` table of `rows` rows of `rowBytes` each. */
function filled(name: string, rows: number, rowBytes: number): Database {
  const db = openBackend(join(dir, name));
  db.run("CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB)");
  const ins = db.query("INSERT INTO blobs (v) VALUES (?)");
  const blob = new Uint8Array(rowBytes).fill(7);
  for (let done = 0; done < rows; ) {
    const n = Math.min(1000, rows - done);
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(blob);
    })();
    done += n;
  }
  return db;
}

const count = (db: Database) => (db.query("SELECT count(*) AS n FROM blobs").get() as { n: number }).n;

test("a copy of a ~200 MiB backend: the event loop keeps turning and writes land meanwhile; the copy is the state when it was asked for", async () => {
  const db = filled("big", 50_000, 4000);
  try {
    const before = count(db);
    const loopGaps = watchEventLoopGaps();
    let maxGapMs = 0;
    let writes = 0;
    const ins = db.query("INSERT INTO blobs (v) VALUES (?)");
    const writer = setInterval(() => {
      ins.run(new Uint8Array(4000));
      writes++;
    }, 1);
    const started = performance.now();
    const copying = copyBackendFile(db, join(dir, "big.copy"));
    expect(backendCopyRunning(db)).toBe(false); // the freeze starts in a later turn
    await copying;
    const tookMs = performance.now() - started;
    maxGapMs = loopGaps.stop();
    clearInterval(writer);
    // The old `VACUUM INTO` held the loop for the whole copy (seconds at this size).
    expect(writes).toBeGreaterThan(5);
    expect(maxGapMs).toBeLessThan(Math.max(150, tookMs / 4));
    const copy = new Database(join(dir, "big.copy"), { readonly: true });
    expect(count(copy)).toBe(before);
    expect((copy.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("delete");
    copy.close();
    expect(count(db)).toBe(before + writes);
    expect(backendCopyRunning(db)).toBe(false);
  } finally {
    db.close();
  }
}, 120_000);

test("copies queue, each as new as its request; Defragment's final checkpoint waits for a running copy", async () => {
  const db = filled("queue", 2000, 4000);
  try {
    const first = copyBackendFile(db, join(dir, "q1"));
    db.run("INSERT INTO blobs (v) VALUES (x'01')");
    const second = copyBackendFile(db, join(dir, "q2"));
    db.run("DELETE FROM blobs WHERE id <= 1000");
    const defrag = defragment(db, { nextTurn: (fn) => setImmediate(fn) });
    await Promise.all([first, second, defrag]);
    const c1 = new Database(join(dir, "q1"), { readonly: true });
    const c2 = new Database(join(dir, "q2"), { readonly: true });
    // Both copies started after the insert and delete (they are made in later turns), and are intact.
    expect([count(c1), count(c2)]).toEqual([1001, 1001]);
    expect((c1.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    expect((c2.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    c1.close();
    c2.close();
  } finally {
    db.close();
  }
});

test("an aborted copy leaves no file and ends the freeze", async () => {
  const db = filled("abort", 100, 100);
  try {
    const ac = new AbortController();
    ac.abort(new Error("client went away"));
    await expect(copyBackendFile(db, join(dir, "aborted"), ac.signal)).rejects.toThrow("client went away");
    expect(await Bun.file(join(dir, "aborted")).exists()).toBe(false);
    expect(backendCopyRunning(db)).toBe(false);
    await copyBackendFile(db, join(dir, "after-abort"));
    expect(await Bun.file(join(dir, "after-abort")).exists()).toBe(true);
  } finally {
    db.close();
  }
});

test("a held copy keeps the main file frozen after the copy until released; the next copy waits for that", async () => {
  const db = filled("held", 200, 100);
  try {
    const held = await startBackendCopy(db, join(dir, "held-copy"));
    const frozen = new Database(`file:${db.filename}?immutable=1`, constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI);
    try {
      expect(count(frozen)).toBe(200);
      await held.copied;
      const next = copyBackendFile(db, join(dir, "held-next"));
      // Past the auto-checkpoint size: only the freeze keeps these pages out of the main file.
      const ins = db.query("INSERT INTO blobs (v) VALUES (?)");
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) ins.run(new Uint8Array(4000));
      })();
      await Bun.sleep(20);
      expect(backendCopyRunning(db)).toBe(true);
      expect(count(frozen)).toBe(200);
      const copy = new Database(join(dir, "held-copy"), { readonly: true });
      expect(count(copy)).toBe(200);
      copy.close();
      held.release();
      held.release(); // a second release does nothing
      await next;
      const later = new Database(join(dir, "held-next"), { readonly: true });
      expect(count(later)).toBe(2200);
      later.close();
      expect(backendCopyRunning(db)).toBe(false);
    } finally {
      frozen.close();
    }
  } finally {
    db.close();
  }
});

test("a copy leaves SQLite's own lock in place: a plain connection from another process still finds the file locked", async () => {
  const db = filled("locked", 100, 100);
  try {
    await copyBackendFile(db, join(dir, "locked.copy"));
    // Not through openBackend (its flock would answer first): what `etcdctl backup` and `migrate` meet.
    expect(beginImmediateInChild(db.filename)).toBe("database is locked");
    expect(count(new Database(join(dir, "locked.copy"), { readonly: true }))).toBe(100);
  } finally {
    db.close();
  }
});
