/**
 * Our encodings of etcd's buckets against the bytes etcd 3.4 writes: a snapshot of the real
 * etcd (keys, a delete, a compaction, a lease, users and roles with auth enabled) is read back
 * into an EtcdState and written again with writeEtcdDb; every bucket must come out byte for
 * byte the same, and Go's `etcdctl snapshot status` must print the same hash for both files.
 */
import { afterAll, expect, test } from "bun:test";
import { fromBinary } from "@bufbuild/protobuf";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { placeEtcd, runProcess, startEtcd } from "../../cli/testing/etcd-process.ts";
import { KeyValueSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { LeaseSchema } from "../../proto/gen/leasepb/lease_pb.ts";
import { FileSink } from "./bbolt/file-sink.ts";
import { BboltReader } from "./bbolt/reader.ts";
import {
  AUTH_ENABLED,
  AUTH_REVISION,
  CLUSTER_VERSION,
  decodeMemberJson,
  encodeMemberJson,
  ETCD_BUCKETS,
  META_CONSISTENT_INDEX,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
  parseRevisionKey,
  readU64be,
  revisionKey,
} from "./etcd-schema.ts";
import type { EtcdState } from "./etcd-state.ts";
import { writeEtcdDb } from "./write-etcd-db.ts";

const dir = mkdtempSync(join(tmpdir(), "etcd-db-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dec = new TextDecoder();
const GO = ["/usr/bin/etcdctl"];

/** An EtcdState read back from an etcd snapshot file. */
function stateOf(r: BboltReader): EtcdState {
  const meta = new Map([...r.entries("meta")].map((e) => [dec.decode(e.key), e.value]));
  const auth = new Map([...r.entries("auth")].map((e) => [dec.decode(e.key), e.value]));
  const finished = meta.get(META_FINISHED_COMPACT);
  const scheduled = meta.get(META_SCHEDULED_COMPACT);
  return {
    revisions: () =>
      [...r.entries("key")].map((e) => ({ ...parseRevisionKey(e.key), kv: fromBinary(KeyValueSchema, e.value) })),
    leases: () =>
      [...r.entries("lease")].map((e) => {
        const l = fromBinary(LeaseSchema, e.value);
        return { id: l.ID, ttl: l.TTL, remainingTtl: l.RemainingTTL };
      }),
    users: () => [...r.entries("authUsers")].map((e) => ({ name: e.key, data: e.value })),
    roles: () => [...r.entries("authRoles")].map((e) => ({ name: e.key, data: e.value })),
    members: () => [...r.entries("members")].map((e) => decodeMemberJson(dec.decode(e.value))),
    removedMembers: () => [...r.entries("members_removed")].map((e) => BigInt(`0x${dec.decode(e.key)}`)),
    alarms: () => [...r.entries("alarm")].map((e) => e.key),
    consistentIndex: readU64be(meta.get(META_CONSISTENT_INDEX)!),
    compactRevision: scheduled ? parseRevisionKey(scheduled).main : 0,
    finishedCompactRevision: finished ? parseRevisionKey(finished).main : 0,
    authEnabled: auth.get(AUTH_ENABLED)?.[0] === 1,
    authRevision: readU64be(auth.get(AUTH_REVISION)!),
    clusterVersion: dec.decode([...r.entries("cluster")].find((e) => dec.decode(e.key) === CLUSTER_VERSION)!.value),
  };
}

test("etcd 3.4's buckets, read and written again, come out byte for byte the same", async () => {
  const etcd = await startEtcd(await placeEtcd());
  const ctl = (args: string[]) => runProcess(GO, ["--endpoints", etcd.endpoint, ...args], "", { ETCDCTL_API: "3" });
  try {
    for (let i = 0; i < 40; i++) await ctl(["put", `k${i % 11}`, `value ${i}`]);
    await ctl(["del", "k4"]);
    await ctl(["compaction", "20"]);
    const grant = dec.decode((await ctl(["lease", "grant", "900"])).stdout);
    await ctl(["put", "leased", "x", "--lease", /lease ([0-9a-f]+)/.exec(grant)![1]!]);
    for (const args of [["user", "add", "root:pw"], ["user", "add", "bob:pw"], ["role", "add", "r1"], ["role", "grant-permission", "r1", "readwrite", "a", "b"], ["user", "grant-role", "bob", "r1"], ["auth", "enable"]]) {
      expect((await ctl(args)).code).toBe(0);
    }
    const file = join(dir, "real.db");
    expect((await ctl(["--user", "root:pw", "snapshot", "save", file])).code).toBe(0);

    const real = BboltReader.open(file);
    const copy = join(dir, "copy.db");
    const fd = openSync(copy, "w");
    try {
      const steps = writeEtcdDb(stateOf(real), new FileSink(fd, 4096));
      while (!steps.next().done);
    } finally {
      closeSync(fd);
    }
    const ours = BboltReader.open(copy);
    try {
      expect(ours.bucketNames()).toEqual([...ETCD_BUCKETS]);
      for (const bucket of ETCD_BUCKETS) {
        const want = [...real.entries(bucket)].map((e) => [Buffer.from(e.key).toString("hex"), Buffer.from(e.value).toString("hex")]);
        const got = [...ours.entries(bucket)].map((e) => [Buffer.from(e.key).toString("hex"), Buffer.from(e.value).toString("hex")]);
        expect({ bucket, entries: got }).toEqual({ bucket, entries: want });
      }
      // What the encoders are checked on, besides the round trip.
      const m = [...real.entries("members")][0]!;
      expect(encodeMemberJson(decodeMemberJson(dec.decode(m.value)))).toBe(dec.decode(m.value));
      const finished = [...real.entries("meta")].find((e) => dec.decode(e.key) === META_FINISHED_COMPACT)!;
      expect(Buffer.from(finished.value)).toEqual(Buffer.from(revisionKey(20, 0)));
      expect([...real.entries("key")].some((e) => parseRevisionKey(e.key).tombstone)).toBe(true);
      expect([...real.entries("authUsers")].length).toBe(2);
    } finally {
      ours.close();
      real.close();
    }
    const statusOf = async (f: string) => dec.decode((await runProcess(GO, ["snapshot", "status", f, "-w", "json"], "", { ETCDCTL_API: "3" })).stdout);
    const [a, b] = [JSON.parse(await statusOf(file)), JSON.parse(await statusOf(copy))];
    expect(b.hash).toBe(a.hash);
    expect(b.revision).toBe(a.revision);
    expect(b.totalKey).toBe(a.totalKey);
  } finally {
    await etcd.stop();
  }
}, 60_000);
