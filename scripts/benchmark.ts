/**
 * A/B benchmark of our etcd against the real etcd 3.4, modelled on etcd's `tools/benchmark`.
 *
 *   npx bun scripts/benchmark.ts [put | range [key] [end] | txn-put | watch | lease-keepalive] [flags]
 *   npx bun scripts/benchmark.ts --cluster [--failovers n] [flags]
 *   npx bun scripts/benchmark.ts --security mtls|auth [put | range [key] [end] | txn-put] [flags]
 *
 * Without a mode it runs the standard suite (put, range --consistency l, range --consistency s, txn-put, then watch:
 * `--watchers` on one prefix over `--streams` streams with puts at `--put-rate`, scripts/bench/watch.ts, then
 * lease-keepalive: `--leases` leases kept alive over `--lease-streams` streams, scripts/bench/lease-keepalive.ts). It starts
 * `/usr/bin/etcd` and ours (`dist/etcd`, or `--ours <path>`; etcd alone if ours is missing) on free loopback ports
 * with fresh temp data dirs, and loads them alternately in short slices from a separate load-generator process
 * (gRPC over HTTP/2, `--clients` closed-loop clients sharing `--conns` connections). It prints a Markdown table
 * (or JSON with `--json`) with requests/s, p50/p99 latency, server and generator CPU per request, the ours/etcd
 * ratios, idle RSS and the time from exec to the first answered request. With `--cluster` it compares 3-member
 * clusters instead (put and linearizable range through the leader, leader failover time; scripts/bench/cluster.ts).
 * With `--security mtls` both servers serve clients over mutual TLS, with `--security auth` with auth enabled and
 * simple tokens (scripts/bench/security.ts); without a mode these run put and serializable range.
 * Progress goes to stderr. It kills only the processes it started (by PID) and removes its temp dirs, also on errors
 * and SIGINT.
 */
import cac from "cac";
import { accessSync, constants } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { CLIENT_KINDS, type ClientKind } from "./bench/callers.ts";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { GeneratorHandle } from "./bench/generator-handle.ts";
import type { BenchmarkReport, WorkloadReport } from "./bench/report.ts";
import { median, toMarkdown } from "./bench/report.ts";
import { runWorkload, type SliceSettings } from "./bench/runner.ts";
import { RunningServer, type ServerSpec } from "./bench/server.ts";
import type { WorkloadOptions } from "./bench/workload.ts";
import { WORKLOADS, workloadFor } from "./bench/workloads/index.ts";
import { runWatchBenchmark, watchMarkdown, type WatchReport } from "./bench/watch.ts";
import { leaseMarkdown, runLeaseBenchmark, type LeaseReport } from "./bench/lease-keepalive.ts";
import { failoverMarkdown, runClusterBenchmark } from "./bench/cluster.ts";
import { SECURITY_MODES, type Security } from "./bench/security.ts";

const DEFAULT_OURS = fileURLToPath(new URL("../dist/etcd", import.meta.url));

/** Parsed command-line flags (cac camel-cases them). */
interface Flags {
  cluster: boolean;
  failovers: number;
  leases: number;
  leaseStreams: number;
  watchers: number;
  streams: number;
  putRate: number;
  clients: number;
  conns: number;
  total: number;
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  sequentialKeys: boolean;
  consistency: string;
  txnOps: number;
  slices: number;
  sliceSeconds: number;
  warmupSeconds: number;
  startupRuns: number;
  etcd: string;
  ours: string;
  client: string;
  security: string;
  json: boolean;
}

/** How the report names a security mode, appended to each workload's description. */
const SECURITY_LABELS: Record<Security, string> = { none: "", mtls: ", over mTLS", auth: ", auth on (simple token)" };

/** A positive integer flag value, or exit with a usage error. */
function positiveInt(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A positive number flag value, or exit with a usage error. */
function positiveNumber(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

/** Pause between a server's start-up and its idle RSS reading, in ms. */
const IDLE_SETTLE_MS = 1_000;

/** A started server with its start-up figures. */
interface StartedServer {
  server: RunningServer;
  /** Time from exec to first answer of each start-up run, in ms, in run order. */
  startupMs: number[];
  /** VmRSS 1 s after the last start-up, in bytes. */
  idleRssBytes: number;
  version: string | undefined;
}

/** Starts a server `runs` times (stopping all but the last run) and measures its start-up and idle RSS. */
async function startServer(spec: ServerSpec, runs: number, log: (line: string) => void): Promise<StartedServer> {
  const startupMs: number[] = [];
  for (;;) {
    const server = await RunningServer.start(spec);
    startupMs.push(server.startupMs);
    if (startupMs.length < runs) {
      await server.stop();
      continue;
    }
    await Bun.sleep(IDLE_SETTLE_MS);
    const idleRssBytes = server.rssBytes();
    const version = await server.version();
    const times = startupMs.map((ms) => ms.toFixed(0)).join(", ");
    log(`  ${spec.label}: first answer after ${times} ms; idle RSS ${(idleRssBytes / 2 ** 20).toFixed(1)} MB; ${server.endpoint}`);
    return { server, startupMs, idleRssBytes, version };
  }
}

function usage(message: string): never {
  process.stderr.write(`benchmark: ${message} (see --help)\n`);
  process.exit(2);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The command line as a reader would type it again. */
function commandLine(): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ["npx", "bun", "scripts/benchmark.ts", ...process.argv.slice(2)].map(quote).join(" ");
}

/** The workloads to run: the given mode, or the standard suite. */
function plan(mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags): WorkloadOptions[] {
  const consistency = flags.consistency;
  const client = flags.client as ClientKind;
  if (!CLIENT_KINDS.includes(client)) usage(`--client must be one of ${CLIENT_KINDS.join(", ")}, got ${JSON.stringify(flags.client)}`);
  if (consistency !== "l" && consistency !== "s") usage(`--consistency must be l or s, got ${JSON.stringify(consistency)}`);
  const base: WorkloadOptions = {
    mode: "put",
    clients: positiveInt("clients", flags.clients),
    conns: positiveInt("conns", flags.conns),
    keySize: positiveInt("key-size", flags.keySize),
    valSize: positiveInt("val-size", flags.valSize),
    keySpaceSize: positiveInt("key-space-size", flags.keySpaceSize),
    sequentialKeys: Boolean(flags.sequentialKeys),
    consistency,
    rangeKey: key ?? "",
    rangeEnd: end ?? "",
    txnOps: positiveInt("txn-ops", flags.txnOps),
    client,
  };
  if (base.txnOps > base.keySpaceSize) usage("--txn-ops must not exceed --key-space-size (a txn may not put one key twice)");
  const security = flags.security as Security;
  if (!SECURITY_MODES.includes(security)) usage(`--security must be one of ${SECURITY_MODES.join(", ")}, got ${JSON.stringify(flags.security)}`);
  if (security !== "none") {
    if (flags.cluster) usage("--security does not apply to --cluster");
    // v2-set speaks plain HTTP/1.1 without client certificates or tokens.
    if (mode === "watch" || mode === "lease-keepalive" || mode === "v2-set") usage(`--security does not apply to mode ${mode}`);
    if (mode === undefined) return [{ ...base, mode: "put" }, { ...base, mode: "range", consistency: "s" }];
  }
  if (flags.cluster) {
    if (mode !== undefined) usage("--cluster takes no mode (it runs put, linearizable range and leader failover)");
    return [{ ...base, mode: "put" }, { ...base, mode: "range", consistency: "l" }];
  }
  if (mode === undefined) {
    return [
      { ...base, mode: "put" },
      { ...base, mode: "range", consistency: "l" },
      { ...base, mode: "range", consistency: "s" },
      { ...base, mode: "txn-put" },
    ];
  }
  if (mode === "watch") return []; // not closed-loop: scripts/bench/watch.ts
  if (mode === "lease-keepalive") return []; // bidi streams: scripts/bench/lease-keepalive.ts
  if (!WORKLOADS.has(mode)) usage(`unknown mode ${JSON.stringify(mode)}; modes: ${[...WORKLOADS.keys()].join(", ")}`);
  if (mode !== "range" && (key !== undefined || end !== undefined)) usage(`mode ${mode} takes no key arguments`);
  return [{ ...base, mode }];
}

/** Runs the benchmark and prints its report. */
async function main(mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags): Promise<void> {
  const workloads = plan(mode, key, end, flags);
  const settings: SliceSettings = {
    slices: positiveInt("slices", flags.slices),
    sliceMs: positiveNumber("slice-seconds", flags.sliceSeconds) * 1000,
    warmupMs: positiveNumber("warmup-seconds", flags.warmupSeconds) * 1000,
    totalPerServer: positiveInt("total", flags.total),
    settleMs: 200,
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  installCleanupHandlers();

  const notes: string[] = [];
  const security = flags.security as Security;
  const specs: ServerSpec[] = [{ label: "etcd", binary: String(flags.etcd), security }];
  if (!isExecutable(specs[0]!.binary)) usage(`etcd binary ${specs[0]!.binary} not found or not executable (--etcd)`);
  const oursPath = String(flags.ours);
  if (isExecutable(oursPath)) specs.push({ label: "ours", binary: oursPath, security });
  else {
    const note = `ours (${oursPath}) not found or not executable (build it with \`npm run build\`, or pass --ours <path>); running etcd only.`;
    log(`benchmark: ${note}`);
    notes.push(note);
  }

  const date = new Date().toISOString();
  const loadAverageBefore = loadavg();
  const startupRuns = positiveInt("startup-runs", flags.startupRuns);
  /** The report document around the servers' start-up figures and the workload results. */
  const reportOf = (servers: BenchmarkReport["servers"], workloads: WorkloadReport[], runs = startupRuns): BenchmarkReport => ({
    command: commandLine(),
    date,
    machine: {
      cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
      cores: cpus().length,
      loadAverageBefore,
      loadAverageAfter: loadavg(),
    },
    settings: {
      clients: positiveInt("clients", flags.clients),
      conns: positiveInt("conns", flags.conns),
      slices: settings.slices,
      sliceSeconds: settings.sliceMs / 1000,
      warmupSeconds: settings.warmupMs / 1000,
      startupRuns: runs,
      total: settings.totalPerServer,
    },
    servers,
    workloads,
    notes,
  });
  if (flags.cluster) {
    notes.push(
      "Each server is a 3-member cluster on this machine: start-up is exec → all 3 members answering with one leader " +
        "(one run); idle RSS and server CPU are summed over the 3 members; the load goes to the leader.",
    );
    const generator = GeneratorHandle.start();
    try {
      const result = await runClusterBenchmark(generator, specs, workloads, settings, positiveInt("failovers", flags.failovers), log);
      const report = reportOf(result.servers, result.workloads, 1);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ ...report, failovers: result.failovers }, null, 2)}\n`
          : `${toMarkdown(report)}\n\n${failoverMarkdown(result.failovers)}\n`,
      );
    } finally {
      await generator.stop();
    }
    return;
  }
  const started: StartedServer[] = [];
  for (const spec of specs) {
    log(`starting ${spec.label} (${spec.binary}) ${startupRuns} time${startupRuns === 1 ? "" : "s"}`);
    started.push(await startServer(spec, startupRuns, log));
  }
  const servers = started.map((s) => s.server);
  const generator = GeneratorHandle.start();
  const workloadReports: WorkloadReport[] = [];
  let watchReport: WatchReport | undefined;
  let leaseReport: LeaseReport | undefined;
  try {
    for (const options of workloads) {
      const description = workloadFor(options.mode).describe(options) + SECURITY_LABELS[security];
      log(`${description}: ${options.clients} clients, ${options.conns} conns`);
      const run = await runWorkload(generator, servers, options, settings, log);
      workloadReports.push({ description, options, ...run });
    }
    if ((mode === undefined && security === "none") || mode === "watch") {
      const watch = {
        watchers: positiveInt("watchers", flags.watchers),
        streams: positiveInt("streams", flags.streams),
        rate: positiveNumber("put-rate", flags.putRate),
        sliceSeconds: settings.sliceMs / 1000,
        slices: settings.slices,
        valSize: positiveInt("val-size", flags.valSize),
      };
      watchReport = await runWatchBenchmark(servers, watch, log);
    }
    if ((mode === undefined && security === "none") || mode === "lease-keepalive") {
      const lease = {
        leases: positiveInt("leases", flags.leases),
        streams: positiveInt("lease-streams", flags.leaseStreams),
        sliceSeconds: settings.sliceMs / 1000,
        slices: settings.slices,
      };
      leaseReport = await runLeaseBenchmark(servers, lease, log);
    }
  } finally {
    await generator.stop();
    for (const server of servers) await server.stop();
  }

  const report = reportOf(
    started.map((s) => ({
      label: s.server.spec.label,
      binary: s.server.spec.binary,
      version: s.version,
      startupMs: median(s.startupMs),
      startupRunsMs: s.startupMs,
      idleRssMB: s.idleRssBytes / 2 ** 20,
    })),
    workloadReports,
  );
  const watchSection = watchReport ? `\n${watchMarkdown(watchReport)}` : "";
  const leaseSection = leaseReport ? `\n${leaseMarkdown(leaseReport)}` : "";
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ ...report, watch: watchReport, leaseKeepAlive: leaseReport }, null, 2)}\n`
      : `${toMarkdown(report)}\n${watchSection}${leaseSection}`,
  );
}

const cli = cac("benchmark");
cli
  .command("[mode] [key] [end]", `Benchmark one mode (${[...WORKLOADS.keys(), "watch", "lease-keepalive"].join(" | ")}; range takes [key] [end]), or without a mode the standard suite`)
  .option("--clients <n>", "Concurrent closed-loop clients", { default: 100 })
  .option("--conns <n>", "HTTP/2 connections shared by the clients", { default: 1 })
  .option("--total <n>", "Request limit per server and workload over all slices", { default: 1_000_000 })
  .option("--key-size <bytes>", "Key size", { default: 8 })
  .option("--val-size <bytes>", "Value size", { default: 256 })
  .option("--key-space-size <n>", "Number of distinct keys written (as in etcd's benchmark)", { default: 1 })
  .option("--sequential-keys", "Write keys 0, 1, 2... instead of random ones", { default: false })
  .option("--consistency <l|s>", "range: linearizable (l) or serializable (s)", { default: "l" })
  .option("--txn-ops <n>", "txn-put: puts per transaction", { default: 1 })
  .option("--slices <n>", "Measured slices per server and workload", { default: 5 })
  .option("--slice-seconds <s>", "Target duration of one slice on etcd (sets the slice's request count)", { default: 3 })
  .option("--warmup-seconds <s>", "Unmeasured warm-up of etcd per workload (calibrates the slices)", { default: 1 })
  .option("--startup-runs <n>", "Start each server this many times to measure start-up (median)", { default: 5 })
  .option("--etcd <path>", "Real etcd binary", { default: "/usr/bin/etcd" })
  .option("--ours <path>", "Our etcd binary", { default: DEFAULT_OURS })
  .option("--client <kind>", "Generator's gRPC client: raw (pre-encoded frames on node:http2) or connect (connect-node)", { default: "raw" })
  .option("--watchers <n>", "watch: watchers on the prefix", { default: 1000 })
  .option("--streams <n>", "watch: Watch streams (one connection each) the watchers are spread over", { default: 10 })
  .option("--put-rate <n>", "watch: puts per second", { default: 100 })
  .option("--leases <n>", "lease-keepalive: leases kept alive", { default: 1000 })
  .option("--lease-streams <n>", "lease-keepalive: keep-alive streams (one connection each) the leases are spread over", { default: 10 })
  .option("--cluster", "Compare 3-member clusters (etcd's and ours) on loopback: put and linearizable range via the leader, leader failover", { default: false })
  .option("--failovers <n>", "--cluster: leader failover rounds per cluster", { default: 3 })
  .option("--security <mode>", "none, mtls (clients over mutual TLS) or auth (auth enabled, simple token; the load runs as a non-root user)", { default: "none" })
  .option("--json", "Print JSON instead of Markdown", { default: false })
  .action((mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags) =>
    main(mode, key, end, flags).catch((err) => {
      process.stderr.write(`benchmark: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }),
  );
cli.help();
cli.parse();

