/**
 * One seeded run of the whole-member simulation: a cluster of real members (./cluster.ts) under
 * simulated time, disk and network, simulated clients (./workload.ts) and a fault schedule
 * (message loss, duplication, delay and reordering; partitions; crashes with power cuts of
 * single members and of the whole cluster; failing and slow disks; wall-clock jumps), then a calm
 * phase in which the cluster must converge, then the checks of ./checks.ts. Everything depends
 * only on the seed: `SIM_SEED=<n>` replays a run exactly, with its trace.
 */
import { Prng } from "../raft/prng.ts";
import { checkDurability, checkHashes, checkLeases, checkLinearizable, checkWatches } from "./checks.ts";
import { SimCluster, type SimMember } from "./cluster.ts";
import { SimNetwork } from "./network.ts";
import { SimScheduler } from "./scheduler.ts";
import { Workload } from "./workload.ts";

/** The members' request timeout, ms. */
const REQUEST_TIMEOUT_MS = 3000;

/** Settings of a run. */
export interface SimOptions {
  seed: number;
  /** Simulated time with faults, ms (default 8000). */
  chaosMs?: number;
  /** Keep a trace of the run (printed on failure when replaying). */
  trace?: boolean;
  /** The broken member of the "can fail" test: disks acknowledge before fsync. */
  lazySync?: boolean;
  /** Allow membership changes (default true). */
  memberChanges?: boolean;
}

/** What a run did and found. */
export interface SimResult {
  seed: number;
  problems: string[];
  trace: string[];
  stats: Record<string, number>;
}

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const seed = opts.seed;
  const prng = new Prng(seed);
  const sched = new SimScheduler();
  const trace: string[] = [];
  const log = opts.trace ? (line: string) => void trace.push(line) : undefined;
  const net = new SimNetwork(sched, new Prng(seed ^ 0x1b873593));
  // Half the runs take snapshots often and keep a short log, so lagging members catch up by snapshot.
  const snapshots = seed % 2 === 0;
  const snapPrng = new Prng(seed ^ 0x9e3779b9);
  const cluster = new SimCluster(sched, net, {
    seed,
    size: 3,
    trace: log,
    lazySync: opts.lazySync,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    snapshotCount: snapshots ? 10 + snapPrng.int(40) : undefined,
    catchUpEntries: snapshots ? 5 + snapPrng.int(10) : undefined,
  });
  const work = new Workload(sched, cluster, new Prng(seed ^ 0x85ebca6b), { clients: 4, watchers: 2, memberChanges: opts.memberChanges ?? true }, log);
  const problems: string[] = [];
  const stats: Record<string, number> = {};
  const bump = (k: string) => (stats[k] = (stats[k] ?? 0) + 1);
  const downUntil = new Map<SimMember, number>();

  for (const m of cluster.members) cluster.start(m);
  work.start();

  const chaosMs = opts.chaosMs ?? 8000;
  const faults = async () => {
    while (sched.now < chaosMs) {
      await sched.sleep(100 + prng.int(600));
      const running = cluster.running();
      const m = prng.pick(cluster.live());
      const r = prng.int(100);
      if (!m) continue;
      if (r < 15) {
        const other = prng.pick(cluster.live().filter((x) => x !== m));
        if (other) {
          net.partition(m.id, other.id, true);
          log?.(`${sched.now} partition ${m.name} | ${other.name}`);
          bump("partitions");
          sched.at(300 + prng.int(3000), () => net.partition(m.id, other.id, false));
        }
      } else if (r < 22) {
        for (const o of cluster.live()) if (o !== m) net.partition(m.id, o.id, true);
        log?.(`${sched.now} isolate ${m.name}`);
        bump("isolations");
        sched.at(500 + prng.int(3000), () => {
          for (const o of cluster.live()) net.partition(m.id, o.id, false);
        });
      } else if (r < 35 && m.running) {
        cluster.crash(m);
        downUntil.set(m, sched.now + 100 + prng.int(3000));
        bump("crashes");
      } else if (r < 38 && running.length > 0) {
        // Power cut of the whole cluster.
        for (const x of running) {
          cluster.crash(x);
          downUntil.set(x, sched.now + 100 + prng.int(1500));
        }
        log?.(`${sched.now} power cut`);
        bump("power cuts");
      } else if (r < 45 && m.running) {
        m.disk.failNextWrite();
        log?.(`${sched.now} ${m.name}: next disk write fails`);
        bump("disk failures");
      } else if (r < 55) {
        m.slowUntil = sched.now + 500 + prng.int(2500);
        log?.(`${sched.now} ${m.name}: slow disk until ${m.slowUntil}`);
        bump("slow disks");
      } else if (r < 62) {
        const jump = (prng.chance(0.5) ? 1 : -1) * (1000 + prng.int(60_000));
        m.env.wallOffsetMs += jump;
        log?.(`${sched.now} ${m.name}: wall clock jumps ${jump} ms`);
        bump("clock jumps");
      } else if (r < 75) {
        net.faults = {
          loss: prng.chance(0.5) ? prng.next() * 0.2 : 0,
          duplicate: prng.chance(0.5) ? prng.next() * 0.1 : 0,
          maxDelayMs: 1 + prng.int(30),
          slow: prng.chance(0.3) ? 0.05 : 0,
        };
        log?.(`${sched.now} network ${JSON.stringify(net.faults)}`);
        bump("network changes");
      }
    }
  };
  // Restarts crashed members once their downtime is over (a member that died of a fatal error too).
  const supervisor = () => {
    cluster.refuseRemoved();
    for (const m of cluster.members) {
      if (m.removed || m.running || !m.id) continue;
      const until = downUntil.get(m) ?? 0;
      if (until === 0) downUntil.set(m, sched.now + 200 + prng.int(1000));
      else if (sched.now >= until) {
        downUntil.delete(m);
        cluster.start(m);
      }
    }
    sched.at(50, supervisor);
  };
  sched.at(50, supervisor);
  const flusher = () => {
    for (const m of cluster.members) m.disk.flush();
    sched.at(300, flusher);
  };
  if (opts.lazySync) sched.at(300, flusher);

  let faultsDone = false;
  faults().then(() => (faultsDone = true));
  try {
    await sched.runUntil(chaosMs + 1000, () => faultsDone);
    // Calm: the network heals, slow disks recover, crashed members come back; clients go on a while.
    net.heal();
    net.faults = { loss: 0, duplicate: 0, maxDelayMs: 5, slow: 0 };
    for (const m of cluster.members) {
      m.slowUntil = 0;
      if (downUntil.has(m)) downUntil.set(m, sched.now);
    }
    await sched.runUntil(sched.now + 2000);
    work.stop();
    // Converged: one leader, every running member applied everything it committed.
    const converged = () => {
      const lead = cluster.leader();
      if (!lead) return false;
      const commit = lead.node!.raft.committedIndex;
      const rev = lead.node!.mvcc.currentRevision;
      return cluster.running().every((m) => m.node!.appliedIndex === commit && m.node!.mvcc.currentRevision === rev) &&
        cluster.members.every((m) => m.removed || m.running);
    };
    const deadline = sched.now + 30_000;
    while (sched.now < deadline && !converged()) await sched.runUntil(sched.now + 100);
    // Watchers catch up; leases expiring meanwhile commit new entries: converge again.
    await sched.runUntil(sched.now + 1500);
    while (sched.now < deadline + 5000 && !converged()) await sched.runUntil(sched.now + 10);
    work.close();
    const rec = work.record;
    const members = cluster.running();
    const ref = cluster.leader() ?? members[0];
    if (!ref || !converged()) {
      const lead = cluster.leader()?.node?.raft.status();
      const progress = lead ? [...(lead.progress ?? new Map()).entries()].map(([id, p]) => `${id.toString(16).slice(0, 4)} match ${p.match} next ${p.next} state ${p.state}${p.isLearner ? " learner" : ""}`).join(", ") : "no leader";
      problems.push(`cluster did not converge in 30 s of calm (leader's progress: ${progress}; voters ${lead?.confState.voters.map((v) => v.toString(16).slice(0, 4))}): ${cluster.members.map((m) => `${m.name}${m.removed ? " removed" : m.running ? ` applied ${m.node!.appliedIndex} commit ${m.node!.raft.committedIndex} leader ${m.node!.raft.leader.toString(16)}` : " down"}`).join("; ")}`);
    }
    if (ref) {
      problems.push(...checkLinearizable(rec));
      problems.push(...checkDurability(rec, ref.node!));
      problems.push(...checkWatches(rec, ref.node!, ref.disk.backend!));
      if (converged()) problems.push(...(await checkHashes(members)));
    }
    problems.push(...checkLeases(rec, cluster.leaseRemovals));
    // Every request got its answer (or its member crashed) within the request timeout.
    for (const c of work.inFlight) {
      if (sched.now - c.since > REQUEST_TIMEOUT_MS + 1000) problems.push(`request to ${c.member} at ${c.since} ms still unanswered at ${sched.now} ms`);
    }
    for (const f of cluster.fatals) if (!f.includes("disk I/O error")) problems.push(`unexpected fatal error: ${f}`);
    Object.assign(stats, rec.counts);
    stats["acked writes"] = rec.acked.length;
    stats["watch events"] = rec.watches.reduce((n, w) => n + w.events.length, 0);
    stats["member crashes"] = cluster.crashes;
    stats["fatal errors"] = cluster.fatals.length;
    stats["tasks"] = sched.steps;
    stats["snapshots"] = net.snapshots;
    stats["duplicated proposals"] = net.duplicatedProposals;
    stats["lease expiries"] = cluster.leaseRemovals.filter((r) => rec.leases.has(r.id) && !rec.leases.get(r.id)!.revokeAsked).length;
    stats["snapshot runs"] = snapshots ? 1 : 0;
    stats["revision"] = ref?.node?.mvcc.currentRevision ?? 0;
  } catch (e) {
    problems.push(`exception: ${(e as Error).stack ?? e}`);
  } finally {
    cluster.destroy();
  }
  return { seed, problems, trace, stats };
}
