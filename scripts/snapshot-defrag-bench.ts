/**
 * Snapshot and defrag benchmark, ours against etcd 3.4 in the same run (issue 8):
 *
 *   npx bun scripts/snapshot-defrag-bench.ts [--size-mib 32] [--value-kib 64] [--ours dist/etcd] [--etcd /usr/bin/etcd] [--json]
 *
 * For each server (etcd first, then ours; each on free loopback ports with a temp data dir):
 * writes `--size-mib` MiB of values in distinct keys, saves a snapshot with the Go `etcdctl
 * snapshot save` (time, MiB/s, peak RSS of the server), deletes every other key and compacts,
 * then runs Maintenance.Defragment while one client puts in a closed loop (defrag time, file
 * size before and after, put p99 and max during it). Prints a Markdown table (or JSON).
 * `scripts/benchmark.ts snapshot-defrag` runs the same at the 1 GiB by default.
 * It kills only the processes it started (by PID) and removes its temp dirs, also on errors
 * and SIGINT. Run it small on a shared machine: the numbers are dominated by the disk.
 */
import { join } from "node:path";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { defragment, fillBackend, freeHalf, putLatencyDuring, backendBenchFlags, quotaFlags, snapshotSave } from "./bench/backend-ops.ts";
import { RunningServer, type ServerSpec } from "./bench/server.ts";

const MIB = 1024 * 1024;

/** One server's results: seconds, bytes, MiB/s, ms. */
export interface SnapshotDefragResult {
  server: string;
  dataMib: number;
  snapshotSeconds: number;
  snapshotMibPerSecond: number;
  snapshotBytes: number;
  snapshotPeakRssBytes: number;
  defragSeconds: number;
  dbBeforeDefragBytes: number;
  dbAfterDefragBytes: number;
  /** Status.dbSizeInUse after the defrag. */
  dbInUseAfterDefragBytes: number;
  putP99DuringDefragMs: number;
  putMaxDuringDefragMs: number;
  putsDuringDefrag: number;
  /** Puts during the defrag that failed (etcd: `request timed out` behind a long defrag). */
  putsFailedDuringDefrag: number;
}

async function run(spec: ServerSpec, sizeMib: number, valueKib: number): Promise<SnapshotDefragResult> {
  const server = await RunningServer.start(spec);
  try {
    const keys = Math.ceil((sizeMib * MIB) / (valueKib * 1024));
    console.error(`[${spec.label}] writing ${keys} keys of ${valueKib} KiB`);
    await fillBackend(server, keys, valueKib * 1024);
    console.error(`[${spec.label}] snapshot save`);
    const snap = await snapshotSave(server, join(server.tempDir, "snap.db"));
    console.error(`[${spec.label}] deleting half, compacting, defragmenting`);
    await freeHalf(server, keys);
    const defrag = defragment(server);
    const puts = await putLatencyDuring(server, defrag);
    if (puts.firstError) console.error(`[${spec.label}] ${puts.failed} puts failed during the defrag, first: ${puts.firstError}`);
    const d = await defrag;
    return {
      server: spec.label,
      dataMib: sizeMib,
      snapshotSeconds: snap.seconds,
      snapshotMibPerSecond: snap.mibPerSecond,
      snapshotBytes: snap.fileBytes,
      snapshotPeakRssBytes: snap.peakRssBytes,
      defragSeconds: d.seconds,
      dbBeforeDefragBytes: d.beforeBytes,
      dbAfterDefragBytes: d.afterBytes,
      dbInUseAfterDefragBytes: d.afterInUseBytes,
      putP99DuringDefragMs: puts.p99Ms,
      putMaxDuringDefragMs: puts.maxMs,
      putsDuringDefrag: puts.puts,
      putsFailedDuringDefrag: puts.failed,
    };
  } finally {
    await server.stop();
  }
}

/** The results as a Markdown table. */
export function snapshotDefragMarkdown(results: SnapshotDefragResult[]): string {
  const mib = (b: number) => (b / MIB).toFixed(1);
  return [
    "| server | values MiB | snapshot save s | MiB/s | snapshot MiB | peak RSS MiB | defrag s | db before → after MiB (reclaimed) | in use after MiB | put p99 / max during defrag ms (puts, failed) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.server} | ${r.dataMib} | ${r.snapshotSeconds.toFixed(2)} | ${r.snapshotMibPerSecond.toFixed(1)} | ${mib(r.snapshotBytes)} | ${mib(r.snapshotPeakRssBytes)} | ${r.defragSeconds.toFixed(2)} | ${mib(r.dbBeforeDefragBytes)} → ${mib(r.dbAfterDefragBytes)} (${mib(r.dbBeforeDefragBytes - r.dbAfterDefragBytes)}) | ${mib(r.dbInUseAfterDefragBytes)} | ${r.putP99DuringDefragMs.toFixed(1)} / ${r.putMaxDuringDefragMs.toFixed(1)} (${r.putsDuringDefrag}, ${r.putsFailedDuringDefrag} failed) |`,
    ),
  ].join("\n");
}

/**
 * Runs the benchmark on etcd 3.4 (`etcd`) then ours (`ours`), each with a fresh data dir and a
 * quota that fits (quotaFlags); also `scripts/benchmark.ts snapshot-defrag`. Throws on a failed
 * step (a failed put during the defrag is counted, not thrown).
 */
export async function snapshotDefragBenchmark(o: { sizeMib: number; valueKib: number; ours: string; etcd: string }): Promise<SnapshotDefragResult[]> {
  const quota = quotaFlags(o.sizeMib);
  const results: SnapshotDefragResult[] = [];
  for (const spec of [
    { label: "etcd", binary: o.etcd, extraFlags: quota },
    { label: "ours", binary: o.ours, extraFlags: quota },
  ]) {
    results.push(await run(spec, o.sizeMib, o.valueKib));
  }
  return results;
}

if (import.meta.main) {
  const { sizeMib, valueKib, ours, etcd, json } = backendBenchFlags("snapshot-defrag-bench", { sizeMib: 32, valueKib: 64 });
  installCleanupHandlers();
  const results = await snapshotDefragBenchmark({ sizeMib, valueKib, ours, etcd });
  console.log(json ? JSON.stringify(results, null, 2) : snapshotDefragMarkdown(results));
}
