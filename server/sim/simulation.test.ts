// Whole-member simulation (server/sim/run.ts): real members under simulated time, disk and
// network, with clients and faults, checked after every run.
// SIM_SEEDS=n runs n seeds (default sized for CI) from SIM_FIRST (default 1); SIM_LONG=1 runs
// 100,000; SIM_SEED=n replays one seed and prints its trace.
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { MessageType } from "../raft/types.ts";
import { Prng } from "../raft/prng.ts";
import { runSimulation, type SimResult } from "./run.ts";
import { SimCluster } from "./cluster.ts";
import { SimNetwork } from "./network.ts";
import { SimScheduler } from "./scheduler.ts";

const single = process.env.SIM_SEED;
// CI: 300 seeds (see the README section "Whole-member simulation" for the time they take).
const count = process.env.SIM_LONG ? 100_000 : Number(process.env.SIM_SEEDS ?? 300);
const first = Number(process.env.SIM_FIRST ?? 1);
const seeds = single ? [Number(single)] : Array.from({ length: count }, (_, i) => first + i);

/** Runs `seeds`; returns the failed runs (stops after `maxFailures`). */
async function runSeeds(
  list: number[],
  opts: { lazySync?: boolean; trace?: boolean; maxFailures?: number },
): Promise<{ failed: SimResult[]; totals: Record<string, number>; last: SimResult | undefined }> {
  const failed: SimResult[] = [];
  const totals: Record<string, number> = {};
  let last: SimResult | undefined;
  for (const seed of list) {
    const r = (last = await runSimulation({ seed, trace: opts.trace, lazySync: opts.lazySync }));
    for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
    if (r.problems.length > 0) {
      failed.push(r);
      if (failed.length >= (opts.maxFailures ?? 5)) break;
    }
  }
  return { failed, totals, last };
}

function report(r: SimResult): string {
  return `seed ${r.seed} (replay: SIM_SEED=${r.seed} npx bun test server/sim/simulation.test.ts):\n  ${r.problems.slice(0, 5).join("\n  ")}`;
}

test(
  `member simulation: ${single ? `seed ${single}` : `${seeds.length} seeds`}`,
  async () => {
    const { failed, totals, last } = await runSeeds(seeds, { trace: !!single });
    console.log(`member simulation: ${seeds.length} seeds; ${Object.entries(totals).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    // A replay prints its whole trace (simulated ms, member, event), failing or not.
    if (single && last) console.log(last.trace.join("\n"));
    for (const f of failed) console.log(report(f));
    expect(failed.map((f) => f.seed)).toEqual([]);
    if (!single) {
      // The runs exercise what they claim to.
      for (const k of ["put", "cas ok", "delete", "range", "serializable range", "lease grant", "keep-alive", "lease revoke", "member add", "member promote", "crashes", "power cuts", "disk failures", "partitions", "clock jumps", "slow disks", "snapshots", "member remove", "disk failures", "lease expiries", "move leader", "txn range", "duplicated proposals"]) {
        expect(totals[k] ?? 0).toBeGreaterThan(0);
      }
      expect(totals["watch events"]!).toBeGreaterThan(seeds.length * 50);
    }
  },
  600_000,
);

/**
 * Seeds that once failed, with what they found: 33, 48 (a member removed while down never learned
 * it: the simulated network now refuses removed members as the transport does), 220 (a
 * duplicated forwarded proposal was applied twice: entries now carry their request ID and the
 * state machine skips one applied already, server/node/applied-requests.ts),
 * 5 (the harness checked convergence while a lease expiry was committing), 4362 (watchers got
 * events again after their member installed a snapshot: server/mvcc/watch/hub.ts notify), 7140
 * (a keep-alive of an expired lease on a leader that lost leadership never got an answer), 11707
 * (a keep-alive acknowledged just before a revoke proposed in the leader's earlier term applied).
 * The workload has changed since 33, 48 and 220 failed; they run the current one.
 */
const FOUND_SEEDS = [5, 33, 48, 220, 4362, 7140, 11707];

test(`member simulation: seeds that found problems (${FOUND_SEEDS.join(", ")})`, async () => {
  const { failed } = await runSeeds(FOUND_SEEDS, {});
  for (const f of failed) console.log(report(f));
  expect(failed.map((f) => f.seed)).toEqual([]);
}, 120_000);

/** A calm 3-member cluster (request timeout 1 s) after 3 s of simulated time: a leader is elected. */
async function startedCluster(seed: number): Promise<{ sched: SimScheduler; net: SimNetwork; cluster: SimCluster }> {
  const sched = new SimScheduler();
  const net = new SimNetwork(sched, new Prng(seed));
  const cluster = new SimCluster(sched, net, { seed, size: 3, requestTimeoutMs: 1000 });
  for (const m of cluster.members) cluster.start(m);
  await sched.runUntil(3000);
  return { sched, net, cluster };
}

test("a proposal the network delivers twice to the leader is applied once on every member", async () => {
  const { sched, net, cluster } = await startedCluster(3);
  const lead = cluster.leader()!;
  const f = cluster.members.find((m) => m !== lead)!;
  await sched.runUntil(4000, () => cluster.running().every((m) => m.node!.appliedIndex === lead.node!.appliedIndex));
  const rev = lead.node!.mvcc.currentRevision;
  // Every message is sent twice: the follower's forwarded MsgProp becomes two entries.
  net.faults = { loss: 0, duplicate: 1, maxDelayMs: 5, slow: 0 };
  const enc = new TextEncoder();
  let done = false;
  f.node!.put(create(PutRequestSchema, { key: enc.encode("dup"), value: enc.encode("1") })).then(() => (done = true));
  await sched.runUntil(6000, () => done);
  expect(done).toBe(true);
  expect(net.duplicatedProposals).toBeGreaterThan(0);
  await sched.runUntil(7000);
  for (const m of cluster.running()) {
    const got = await m.node!.range(create(RangeRequestSchema, { key: enc.encode("dup"), serializable: true }));
    expect([m.name, got.kvs[0]?.version, m.node!.mvcc.currentRevision]).toEqual([m.name, 1n, rev + 1]);
  }
  cluster.destroy();
}, 60_000);

test("a run depends only on its seed: two runs of one seed have the same trace and outcome", async () => {
  const a = await runSimulation({ seed: 12, trace: true, chaosMs: 3000 });
  const b = await runSimulation({ seed: 12, trace: true, chaosMs: 3000 });
  expect(a.trace.length).toBeGreaterThan(100);
  expect(b.trace).toEqual(a.trace);
  expect(b.stats).toEqual(a.stats);
}, 120_000);

test("a member that acknowledges writes before they are durable is caught within 10 seeds", async () => {
  const { failed } = await runSeeds(Array.from({ length: 10 }, (_, i) => i + 1), { lazySync: true, maxFailures: 1 });
  expect(failed.length).toBe(1);
  console.log(`broken member caught: ${report(failed[0]!)}`);
}, 120_000);

test("a learner joining under a stable leader whose first publish of attributes times out still becomes ready", async () => {
  const { sched, net, cluster } = await startedCluster(1);
  const lead = cluster.leader()!;
  expect(lead).toBeDefined();
  const term = lead.node!.raft.status().hardState.term;
  let learner: import("./cluster.ts").SimMember | undefined;
  cluster.addLearner(lead).then((m) => (learner = m));
  await sched.runUntil(4000, () => learner !== undefined);
  expect(learner).toBeDefined();
  // Every proposal the learner forwards to the leader is lost for 3 request timeouts.
  const learnerId = learner!.id;
  net.filter = (m) => m.from === learnerId && m.type === MessageType.MsgProp && sched.now < 7000;
  let ready = false;
  learner!.node!.ready().then(() => (ready = true));
  await sched.runUntil(6500);
  expect(ready).toBe(false);
  await sched.runUntil(12_000, () => ready);
  expect(ready).toBe(true);
  // The leader never changed: only the retry could have published the attributes.
  expect(cluster.leader()).toBe(lead);
  expect(lead.node!.raft.status().hardState.term).toBe(term);
  expect(lead.node!.memberRecords().find((r) => r.id === learnerId)?.name).toBe(learner!.name);
  cluster.destroy();
}, 60_000);

test("a wall-clock step on one member moves no request deadline: a write and a read it cannot serve still time out after the request timeout", async () => {
  const { sched, net, cluster } = await startedCluster(2);
  const lead = cluster.leader()!;
  const f = cluster.members.find((m) => m !== lead)!;
  // The follower is cut off, then its wall clock steps back a minute (forward for the read).
  for (const o of cluster.members) if (o !== f) net.partition(f.id, o.id, true);
  const enc = new TextEncoder();
  const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e) => String(e));
  const put = outcome(f.node!.put(create(PutRequestSchema, { key: enc.encode("a"), value: enc.encode("1") })));
  await sched.runUntil(3100);
  f.env.wallOffsetMs -= 60_000;
  const start = sched.now;
  let putDone: string | undefined;
  put.then((r) => (putDone = r));
  await sched.runUntil(start + 2000, () => putDone !== undefined);
  expect(putDone).toContain("request timed out");
  const read = outcome(f.node!.range(create(RangeRequestSchema, { key: enc.encode("a") })));
  let readDone: string | undefined;
  read.then((r) => (readDone = r));
  const readStart = sched.now;
  await sched.runUntil(readStart + 500);
  f.env.wallOffsetMs -= 60_000;
  await sched.runUntil(readStart + 2000, () => readDone !== undefined);
  expect(readDone).toContain("request timed out");
  // And a step forward does not fail a fresh read before its time.
  const read2 = outcome(f.node!.range(create(RangeRequestSchema, { key: enc.encode("a") })));
  let read2Done: string | undefined;
  read2.then((r) => (read2Done = r));
  const read2Start = sched.now;
  await sched.runUntil(read2Start + 100);
  f.env.wallOffsetMs += 120_000;
  await sched.runUntil(read2Start + 700);
  expect(read2Done).toBeUndefined();
  cluster.destroy();
}, 60_000);
