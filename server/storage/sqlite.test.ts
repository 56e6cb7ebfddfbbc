import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendPath, DataDirLockedError, openBackend } from "./sqlite.ts";
import { beginImmediateInChild, openBackendInChild } from "./testing.ts";

const dirs: string[] = [];
function tempDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "etcd-storage-"));
  dirs.push(d);
  return join(d, "data");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("openBackend", () => {
  test("creates <dir>/member/db with mode 0700 dir, WAL, synchronous FULL and the schema", () => {
    const dataDir = tempDataDir();
    const db = openBackend(dataDir);
    try {
      expect(statSync(join(dataDir, "member")).mode & 0o777).toBe(0o700);
      expect(statSync(backendPath(dataDir)).isFile()).toBe(true);
      expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
      expect(db.query("PRAGMA locking_mode").get()).toEqual({ locking_mode: "exclusive" });
      const tables = db
        .query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => (r as { name: string }).name);
      expect(tables).toEqual(["alarms", "applied_requests", "auth_roles", "auth_users", "hard_state", "kv", "leases", "members", "meta", "raft_log", "removed_members", "v2_events", "v2_nodes", "v2_state"]);
    } finally {
      db.close();
    }
  });

  test("is idempotent: reopening keeps data", () => {
    const dataDir = tempDataDir();
    let db = openBackend(dataDir);
    db.run("INSERT INTO meta (key, value) VALUES ('x', 42)");
    db.close();
    db = openBackend(dataDir);
    expect(db.query("SELECT value FROM meta WHERE key = 'x'").get()).toEqual({ value: 42 });
    db.close();
  });

  test("a second process cannot open a data dir in use, and can once it is closed", () => {
    const dataDir = tempDataDir();
    const db = openBackend(dataDir);
    expect(openBackendInChild(dataDir)).toBe(`DataDirLockedError: data dir "${dataDir}" is in use by another etcd process`);
    db.close();
    expect(openBackendInChild(dataDir)).toBe("opened");
  });

  test("the data dir stays locked after the process opened and closed another descriptor of the file (a copy of it)", () => {
    const dataDir = tempDataDir();
    const db = openBackend(dataDir);
    try {
      // Closing any descriptor of the file drops the process's POSIX record locks, SQLite's among them.
      copyFileSync(backendPath(dataDir), join(dataDir, "copy"));
      closeSync(openSync(backendPath(dataDir), "r"));
      expect(openBackendInChild(dataDir)).toBe(`DataDirLockedError: data dir "${dataDir}" is in use by another etcd process`);
    } finally {
      db.close();
    }
    expect(openBackendInChild(dataDir)).toBe("opened");
  });

  test("a second open in the same process fails with DataDirLockedError and leaves the first one's SQLite lock in place", () => {
    const dataDir = tempDataDir();
    const db = openBackend(dataDir);
    try {
      expect(() => openBackend(dataDir)).toThrow(DataDirLockedError);
      // What `etcdctl backup` meets: SQLite's own lock, not the flock.
      expect(beginImmediateInChild(backendPath(dataDir))).toBe("database is locked");
    } finally {
      db.close();
    }
    expect(() => openBackend(dataDir).close()).not.toThrow();
  });
});
