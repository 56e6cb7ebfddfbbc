// Deterministic simulation of 3- and 5-node Raft clusters under message loss, duplication, delay,
// reordering, partitions, crashes/restarts, membership changes, leadership transfers and snapshots.
// RAFT_SIM_SEEDS=n runs n seeds (default sized for CI, ~30 s here) starting at RAFT_SIM_FIRST (default 1);
// RAFT_SIM_SEED=n replays one seed and prints its event trace on failure.
import { expect, test } from "bun:test";
import { SimCluster } from "./sim/cluster.ts";

const single = process.env.RAFT_SIM_SEED;
const count = Number(process.env.RAFT_SIM_SEEDS ?? 4000);
const first = Number(process.env.RAFT_SIM_FIRST ?? 1);
const seeds = single ? [Number(single)] : Array.from({ length: count }, (_, i) => first + i);

function runSeed(seed: number, trace: boolean) {
  const sim = new SimCluster({ seed, size: seed % 2 === 0 ? 5 : 3, chaosUnits: 2000, trace });
  try {
    return { sim, result: sim.run(), error: undefined as unknown };
  } catch (error) {
    return { sim, result: undefined, error };
  }
}

test(`raft simulation: ${single ? `seed ${single}` : `${seeds.length} seeds`}`, () => {
  const failures: string[] = [];
  let leaders = 0;
  let reads = 0;
  let writes = 0;
  let confChanges = 0;
  let snaps = 0;
  let crashes = 0;
  let checks = 0;
  for (const seed of seeds) {
    const { sim, result, error } = runSeed(seed, !!single);
    if (error) {
      failures.push(`seed ${seed}: ${(error as Error).stack ?? error}`);
      if (single) console.log(sim.traceLines.slice(-300).join("\n"));
      if (failures.length >= 5) break;
      continue;
    }
    leaders += result!.leaders;
    reads += result!.reads;
    writes += result!.proposalsCommitted;
    confChanges += result!.confChanges;
    snaps += result!.snapshotsSent;
    crashes += result!.crashes;
    checks += result!.checks;
  }
  console.log(
    `raft simulation: ${seeds.length} seeds, ${leaders} leaderships, ${writes} writes applied, ${reads} reads, ` +
      `${confChanges} conf changes, ${snaps} snapshots sent, ${crashes} crashes, ${checks} checks`,
  );
  if (failures.length > 0) {
    console.log(`replay a failing seed with: RAFT_SIM_SEED=<n> npx bun test server/raft/simulation.test.ts\n${failures.join("\n\n")}`);
  }
  expect(failures).toEqual([]);
  // The runs must actually exercise the interesting paths.
  if (!single && seeds.length >= 50) {
    expect(confChanges).toBeGreaterThan(seeds.length);
    expect(snaps).toBeGreaterThan(0);
    expect(reads).toBeGreaterThan(seeds.length);
  }
}, 600_000);
