/**
 * `etcdctl backup` (backup.ts) and `--force-new-cluster` (force-new-cluster.ts) on a data dir
 * built with the real storage code: what is carried, what is dropped, and the Raft position
 * a forced restart continues from. The end-to-end path (a member serving a backup) is in
 * server/e2e/backup.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MembersTable } from "../storage/members.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import { SqliteRaftStorage } from "../storage/raft-storage.ts";
import { backendPath, openBackend } from "../storage/sqlite.ts";
import { backupDataDir } from "./backup.ts";
import { forceNewCluster } from "./force-new-cluster.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "recovery-test-"));
  dirs.push(d);
  return d;
}

/** A data dir of member 0xa in a cluster of three, applied up to index 12 at term 3, with a v2 table and a key. */
function memberDataDir(): string {
  const dataDir = join(tempDir(), "m.etcd");
  const db = openBackend(dataDir);
  const meta = new Meta(db);
  meta.setBigint(MetaKeys.memberId, 0xan);
  meta.setBigint(MetaKeys.clusterId, 0xc1n);
  meta.setNumber(MetaKeys.appliedIndex, 12);
  meta.setNumber("raft_snapshot_index", 10);
  meta.setNumber("raft_snapshot_term", 2);
  meta.setString("raft_conf_state", JSON.stringify({ voters: ["10", "11", "12"], learners: [] }));
  const members = new MembersTable(db);
  for (const id of [0xan, 0xbn, 0xcn]) members.put({ id, name: `m${id}`, peerURLs: [`http://10.0.0.${id}:2380`], clientURLs: [], isLearner: false });
  db.run("INSERT INTO removed_members (id) VALUES ('d')");
  for (let i = 11; i <= 14; i++) db.run("INSERT INTO raft_log (idx, term, type, data) VALUES (?, 3, 0, NULL)", [i]);
  db.run("INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, 3, '11', 13)");
  db.run("INSERT INTO kv (id, main, sub, key, value, create_revision, version, lease, tombstone) VALUES (1, 2, 0, 'k', 'v', 2, 1, 0, 0)");
  db.run("INSERT INTO v2_nodes (path, dir, value, created_index, modified_index, expire_ms) VALUES ('/v2key', 0, 'v2value', 5, 5, 0)");
  db.close();
  return dataDir;
}

const count = (db: Database, table: string) => db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n;

describe("backupDataDir", () => {
  test("--with-v3 carries every table but the Raft log, hard state and membership; new IDs", () => {
    const src = memberDataDir();
    const dest = join(tempDir(), "b.etcd");
    const ids = backupDataDir({ dataDir: src, backupDir: dest, withV3: true });
    const db = new Database(backendPath(dest));
    const meta = new Meta(db);
    expect([count(db, "raft_log"), count(db, "hard_state"), count(db, "members"), count(db, "removed_members")]).toEqual([0, 0, 0, 0]);
    expect([count(db, "kv"), count(db, "v2_nodes")]).toEqual([1, 1]);
    expect([meta.getBigint(MetaKeys.memberId), meta.getBigint(MetaKeys.clusterId)]).toEqual([ids.memberId, ids.clusterId]);
    expect(ids.memberId).not.toBe(0xan);
    expect(meta.getNumber(MetaKeys.appliedIndex)).toBe(12);
    expect(meta.getNumber("raft_snapshot_index")).toBeUndefined();
    db.close();
    expect(() => backupDataDir({ dataDir: src, backupDir: dest, withV3: true })).toThrow(`${backendPath(dest)} exists`);
  });

  test("without --with-v3 the v3 keyspace is dropped, the v2 tables stay", () => {
    const dest = join(tempDir(), "b.etcd");
    backupDataDir({ dataDir: memberDataDir(), backupDir: dest, withV3: false });
    const db = new Database(backendPath(dest));
    expect([count(db, "kv"), count(db, "v2_nodes")]).toEqual([0, 1]);
    db.close();
  });

  test("a data dir without a backend is Go's open error", () => {
    const dir = tempDir();
    expect(() => backupDataDir({ dataDir: dir, backupDir: join(dir, "b"), withV3: true })).toThrow(`open ${join(dir, "member", "db")}: no such file or directory`);
  });
});

describe("forceNewCluster", () => {
  const cfg = { name: "solo", initialAdvertisePeerUrls: ["http://127.0.0.1:2380"], advertiseClientUrls: ["http://127.0.0.1:2379"] };

  test("keeps IDs and data; one member; the Raft log restarts at the applied index with this member alone", () => {
    const db = openBackend(memberDataDir());
    const done = forceNewCluster(db, cfg);
    expect(done).toEqual({ memberId: 0xan, clusterId: 0xc1n, commitIndex: 12, term: 3 });
    expect(new MembersTable(db).all()).toEqual([{ id: 0xan, name: "solo", peerURLs: cfg.initialAdvertisePeerUrls, clientURLs: cfg.advertiseClientUrls, isLearner: false }]);
    expect(count(db, "raft_log")).toBe(0);
    expect(count(db, "kv")).toBe(1);
    const storage = new SqliteRaftStorage(db, new Meta(db));
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(12)]).toEqual([13, 12, 3]);
    expect(storage.initialState()).toEqual({ hardState: { term: 3, vote: 0n, commit: 12 }, confState: { voters: [0xan], learners: [] } });
    db.close();
  });

  test("a backup (no log, no hard state; the term kept in meta) gets the same position", () => {
    const dest = join(tempDir(), "b.etcd");
    const ids = backupDataDir({ dataDir: memberDataDir(), backupDir: dest, withV3: true });
    const db = openBackend(dest);
    expect(forceNewCluster(db, cfg)).toEqual({ ...ids, commitIndex: 12, term: 3 });
    const storage = new SqliteRaftStorage(db, new Meta(db));
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([13, 12]);
    expect(storage.initialState().confState.voters).toEqual([ids.memberId]);
    db.close();
  });

  test("a data dir that never started is left alone", () => {
    const db = openBackend(join(tempDir(), "new.etcd"));
    expect(forceNewCluster(db, cfg)).toBeUndefined();
    expect(count(db, "members")).toBe(0);
    db.close();
  });
});
