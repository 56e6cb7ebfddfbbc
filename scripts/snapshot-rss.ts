/**
 * Measures a server's peak RSS while the Go `etcdctl snapshot save` streams a snapshot of a large
 * backend (issue 8: a 2 GiB backend must stream in well under 100 MiB above idle).
 *
 *   npx bun scripts/snapshot-rss.ts [--size-mib 2048] [--value-kib 256] [--server ours|etcd|both] [--ours dist/etcd] [--json]
 *
 * Starts the server on free loopback ports with a temp data dir (`--quota-backend-bytes` sized
 * to fit), writes `--size-mib` MiB of values in distinct keys, waits a few seconds, samples the
 * idle RSS of its process tree, then runs `etcdctl snapshot save` while sampling RSS every 20 ms
 * and one client puts in a closed loop, and prints idle, peak and peak - idle with the
 * snapshot's size and time and the put latencies meanwhile (does the member keep answering?). It kills only the
 * processes it started (by PID) and removes its temp dirs, also on errors and SIGINT.
 * Disk: about 2x the size for ours (backend with its Raft log, and the frozen copy the snapshot is built from).
 */
import { join } from "node:path";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { backendBenchFlags, dbSizes, fillBackend, putLatencyDuring, quotaFlags, snapshotSave } from "./bench/backend-ops.ts";
import { RunningServer, type ServerSpec } from "./bench/server.ts";

const MIB = 1024 * 1024;

/** One server's measurement, bytes and seconds. */
export interface RssResult {
  server: string;
  dataMib: number;
  dbSizeBytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
  snapshotBytes: number;
  snapshotSeconds: number;
  /** Puts of one closed-loop client during the save: count, p99 and max latency, ms. */
  putsDuringSave: number;
  putP99DuringSaveMs: number;
  putMaxDuringSaveMs: number;
}

async function measure(spec: ServerSpec, sizeMib: number, valueKib: number): Promise<RssResult> {
  const server = await RunningServer.start(spec);
  try {
    const keys = Math.ceil((sizeMib * MIB) / (valueKib * 1024));
    let lastLog = 0;
    await fillBackend(server, keys, valueKib * 1024, 8, (n) => {
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.error(`[${spec.label}] ${n}/${keys} keys`);
      }
    });
    const { dbSize } = await dbSizes(server);
    await Bun.sleep(3000);
    const idle = server.rssBytes();
    console.error(`[${spec.label}] filled: db ${(dbSize / MIB).toFixed(0)} MiB, idle RSS ${(idle / MIB).toFixed(1)} MiB; snapshot save...`);
    const saving = snapshotSave(server, join(server.tempDir, "snap.db"));
    const puts = await putLatencyDuring(server, saving);
    if (puts.firstError) console.error(`[${spec.label}] ${puts.failed} puts failed during the save, first: ${puts.firstError}`);
    const run = await saving;
    return {
      server: spec.label,
      dataMib: sizeMib,
      dbSizeBytes: dbSize,
      idleRssBytes: idle,
      peakRssBytes: run.peakRssBytes,
      snapshotBytes: run.fileBytes,
      snapshotSeconds: run.seconds,
      putsDuringSave: puts.puts,
      putP99DuringSaveMs: puts.p99Ms,
      putMaxDuringSaveMs: puts.maxMs,
    };
  } finally {
    await server.stop();
  }
}

/** A Markdown table of the results. */
export function rssMarkdown(results: RssResult[]): string {
  const mib = (b: number) => (b / MIB).toFixed(1);
  const rows = results.map(
    (r) =>
      `| ${r.server} | ${r.dataMib} | ${mib(r.dbSizeBytes)} | ${mib(r.snapshotBytes)} | ${r.snapshotSeconds.toFixed(1)} | ${mib(r.idleRssBytes)} | ${mib(r.peakRssBytes)} | **${mib(r.peakRssBytes - r.idleRssBytes)}** | ${r.putP99DuringSaveMs.toFixed(0)} / ${r.putMaxDuringSaveMs.toFixed(0)} (${r.putsDuringSave}) |`,
  );
  return [
    "| server | values MiB | db MiB | snapshot MiB | save s | idle RSS MiB | peak RSS MiB | peak - idle MiB | put p99 / max during save ms (puts) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  const { sizeMib, valueKib, ours, etcd, json, options } = backendBenchFlags("snapshot-rss", { sizeMib: 2048, valueKib: 256 }, (cli) =>
    cli.option("--server <which>", "ours, etcd or both", { default: "ours" }),
  );
  const which = String(options.server);
  if (!["ours", "etcd", "both"].includes(which)) {
    console.error(`--server must be ours, etcd or both, got ${which}`);
    process.exit(2);
  }
  installCleanupHandlers();
  const quota = quotaFlags(sizeMib);
  const specs: ServerSpec[] = [];
  if (which !== "ours") specs.push({ label: "etcd", binary: etcd, extraFlags: quota });
  if (which !== "etcd") specs.push({ label: "ours", binary: ours, extraFlags: quota });
  const results: RssResult[] = [];
  for (const spec of specs) results.push(await measure(spec, sizeMib, valueKib));
  console.log(json ? JSON.stringify(results, null, 2) : rssMarkdown(results));
}
