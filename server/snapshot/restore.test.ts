/**
 * restoreSnapshot: a snapshot written by writeEtcdDb restores into a data dir a member opens
 * with the same keys, revisions, leases, users and compaction; the new cluster's members and
 * IDs are etcd's; bad input fails with etcdctl's texts and leaves nothing behind.
 */
import { afterAll, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserSchema } from "../../proto/gen/authpb/auth_pb.ts";
import {
  AlarmMemberSchema,
  AlarmType,
  LeaseTimeToLiveRequestSchema,
  RangeRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { KeyValueSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { Database } from "bun:sqlite";
import { startEtcdNode } from "../node/etcd-node.ts";
import { AuthTables } from "../storage/auth.ts";
import { backendPath } from "../storage/sqlite.ts";
import { quietNodeLogger, singleMemberConfig } from "../node/testing.ts";
import { FileSink } from "./bbolt/file-sink.ts";
import { BboltWriter } from "./bbolt/writer.ts";
import { revisionKey } from "./etcd-schema.ts";
import type { EtcdState, RevisionRecord } from "./etcd-state.ts";
import { restoreSnapshot, type RestoreOptions } from "./restore.ts";
import { writeEtcdDb } from "./write-etcd-db.ts";

const dir = mkdtempSync(join(tmpdir(), "restore-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = new TextEncoder();
const dec = new TextDecoder();

function put(main: number, key: string, value: string, createRevision: number, version: number, lease = 0n): RevisionRecord {
  return {
    main,
    sub: 0,
    tombstone: false,
    kv: create(KeyValueSchema, { key: enc.encode(key), value: enc.encode(value), createRevision: BigInt(createRevision), modRevision: BigInt(main), version: BigInt(version), lease }),
  };
}

/** Revisions 2..5 (rev 3 compacted away), a tombstone, a lease, a user; compacted at 4. */
const state: EtcdState = {
  revisions: () => [
    put(2, "a", "a1", 2, 1),
    put(4, "a", "a2", 2, 2),
    put(5, "b", "b1", 5, 1, 77n),
    { main: 6, sub: 0, tombstone: true, kv: create(KeyValueSchema, { key: enc.encode("c") }) },
  ],
  leases: () => [{ id: 77n, ttl: 600n, remainingTtl: 0n }],
  users: () => [{ name: enc.encode("root"), data: toBinary(UserSchema, create(UserSchema, { name: enc.encode("root"), roles: ["root"] })) }],
  roles: () => [],
  members: () => [{ id: 0x1234n, name: "old", peerURLs: ["http://10.0.0.1:2380"], clientURLs: [], isLearner: false }],
  removedMembers: () => [0x99n],
  alarms: () => [toBinary(AlarmMemberSchema, create(AlarmMemberSchema, { memberID: 0x1234n, alarm: AlarmType.NOSPACE }))],
  consistentIndex: 42n,
  compactRevision: 4,
  finishedCompactRevision: 4,
  authEnabled: false,
  authRevision: 3n,
  clusterVersion: "3.4.0",
};

/** Writes `state` as a snapshot file with etcd's trailing SHA-256. */
function snapshotFile(name: string): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  const steps = writeEtcdDb(state, new FileSink(fd, 4096));
  while (!steps.next().done);
  closeSync(fd);
  appendFileSync(path, createHash("sha256").update(readFileSync(path)).digest());
  return path;
}

const options = (snapshotPath: string, dataDir: string): RestoreOptions => ({
  snapshotPath,
  name: "default",
  dataDir,
  initialCluster: "default=http://localhost:2380",
  initialClusterToken: "etcd-cluster",
  initialAdvertisePeerUrls: "http://localhost:2380",
  skipHashCheck: false,
});

test("a restored data dir opens with the snapshot's state and the new cluster's identity", async () => {
  const file = snapshotFile("good.db");
  const dataDir = join(dir, "restored");
  const logs: string[] = [];
  const result = restoreSnapshot(options(file, dataDir), (_caller, msg) => logs.push(msg));
  expect(logs).toEqual(["restoring snapshot", "added member", "restored snapshot"]);
  expect(result).toMatchObject({ revision: 6, keys: 4 });
  expect(readdirSync(dir).filter((f) => f.includes("restoring"))).toEqual([]);

  const node = await startEtcdNode(singleMemberConfig(dataDir), quietNodeLogger);
  try {
    // IDs as etcd computes them for `default=http://localhost:2380` and token etcd-cluster.
    expect(node.memberId).toBe(result.memberId);
    expect(node.memberId.toString(16)).toBe("8e9e05c52164694d");
    expect(node.clusterId.toString(16)).toBe("cdf818194e3a8c32");
    await node.ready();
    const all = await node.range(create(RangeRequestSchema, { key: enc.encode("\0"), rangeEnd: enc.encode("\0"), serializable: true }));
    expect(all.kvs.map((kv) => [dec.decode(kv.key), dec.decode(kv.value), Number(kv.createRevision), Number(kv.modRevision), Number(kv.version), kv.lease])).toEqual([
      ["a", "a2", 2, 4, 2, 0n],
      ["b", "b1", 5, 5, 1, 77n],
    ]);
    expect(all.header!.revision).toBe(6n);
    await expect(node.range(create(RangeRequestSchema, { key: enc.encode("a"), revision: 3n, serializable: true }))).rejects.toThrow("required revision has been compacted");
    const ttl = await node.leaseTimeToLive(create(LeaseTimeToLiveRequestSchema, { ID: 77n, keys: true }));
    expect(ttl.grantedTTL).toBe(600n);
    expect(ttl.keys.map((k) => dec.decode(k))).toEqual(["b"]);
    // Raised alarms stay raised, as in etcd (the old member's ID).
    expect(node.alarmList().map((a) => [a.memberID, a.alarm])).toEqual([[0x1234n, AlarmType.NOSPACE]]);
    // The snapshot's own membership is gone: only the new member.
    expect(node.members().map((m) => m.name)).toEqual(["default"]);
  } finally {
    await node.close();
  }
  // Restored users are rows the auth tables find and replace (names are BLOBs, as they write them).
  const db = new Database(backendPath(dataDir));
  // Created as openBackend creates backends: incremental defragmentation works on it.
  expect(db.query("PRAGMA auto_vacuum").get()).toEqual({ auto_vacuum: 2 });
  const tables = new AuthTables(db);
  expect(tables.users().map((u) => dec.decode(u.name))).toEqual(["root"]);
  tables.putUser(create(UserSchema, { name: enc.encode("root"), roles: ["root", "x"] }));
  expect(tables.users().map((u) => u.roles)).toEqual([["root", "x"]]);
  tables.deleteUser("root");
  expect(tables.users()).toEqual([]);
  db.close();
});

test("errors are etcdctl's and nothing is written", () => {
  const file = snapshotFile("errors.db");
  const fresh = (n: string) => join(dir, n);
  const cases: [Partial<RestoreOptions>, string][] = [
    [{ dataDir: dir }, `data-dir "${dir}" exists`],
    [{ dataDir: fresh("e1"), name: "nope" }, `couldn't find local name "nope" in the initial cluster configuration`],
    [{ dataDir: fresh("e2"), initialAdvertisePeerUrls: "http://localhost:2381" }, `--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://localhost:2381 (resolved urls: "http://localhost:2381" != "http://localhost:2380")`],
    [{ dataDir: fresh("e3"), initialCluster: "default=localhost:2380" }, "URL scheme must be http, https, unix, or unixs: localhost:2380"],
    [{ dataDir: fresh("e4"), snapshotPath: join(dir, "missing.db") }, `open ${join(dir, "missing.db")}: no such file or directory`],
  ];
  for (const [o, message] of cases) {
    expect(() => restoreSnapshot({ ...options(file, ""), ...o })).toThrow(message);
    if (o.dataDir !== dir) expect(existsSync(o.dataDir!)).toBe(false);
  }
  const bytes = readFileSync(file);
  bytes[100] ^= 1;
  const corrupt = join(dir, "corrupt.db");
  writeFileSync(corrupt, bytes);
  expect(() => restoreSnapshot(options(corrupt, fresh("e5")))).toThrow(/^expected sha256 \[[0-9 ]+\], got \[[0-9 ]+\]$/);
  expect(existsSync(fresh("e5"))).toBe(false);
  // With --skip-hash-check the damage is bbolt's to find: meta page 0 fails its checksum, page 1 is used.
  const garbage = join(dir, "garbage.db");
  writeFileSync(garbage, new Uint8Array(8192 + 32).fill(7));
  expect(() => restoreSnapshot({ ...options(garbage, fresh("e6")), skipHashCheck: true })).toThrow("invalid database");
  expect(existsSync(fresh("e6"))).toBe(false);
  expect(readdirSync(dir).filter((f) => f.includes("restoring"))).toEqual([]);
});

test("etcd 3.5's bump marker and a scheduled but unfinished compaction are honoured", async () => {
  // As etcdutl 3.5 leaves a snapshot restored with --bump-revision 1000 --mark-compacted, saved again.
  const path = join(dir, "bumped.db");
  const fd = openSync(path, "w");
  const w = new BboltWriter(new FileSink(fd, 4096));
  for (const name of ["alarm", "auth", "authRoles", "authUsers", "cluster"]) {
    w.bucket(name);
    w.endBucket();
  }
  const key = w.bucket("key");
  for (const r of [put(2, "a", "a1", 2, 1), put(3, "a", "a2", 2, 2), put(4, "b", "b1", 4, 1)]) key.put(revisionKey(r.main, r.sub), toBinary(KeyValueSchema, create(KeyValueSchema, r.kv)));
  key.put(revisionKey(1004, 0), new Uint8Array(0));
  w.endBucket();
  for (const name of ["lease", "members", "members_removed"]) {
    w.bucket(name);
    w.endBucket();
  }
  const meta = w.bucket("meta");
  meta.put(enc.encode("consistent_index"), new Uint8Array(8));
  meta.put(enc.encode("scheduledCompactRev"), revisionKey(1004, 0));
  w.endBucket();
  w.finish();
  closeSync(fd);
  const dataDir = join(dir, "bumped");
  expect(restoreSnapshot({ ...options(path, dataDir), skipHashCheck: true }).revision).toBe(1004);
  const node = await startEtcdNode(singleMemberConfig(dataDir), quietNodeLogger);
  try {
    await node.ready();
    const all = await node.range(create(RangeRequestSchema, { key: enc.encode("\0"), rangeEnd: enc.encode("\0"), serializable: true }));
    expect(all.kvs.map((kv) => [dec.decode(kv.key), dec.decode(kv.value), Number(kv.modRevision)])).toEqual([["a", "a2", 3], ["b", "b1", 4]]);
    expect(all.header!.revision).toBe(1004n);
    await expect(node.range(create(RangeRequestSchema, { key: enc.encode("a"), revision: 1003n, serializable: true }))).rejects.toThrow("required revision has been compacted");
  } finally {
    await node.close();
  }
});
