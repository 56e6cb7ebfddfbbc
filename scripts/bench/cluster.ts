/**
 * `benchmark.ts --cluster`: a 3-member cluster of etcd 3.4 and one of ours, on loopback, compared in one run.
 *
 * 1. Closed-loop workloads through each cluster's leader (put, linearizable range; the same runner as the
 *    single-server modes: a warm-up, then alternating A/B slices of the same request count), with the CPU of all
 *    three members per request.
 * 2. Leader failover, `--failovers` rounds alternating between the clusters: kill -9 of the leader, then puts to
 *    both survivors started every 10 ms (over connections opened before the kill) until the first is acknowledged;
 *    the failover time is kill → that acknowledgement. The killed member is restarted and the cluster settled
 *    before the next round. etcd's defaults apply to both: 100 ms heartbeat, 1 000 ms election timeout.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { RunningCluster } from "./cluster-server.ts";
import type { GeneratorHandle } from "./generator-handle.ts";
import { median, type ServerInfo, type WorkloadReport } from "./report.ts";
import { runWorkload, type SliceSettings } from "./runner.ts";
import type { ServerSpec } from "./server.ts";
import type { WorkloadOptions } from "./workload.ts";
import { workloadFor } from "./workloads/index.ts";
import { alternateRounds } from "./slices.ts";

/** Interval between put attempts of the failover probe, in ms (the resolution of a failover time). */
const PROBE_INTERVAL_MS = 10;
/** Deadline of one probe put, in ms. */
const PROBE_TIMEOUT_MS = 3_000;
/** A failover round gives up after this long without an acknowledged put, in ms. */
const FAILOVER_LIMIT_MS = 30_000;

/** Failover times of one cluster. */
export interface FailoverResult {
  label: string;
  /** kill -9 of the leader → first acknowledged put, per round, in ms (NaN: none within 30 s). */
  runsMs: number[];
  medianMs: number;
}

/** What `runClusterBenchmark` measured. */
export interface ClusterBenchmarkResult {
  /** Per cluster: start-up (exec → all members ready with one leader) and idle RSS summed over the members. */
  servers: ServerInfo[];
  workloads: WorkloadReport[];
  failovers: FailoverResult[];
}

/**
 * Kills the leader of `cluster` with SIGKILL and returns the time in ms until a put through one of the surviving
 * members is acknowledged (NaN if none within 30 s); then restarts the killed member and waits until the cluster
 * has settled on a leader again.
 */
async function failoverRound(cluster: RunningCluster, round: number): Promise<number> {
  const leader = await cluster.settle();
  const survivors = cluster.othersThan(leader);
  const managers = survivors.map((url) => new Http2SessionManager(url));
  const kvs = survivors.map((url, i) => createClient(KV, createGrpcTransport({ baseUrl: url, sessionManager: managers[i]! })));
  const key = new TextEncoder().encode(`failover-${round}`);
  const value = new Uint8Array(256);
  let killed = false;
  try {
    await Promise.all(kvs.map((kv) => kv.put({ key, value }, { timeoutMs: 5_000 }))); // connections up before the kill
    const t0 = performance.now();
    await cluster.kill9(leader);
    killed = true;
    let acknowledgedAt = NaN;
    const attempts: Promise<void>[] = [];
    for (let n = 0; Number.isNaN(acknowledgedAt) && performance.now() - t0 < FAILOVER_LIMIT_MS; n++) {
      const kv = kvs[n % kvs.length]!;
      attempts.push(
        kv.put({ key, value }, { timeoutMs: PROBE_TIMEOUT_MS }).then(
          () => void (acknowledgedAt = Number.isNaN(acknowledgedAt) ? performance.now() : Math.min(acknowledgedAt, performance.now())),
          () => undefined,
        ),
      );
      await Bun.sleep(PROBE_INTERVAL_MS);
    }
    await Promise.all(attempts);
    return acknowledgedAt - t0;
  } finally {
    managers.forEach((m) => m.abort());
    if (killed) await cluster.restart(leader);
  }
}

/**
 * Starts a 3-member cluster per spec (etcd first), runs `workloads` through each leader in A/B slices, then
 * `failovers` failover rounds per cluster (alternating), and stops the clusters. `log` gets progress lines.
 */
export async function runClusterBenchmark(
  generator: GeneratorHandle,
  specs: ServerSpec[],
  workloads: WorkloadOptions[],
  settings: SliceSettings,
  failovers: number,
  log: (line: string) => void,
): Promise<ClusterBenchmarkResult> {
  const clusters: RunningCluster[] = [];
  try {
    const servers: ServerInfo[] = [];
    for (const spec of specs) {
      log(`starting a 3-member ${spec.label} cluster (${spec.binary})`);
      const cluster = await RunningCluster.start(spec);
      clusters.push(cluster);
      await Bun.sleep(1_000);
      servers.push({
        label: spec.label,
        binary: spec.binary,
        version: await cluster.version(),
        startupMs: cluster.startupMs,
        startupRunsMs: [cluster.startupMs],
        idleRssMB: cluster.rssBytes() / 2 ** 20,
      });
      log(`  ${spec.label}: all 3 members ready after ${cluster.startupMs.toFixed(0)} ms; leader ${cluster.endpoint}`);
    }
    const reports: WorkloadReport[] = [];
    for (const options of workloads) {
      for (const c of clusters) await c.settle(); // loads go to the current leader
      const description = `${workloadFor(options.mode).describe(options)}, ${options.clients} clients, via the leader`;
      log(`${description}, ${options.conns} conns`);
      const run = await runWorkload(generator, clusters, options, settings, log);
      reports.push({ description, options, ...run });
    }
    const runs = clusters.map(() => [] as number[]);
    await alternateRounds(clusters.length, failovers, async (i, round) => {
      const ms = await failoverRound(clusters[i]!, round);
      runs[i]!.push(ms);
      log(`  failover ${clusters[i]!.spec.label.padEnd(6)} round ${round + 1}: ${ms.toFixed(0)} ms from kill -9 of the leader to the next acknowledged put`);
    });
    const failoverResults = clusters.map((c, i) => ({ label: c.spec.label, runsMs: runs[i]!, medianMs: median(runs[i]!) }));
    return { servers, workloads: reports, failovers: failoverResults };
  } finally {
    for (const c of clusters) await c.stop();
  }
}

/** Markdown table of the failover rounds, with the ours/etcd ratio of the medians when both ran. */
export function failoverMarkdown(results: FailoverResult[]): string {
  const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "–");
  const lines = [
    "| server | leader failover, median (ms) | rounds (ms) |",
    "|---|--:|---|",
    ...results.map((r) => `| ${r.label} | ${fmt(r.medianMs)} | ${r.runsMs.map(fmt).join(", ")} |`),
  ];
  const [a, b] = results;
  if (a && b) lines.push(`| **${b.label}/${a.label}** | **${(b.medianMs / a.medianMs).toFixed(2)}×** | |`);
  lines.push(
    "",
    "Failover: kill -9 of the leader until a put through a surviving member is acknowledged (puts started every " +
      `${PROBE_INTERVAL_MS} ms over connections opened before the kill); heartbeat 100 ms, election timeout 1 000 ms (etcd's defaults).`,
  );
  return lines.join("\n");
}
