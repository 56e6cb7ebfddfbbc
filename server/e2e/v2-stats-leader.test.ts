/**
 * `/v2/stats/leader` on a 3-member cluster (etcd's v2stats LeaderStats): the leader lists both
 * followers by ID, each with the MsgApp it sent them counted as successes (at least one per v2
 * write made through it) and their latencies in ms; a follower answers 403 `not current leader`.
 * Runs unchanged against the real etcd 3.4 with E2E_ETCD_BIN=/usr/bin/etcd.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup } from "./harness.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

const WRITES = 20;

interface FollowerJson {
  latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
  counts: { fail: number; success: number };
}

test("the leader counts and times the appends sent to each follower", async () => {
  const cluster = await TestCluster.start({ extraArgs: ["--enable-v2"] });
  const leader = await cluster.waitLeader();
  const ep = cluster.members[leader.index]!.clientUrl;
  const before = (await (await fetch(`${ep}/v2/stats/leader`)).json()) as { followers: Record<string, FollowerJson> };
  for (let i = 0; i < WRITES; i++) {
    const res = await fetch(`${ep}/v2/keys/k${i}`, { method: "PUT", body: `value=${i}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(201);
  }
  const res = await fetch(`${ep}/v2/stats/leader`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  const stats = (await res.json()) as { leader: string; followers: Record<string, FollowerJson> };
  const members = ((await (await fetch(`${ep}/v2/members`)).json()) as { members: { id: string }[] }).members.map((m) => m.id);
  const leaderId = leader.id.toString(16);
  expect(stats.leader).toBe(leaderId);
  expect(Object.keys(stats.followers).sort()).toEqual(members.filter((id) => id !== leaderId).sort());
  for (const [id, f] of Object.entries(stats.followers)) {
    expect(Object.keys(f)).toEqual(["latency", "counts"]);
    expect(Object.keys(f.latency)).toEqual(["current", "average", "standardDeviation", "minimum", "maximum"]);
    expect(f.counts.success - before.followers[id]!.counts.success).toBeGreaterThanOrEqual(WRITES);
    expect(f.counts.fail).toBe(0);
    const l = f.latency;
    expect(l.maximum).toBeGreaterThan(0);
    expect(l.minimum).toBeLessThanOrEqual(l.average);
    expect(l.average).toBeLessThanOrEqual(l.maximum);
    expect(l.current).toBeGreaterThanOrEqual(l.minimum);
    expect(l.current).toBeLessThanOrEqual(l.maximum);
    expect(l.standardDeviation).toBeGreaterThanOrEqual(0);
  }
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  const refused = await fetch(`${cluster.members[follower]!.clientUrl}/v2/stats/leader`);
  expect(refused.status).toBe(403);
  expect(await refused.json()).toEqual({ message: "not current leader" });
  await cluster.stop();
});
