/**
 * Restart time with a large uncompacted history (the scaling issue's "10 GB of history before compaction"), in
 * bounded runs: each run starts ONE server on a data dir kept across runs, times that start (a restart with the
 * history written so far), writes `--write-bytes` more history, then restarts it `--restarts` times.
 *
 *   npx bun scripts/scale-history.ts --server etcd|ours --dir <dir> [--write-bytes 2147483648] [flags]
 *
 * History: puts of `--val-size` values (default 256 KiB, below etcd's 1.5 MiB request limit) overwriting `--keys`
 * keys (default 100), 64 in flight over 8 connections (scripts/bench/scale/load.ts); nothing is compacted. Both
 * servers get the same flags: `--quota-backend-bytes` (default 32 GiB; etcd warns above 8 GiB but applies it) and
 * `--snapshot-count` (default 5,000: etcd keeps every entry since its last snapshot plus 5,000 more in memory, so
 * its default of 100,000 would hold the whole history in RAM with values this large). So the 10 GB target can be
 * reached in several runs that each fit a slice of the shared benchmark lock (`--max-seconds` stops a run's writes
 * early); `<dir>/history.json` counts what was written so far, and a run refuses a dir of the other server.
 *
 * Measured per run: the first start (exec → first answered linearizable Range) with the history already there, the
 * write rate, data dir size (du), RSS after the writes, then per restart (SIGTERM, or SIGKILL with `--kill`) the
 * start time and RSS 1 s after. Prints a Markdown table (JSON with `--json`). `--remove` deletes the dir at the end.
 * It kills only the server it started (by PID), also on errors and SIGINT.
 */
import cac from "cac";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { flagChecks, isExecutable } from "./bench/flags.ts";
import { RunningServer } from "./bench/server.ts";
import { diskUsageBytes } from "./bench/scale/disk.ts";
import { putKeys } from "./bench/scale/load.ts";
import { makeValue } from "./bench/workloads/keys.ts";

const checks = flagChecks("scale-history");
const { positiveInt, usage } = checks;
/** A count that may be 0. */
const nonNegativeInt = (name: string, value: unknown): number => (Number(value) === 0 ? 0 : positiveInt(name, value));

const DEFAULT_OURS = fileURLToPath(new URL("../dist/etcd", import.meta.url));
/** History written per putKeys call, bytes: the granularity of `--max-seconds`. */
const CHUNK_BYTES = 512 * 2 ** 20;
/** How long one start may take, ms (a start that replays gigabytes takes minutes). */
const STARTUP_TIMEOUT_MS = 900_000;

/** What `<dir>/history.json` records about the history written into a dir so far (bytes of values, puts). */
export interface HistoryState {
  label: string;
  bytes: number;
  puts: number;
}

/** One start of the server: how much history it found, how long it took, its RSS 1 s after. Bytes, ms. */
export interface StartResult {
  what: string;
  historyBytes: number;
  ms: number;
  rssBytes: number;
}

/** The history written by one run: bytes, ms; the data dir's size and the server's RSS after it, bytes. */
interface WriteResult {
  bytes: number;
  ms: number;
  dataDirBytes: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** What one run prints with `--json`. */
export interface HistoryRun {
  date: string;
  loadBefore: number[];
  loadAfter: number[];
  label: string;
  binary: string;
  valSize: number;
  keys: number;
  extraFlags: string[];
  /** The dir's history after the run. */
  state: HistoryState;
  write: WriteResult;
  starts: StartResult[];
}

interface Flags {
  server: string;
  dir: string;
  binary?: string;
  writeBytes: number;
  valSize: number;
  keys: number;
  maxSeconds: number;
  restarts: number;
  kill: boolean;
  snapshotCount: number;
  quotaBackendBytes: number;
  remove: boolean;
  json: boolean;
}

const MB = (b: number) => (b / 2 ** 20).toFixed(1);

async function main(flags: Flags): Promise<void> {
  const label = String(flags.server);
  if (label !== "etcd" && label !== "ours") usage(`--server must be etcd or ours, got ${JSON.stringify(flags.server)}`);
  if (!flags.dir) usage("--dir is required");
  const binary = flags.binary ?? (label === "etcd" ? "/usr/bin/etcd" : DEFAULT_OURS);
  if (!isExecutable(binary)) usage(`${binary} not found or not executable (--binary)`);
  const writeBytes = nonNegativeInt("write-bytes", flags.writeBytes);
  const valSize = positiveInt("val-size", flags.valSize);
  const keys = positiveInt("keys", flags.keys);
  const maxMs = positiveInt("max-seconds", flags.maxSeconds) * 1000;
  const restarts = nonNegativeInt("restarts", flags.restarts);
  const dir = resolve(String(flags.dir));
  const statePath = join(dir, "history.json");
  const state: HistoryState = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { label, bytes: 0, puts: 0 };
  if (state.label !== label) usage(`${dir} holds ${state.label}'s data, not ${label}'s`);
  const log = (line: string) => process.stderr.write(`${label}: ${line}\n`);
  installCleanupHandlers();
  const date = new Date().toISOString();
  const loadBefore = loadavg();
  const extraFlags = ["--quota-backend-bytes", String(flags.quotaBackendBytes), "--snapshot-count", String(flags.snapshotCount)];
  const starts: StartResult[] = [];
  const server = await RunningServer.start({ label, binary, extraFlags }, { keptDir: dir, startupTimeoutMs: STARTUP_TIMEOUT_MS });
  let write: WriteResult = { bytes: 0, ms: 0, dataDirBytes: 0, rssBytes: 0, peakRssBytes: 0 };
  try {
    const started = async (what: string, ms: number) => {
      await Bun.sleep(1_000);
      starts.push({ what, historyBytes: state.bytes, ms, rssBytes: server.rssBytes() });
      log(`${what} with ${MB(state.bytes)} MB of history: ${ms.toFixed(0)} ms, RSS ${MB(server.rssBytes())} MB`);
    };
    await started(state.bytes > 0 ? "start on the kept dir" : "first start (empty)", server.startupMs);

    server.resetPeakRss();
    const value = makeValue(valSize);
    const t0 = performance.now();
    while (write.bytes < writeBytes && performance.now() - t0 < maxMs) {
      const puts = Math.ceil(Math.min(CHUNK_BYTES, writeBytes - write.bytes) / valSize);
      await putKeys(server.endpoint, puts, keys, value);
      write.bytes += puts * valSize;
      state.bytes += puts * valSize;
      state.puts += puts;
      writeFileSync(statePath, JSON.stringify(state));
      const s = (performance.now() - t0) / 1000;
      log(`wrote ${MB(write.bytes)} MB in ${s.toFixed(0)} s (${MB(write.bytes / s)} MB/s), ${MB(state.bytes)} MB in all`);
    }
    write.ms = performance.now() - t0;
    await Bun.sleep(1_000);
    write = { ...write, dataDirBytes: diskUsageBytes(join(dir, "data")), rssBytes: server.rssBytes(), peakRssBytes: server.peakRssBytes() };
    log(`data dir ${MB(write.dataDirBytes)} MB, RSS ${MB(write.rssBytes)} MB (peak ${MB(write.peakRssBytes)} MB)`);

    for (let i = 0; i < restarts; i++) {
      const signal = flags.kill ? "SIGKILL" : "SIGTERM";
      await started(`restart after ${signal}`, await server.restart(signal));
    }
  } finally {
    await server.stop();
  }
  if (flags.remove) rmSync(dir, { recursive: true, force: true });
  const loadAfter = loadavg();
  const result: HistoryRun = { date, loadBefore, loadAfter, label, binary, valSize, keys, extraFlags, state, write, starts };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  const lines = [
    `${date}, ${label} (${binary}), ${extraFlags.join(" ")}; load average ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after`,
    "",
    "| measurement | value |",
    "|---|--:|",
    `| history written this run (MB of ${valSize} B values over ${keys} keys) | ${MB(write.bytes)} |`,
    `| … MB/s | ${MB(write.bytes / Math.max(write.ms / 1000, 1e-9))} |`,
    `| … RSS after, peak (MB) | ${MB(write.rssBytes)}, ${MB(write.peakRssBytes)} |`,
    `| history in all (MB, puts) | ${MB(state.bytes)}, ${state.puts} |`,
    `| data dir (MB, du) | ${MB(write.dataDirBytes)} |`,
    ...starts.map((s) => `| ${s.what} with ${MB(s.historyBytes)} MB of history: exec → first answer (ms), RSS 1 s after (MB) | ${s.ms.toFixed(0)}, ${MB(s.rssBytes)} |`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

const cli = cac("scale-history");
cli
  .command("", "Restart time of etcd 3.4 or ours with a large uncompacted history, written in bounded runs")
  .option("--server <etcd|ours>", "Which server")
  .option("--dir <dir>", "Directory kept across runs (data dir, log, ports, history.json)")
  .option("--binary <path>", "The server's executable (default: /usr/bin/etcd or dist/etcd)")
  .option("--write-bytes <n>", "History to write in this run, bytes of values (0: only restart)", { default: 2 * 2 ** 30 })
  .option("--val-size <bytes>", "Value size of the history puts", { default: 256 * 1024 })
  .option("--keys <n>", "Keys the history overwrites", { default: 100 })
  .option("--max-seconds <s>", "Stop writing after this long (checked every 512 MiB)", { default: 600 })
  .option("--restarts <n>", "Restarts after the writes", { default: 1 })
  .option("--kill", "Stop with SIGKILL (a crash) instead of SIGTERM before each restart", { default: false })
  .option("--snapshot-count <n>", "--snapshot-count of the server", { default: 5_000 })
  .option("--quota-backend-bytes <n>", "--quota-backend-bytes of the server", { default: 32 * 2 ** 30 })
  .option("--remove", "Delete --dir at the end", { default: false })
  .option("--json", "Print JSON instead of Markdown", { default: false })
  .action((flags: Flags) =>
    main(flags).catch((err) => {
      process.stderr.write(`scale-history: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }),
  );
cli.help();
cli.parse();
