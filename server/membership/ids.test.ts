import { afterAll, describe, expect, test } from "bun:test";
import { bootstrapCluster, computeClusterId, computeMemberId, idToHex } from "./ids.ts";
import { parseInitialCluster } from "../config.ts";
import { etcdctl, startRealEtcd, type RealEtcd } from "../http/test-util.ts";

/** uint64 values of `"field":123` in etcdctl JSON output, kept exact (JSON.parse would round them). */
function uint64Fields(json: string, field: string): bigint[] {
  return [...json.matchAll(new RegExp(`"${field}":(\\d+)`, "g"))].map((m) => BigInt(m[1]!));
}

describe("member and cluster IDs", () => {
  test("known vector: etcd's default single member", () => {
    // `etcd` with all defaults: member 8e9e05c52164694d in cluster cdf818194e3a8c32 (etcd docs and logs).
    const id = computeMemberId(["http://localhost:2380"], "etcd-cluster");
    expect(idToHex(id)).toBe("8e9e05c52164694d");
    expect(idToHex(computeClusterId([id]))).toBe("cdf818194e3a8c32");
  });

  test("peer URL order does not matter, token and time do", () => {
    const a = computeMemberId(["http://10.0.0.2:2380", "http://10.0.0.1:2380"], "t");
    expect(computeMemberId(["http://10.0.0.1:2380", "http://10.0.0.2:2380"], "t")).toBe(a);
    expect(computeMemberId(["http://10.0.0.1:2380", "http://10.0.0.2:2380"], "u")).not.toBe(a);
    expect(computeMemberId(["http://10.0.0.1:2380", "http://10.0.0.2:2380"], "t", 1700000000)).not.toBe(a);
  });

  const started: RealEtcd[] = [];
  afterAll(async () => {
    await Promise.all(started.map((e) => e.stop()));
  });

  test("single member: same IDs as the real etcd's member list", async () => {
    const etcd = await startRealEtcd("idtest", ["--initial-cluster-token", "token-ids-1"]);
    started.push(etcd);
    await etcd.waitForLog("serving client traffic insecurely; this is strongly discouraged!");
    const out = await etcdctl(["--endpoints", etcd.endpoint, "member", "list", "-w", "json"]);
    expect(out.code).toBe(0);
    const ours = bootstrapCluster(parseInitialCluster(`idtest=${etcd.peerUrl}`), "token-ids-1");
    expect(uint64Fields(out.stdout, "cluster_id")).toEqual([ours.clusterId]);
    expect(uint64Fields(out.stdout, "ID")).toEqual([ours.members[0]!.id]);

    // MemberAdd IDs hash the peer URLs with an empty token and the add time in Unix seconds.
    const before = Math.floor(Date.now() / 1000);
    const add = await etcdctl(["--endpoints", etcd.endpoint, "member", "add", "late", "--peer-urls=http://127.0.0.1:1", "-w", "json"]);
    const after = Math.floor(Date.now() / 1000);
    expect(add.code).toBe(0);
    const added = uint64Fields(add.stdout.replace(/"members":.*/s, ""), "ID")[0];
    const candidates = [];
    for (let t = before - 1; t <= after + 1; t++) candidates.push(computeMemberId(["http://127.0.0.1:1"], "", t));
    expect(candidates).toContain(added!);
  });

  test("three-member bootstrap: same local member ID and cluster ID as the real etcd logs", async () => {
    const initial = "m1={peer},m2=http://127.0.0.1:1,m2=http://127.0.0.2:1,m3=http://127.0.0.3:1";
    const etcd = await startRealEtcd("m1", ["--initial-cluster", initial, "--initial-cluster-token", "token-ids-3"]);
    started.push(etcd);
    const line = await etcd.waitForLog("starting local member");
    const ours = bootstrapCluster(parseInitialCluster(initial.replace("{peer}", etcd.peerUrl)), "token-ids-3");
    expect(line["cluster-id"]).toBe(idToHex(ours.clusterId));
    expect(line["local-member-id"]).toBe(idToHex(ours.members.find((m) => m.name === "m1")!.id));
  });
});
