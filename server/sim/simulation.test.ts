// Whole-member simulation (server/sim/run.ts): real members under simulated time, disk and
// network, with clients and faults, checked after every run.
// SIM_SEEDS=n runs n seeds (default sized for CI) from SIM_FIRST (default 1); SIM_LONG=1 runs
// 100,000; SIM_SEED=n replays one seed and prints its trace.
import { expect, test } from "bun:test";
import { MessageType } from "../raft/types.ts";
import { Prng } from "../raft/prng.ts";
import { runSimulation, type SimResult } from "./run.ts";
import { SimCluster } from "./cluster.ts";
import { SimNetwork } from "./network.ts";
import { SimScheduler } from "./scheduler.ts";

const single = process.env.SIM_SEED;
const count = process.env.SIM_LONG ? 100_000 : Number(process.env.SIM_SEEDS ?? 60);
const first = Number(process.env.SIM_FIRST ?? 1);
const seeds = single ? [Number(single)] : Array.from({ length: count }, (_, i) => first + i);

/** Runs `seeds`; returns the failed runs (stops after `maxFailures`). */
async function runSeeds(list: number[], opts: { lazySync?: boolean; trace?: boolean; maxFailures?: number }): Promise<{ failed: SimResult[]; totals: Record<string, number> }> {
  const failed: SimResult[] = [];
  const totals: Record<string, number> = {};
  for (const seed of list) {
    const r = await runSimulation({ seed, trace: opts.trace, lazySync: opts.lazySync });
    for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
    if (r.problems.length > 0) {
      failed.push(r);
      if (failed.length >= (opts.maxFailures ?? 5)) break;
    }
  }
  return { failed, totals };
}

function report(r: SimResult): string {
  return `seed ${r.seed} (replay: SIM_SEED=${r.seed} npx bun test server/sim/simulation.test.ts):\n  ${r.problems.slice(0, 5).join("\n  ")}`;
}

test(
  `member simulation: ${single ? `seed ${single}` : `${seeds.length} seeds`}`,
  async () => {
    const { failed, totals } = await runSeeds(seeds, { trace: !!single });
    console.log(`member simulation: ${seeds.length} seeds; ${Object.entries(totals).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    if (single && failed[0]) console.log(failed[0].trace.join("\n"));
    for (const f of failed) console.log(report(f));
    expect(failed.map((f) => f.seed)).toEqual([]);
    if (!single) {
      // The runs exercise what they claim to.
      for (const k of ["put", "cas ok", "delete", "range", "serializable range", "lease grant", "keep-alive", "lease revoke", "member add", "member promote", "crashes", "power cuts", "disk failures", "partitions", "clock jumps", "slow disks"]) {
        expect(totals[k] ?? 0).toBeGreaterThan(0);
      }
      expect(totals["watch events"]!).toBeGreaterThan(seeds.length * 50);
    }
  },
  600_000,
);

test("a member that acknowledges writes before they are durable is caught within 10 seeds", async () => {
  const { failed } = await runSeeds(Array.from({ length: 10 }, (_, i) => i + 1), { lazySync: true, maxFailures: 1 });
  expect(failed.length).toBe(1);
  console.log(`broken member caught: ${report(failed[0]!)}`);
}, 120_000);

test("a learner joining under a stable leader whose first publish of attributes times out still becomes ready", async () => {
  const sched = new SimScheduler();
  const net = new SimNetwork(sched, new Prng(1));
  const cluster = new SimCluster(sched, net, { seed: 1, size: 3, requestTimeoutMs: 1000 });
  for (const m of cluster.members) cluster.start(m);
  await sched.runUntil(3000);
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
  for (const m of cluster.members) void m.node?.close();
}, 60_000);
