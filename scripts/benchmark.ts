/**
 * A/B benchmark of our etcd against the real etcd 3.4, modelled on etcd's `tools/benchmark`.
 *
 *   npx bun scripts/benchmark.ts [put | range [key] [end] | txn-put | delete | watch | lease-keepalive] [flags]
 *   npx bun scripts/benchmark.ts --cluster [put | range] [--failovers n] [flags]
 *   npx bun scripts/benchmark.ts --security mtls|auth [put | range [key] [end] | txn-put] [flags]
 *   npx bun scripts/benchmark.ts --metrics-overhead [put | range [key] [end]] [flags]
 *   npx bun scripts/benchmark.ts snapshot-defrag [--size-mib 1024] [--value-kib 64] [--etcd path] [--ours path] [--json]
 *
 * Without a mode it runs the standard suite, the workload matrix of the performance issue: for each of `--clients`
 * (default 64 and 1000 closed-loop clients over `--conns` 8 connections) put, range linearizable and serializable of
 * 1 key and of `--range-keys-many` (100) keys, txn-put, delete (of `--delete-keys` pre-written keys); then watch for
 * each of `--watchers` (100 and 10,000 watchers on one prefix over `--streams` streams, puts at the matching
 * `--put-rate`, scripts/bench/watch.ts); then lease-keepalive (`--leases` leases kept alive over `--lease-streams`
 * streams, scripts/bench/lease-keepalive.ts). Every row carries both servers' peak RSS during it. It starts
 * `/usr/bin/etcd` and ours (`dist/etcd`, or `--ours <path>`; etcd alone if ours is missing, ours alone with
 * `--etcd none`) on free loopback ports with fresh temp data dirs, and loads them alternately in short slices from a
 * separate load-generator process (gRPC over HTTP/2, `--clients` closed-loop clients sharing `--conns` connections). It prints a Markdown table
 * (or JSON with `--json`) with requests/s, p50/p99 latency, server and generator CPU per request, the ours/etcd
 * ratios, idle RSS and the time from exec to the first answered request. With `--cluster` it compares 3-member
 * clusters instead (put and linearizable range through the leader, leader failover time; scripts/bench/cluster.ts;
 * with mode put or range only that workload, no failover).
 * With `--security mtls` both servers serve clients over mutual TLS, with `--security auth` with auth enabled and
 * simple tokens (scripts/bench/security.ts); without a mode these run put and serializable range.
 * With `--metrics-overhead` it runs four copies of ours instead (no etcd): `--metrics basic` and `extensive`, each
 * with and without a `/metrics` scrape every second (scripts/bench/metrics-overhead.ts); without a mode put and range.
 * `snapshot-defrag` fills each server with `--size-mib` MiB of values (1 GiB by default, as the backup issue asks),
 * times the Go `etcdctl snapshot save` (MiB/s, the server's peak RSS), then puts in a closed loop during a Defragment
 * (p99, max, failures): scripts/snapshot-defrag-bench.ts, one server after the other.
 * Progress goes to stderr. It kills only the processes it started (by PID) and removes its temp dirs, also on errors
 * and SIGINT.
 */
import cac from "cac";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { CLIENT_KINDS, type ClientKind } from "./bench/callers.ts";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { comparedServers, flagChecks, isExecutable, type FlagChecks } from "./bench/flags.ts";
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
import { metricsVariants, SCRAPE_INTERVAL_MS, startScraper } from "./bench/metrics-overhead.ts";
import { snapshotDefragBenchmark, snapshotDefragMarkdown } from "./snapshot-defrag-bench.ts";

const checks = flagChecks("benchmark");
/** Annotated, so that TypeScript knows code after a usage() call is unreachable. */
const usage: FlagChecks["usage"] = checks.usage;
const { positiveInt, positiveIntList, positiveNumber, positiveNumberList } = checks;

const DEFAULT_OURS = fileURLToPath(new URL("../dist/etcd", import.meta.url));

/** Parsed command-line flags (cac camel-cases them). */
interface Flags {
  cluster: boolean;
  failovers: number;
  leases: number;
  leaseStreams: number;
  /** snapshot-defrag: MiB of values and the value size, KiB. */
  sizeMib: number;
  valueKib: number;
  watchers: string | number;
  streams: number;
  putRate: string | number;
  clients: string | number;
  conns: number;
  total: number;
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  rangeKeys: number;
  rangeKeysMany: number;
  deleteKeys: number;
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
  metricsOverhead: boolean;
  json: boolean;
}

/** How the report names a security mode, appended to each workload's description. */
const SECURITY_LABELS: Record<Security, string> = { none: "", mtls: ", over mTLS", auth: ", auth on (simple token)" };

/** Bytes as kB with one decimal. */
function fmtKB(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

/** Pause between a server's start-up and its idle RSS reading, in ms. */
const IDLE_SETTLE_MS = 1_000;

/** A started server with its start-up figures. */
interface StartedServer {
  server: RunningServer;
  /** Time from exec to first answer of each start-up run, in ms, in run order. */
  startupMs: number[];
  /** VmRSS 1 s after the start of the server under load, in bytes. */
  idleRssBytes: number;
  version: string | undefined;
}

/** Starts a server `runs` times, one start after the other, stopping each; resolves with the times from exec to first answer, in ms. */
async function timeStartups(spec: ServerSpec, runs: number): Promise<number[]> {
  const startupMs: number[] = [];
  while (startupMs.length < runs) {
    const server = await RunningServer.start(spec);
    startupMs.push(server.startupMs);
    await server.stop();
  }
  return startupMs;
}

/**
 * Times each server's start-up `runs` times (servers one after the other, so no start competes with another), then
 * starts all of them together for the load and reads their idle RSS after 1 s. The servers under load are started
 * together because the order matters: of two copies of our binary started one after the other, the second ran
 * 1.0-1.2x faster in every run (6 of 6; the real etcd showed no such bias), whichever slot it was loaded in.
 */
async function startServers(specs: ServerSpec[], runs: number, log: (line: string) => void): Promise<StartedServer[]> {
  const startups: number[][] = [];
  for (const spec of specs) {
    log(`starting ${spec.label} (${spec.binary}) ${runs} time${runs === 1 ? "" : "s"}`);
    startups.push(await timeStartups(spec, runs));
  }
  log(`starting ${specs.map((s) => s.label).join(" and ")} together for the load`);
  const starts = await Promise.allSettled(specs.map((spec) => RunningServer.start(spec)));
  const running = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    for (const server of running) await server.stop();
    throw failed.reason;
  }
  await Bun.sleep(IDLE_SETTLE_MS);
  return Promise.all(
    running.map(async (server, i) => {
      const idleRssBytes = server.rssBytes();
      const version = await server.version();
      const times = startups[i]!.map((ms) => ms.toFixed(0)).join(", ");
      log(`  ${server.spec.label}: first answer after ${times} ms; idle RSS ${(idleRssBytes / 2 ** 20).toFixed(1)} MB; ${server.endpoint}`);
      return { server, startupMs: startups[i]!, idleRssBytes, version };
    }),
  );
}

/** The command line as a reader would type it again. */
function commandLine(): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ["npx", "bun", "scripts/benchmark.ts", ...process.argv.slice(2)].map(quote).join(" ");
}

/** The workloads to run, each once per `--clients` count (workload after workload, client counts inner). */
function plan(mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags): WorkloadOptions[] {
  const clientCounts = positiveIntList("clients", flags.clients);
  return planWorkloads(mode, key, end, flags).flatMap((w) => clientCounts.map((clients) => ({ ...w, clients })));
}

/** The workloads to run: the given mode, or the standard suite. */
function planWorkloads(mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags): WorkloadOptions[] {
  const consistency = flags.consistency;
  const client = flags.client as ClientKind;
  if (!CLIENT_KINDS.includes(client)) usage(`--client must be one of ${CLIENT_KINDS.join(", ")}, got ${JSON.stringify(flags.client)}`);
  if (consistency !== "l" && consistency !== "s") usage(`--consistency must be l or s, got ${JSON.stringify(consistency)}`);
  const base: WorkloadOptions = {
    mode: "put",
    clients: 1, // set per client count below
    conns: positiveInt("conns", flags.conns),
    keySize: positiveInt("key-size", flags.keySize),
    valSize: positiveInt("val-size", flags.valSize),
    keySpaceSize: positiveInt("key-space-size", flags.keySpaceSize),
    rangeKeys: positiveInt("range-keys", flags.rangeKeys),
    deleteKeys: positiveInt("delete-keys", flags.deleteKeys),
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
  if (flags.metricsOverhead) {
    if (flags.cluster || security !== "none") usage("--metrics-overhead takes neither --cluster nor --security");
    if (mode === undefined) return [{ ...base, mode: "put" }, { ...base, mode: "range" }];
    if (mode !== "put" && mode !== "range") usage("--metrics-overhead runs put or range");
  }
  if (flags.cluster) {
    if (mode === undefined) return [{ ...base, mode: "put" }, { ...base, mode: "range", consistency: "l" }];
    if (mode !== "put" && mode !== "range") usage("--cluster runs put or range (or, without a mode, both and leader failover)");
    return [{ ...base, mode }];
  }
  if (mode === undefined) {
    const many = positiveInt("range-keys-many", flags.rangeKeysMany);
    return [
      { ...base, mode: "put" },
      { ...base, mode: "range", consistency: "l", rangeKeys: 1 },
      { ...base, mode: "range", consistency: "s", rangeKeys: 1 },
      { ...base, mode: "range", consistency: "l", rangeKeys: many },
      { ...base, mode: "range", consistency: "s", rangeKeys: many },
      { ...base, mode: "txn-put" },
      { ...base, mode: "delete" },
    ];
  }
  if (mode === "watch") return []; // not closed-loop: scripts/bench/watch.ts
  if (mode === "lease-keepalive") return []; // bidi streams: scripts/bench/lease-keepalive.ts
  if (!WORKLOADS.has(mode)) usage(`unknown mode ${JSON.stringify(mode)}; modes: ${[...WORKLOADS.keys()].join(", ")}`);
  if (mode !== "range" && (key !== undefined || end !== undefined)) usage(`mode ${mode} takes no key arguments`);
  return [{ ...base, mode }];
}

/** `snapshot-defrag`: the backup issue's snapshot-save and defrag measurement (scripts/snapshot-defrag-bench.ts). */
async function snapshotDefragMain(flags: Flags): Promise<void> {
  const sizeMib = positiveNumber("size-mib", flags.sizeMib);
  const valueKib = positiveNumber("value-kib", flags.valueKib);
  if (valueKib > 1024) usage("--value-kib must be at most 1024");
  installCleanupHandlers();
  const loadBefore = loadavg();
  const results = await snapshotDefragBenchmark({ sizeMib, valueKib, ours: String(flags.ours), etcd: String(flags.etcd) });
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(results, null, 2)}\n`
      : `${snapshotDefragMarkdown(results)}\n\n${new Date().toISOString()}, load average ${load(loadBefore)} before, ${load(loadavg())} after.\n`,
  );
}

/** Runs the benchmark and prints its report. */
async function main(mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags): Promise<void> {
  if (mode === "snapshot-defrag") return snapshotDefragMain(flags);
  const workloads = plan(mode, key, end, flags);
  const settings: SliceSettings = {
    slices: positiveInt("slices", flags.slices),
    sliceMs: positiveNumber("slice-seconds", flags.sliceSeconds) * 1000,
    warmupMs: positiveNumber("warmup-seconds", flags.warmupSeconds) * 1000,
    totalPerServer: positiveInt("total", flags.total),
    settleMs: 200,
  };
  const watcherCounts = positiveIntList("watchers", flags.watchers);
  const rates = positiveNumberList("put-rate", flags.putRate);
  if (rates.length !== 1 && rates.length !== watcherCounts.length) usage("--put-rate takes one rate or one per --watchers count");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  installCleanupHandlers();

  const security = flags.security as Security;
  const oursPath = String(flags.ours);
  const variants = flags.metricsOverhead ? metricsVariants(oursPath) : [];
  let specs: ServerSpec[];
  let notes: string[];
  if (flags.metricsOverhead) {
    if (!isExecutable(oursPath)) usage(`our etcd binary ${oursPath} not found or not executable (--ours; build it with \`npm run build\`)`);
    specs = [...variants];
    notes = [
      `--metrics-overhead: four copies of ours, no etcd; "+scrape" variants get a GET /metrics every ${SCRAPE_INTERVAL_MS / 1000} s ` +
        "from the benchmark process during every slice (also the other variants' slices); ratios are against \"basic\".",
    ];
  } else {
    ({ specs, notes } = comparedServers(checks, String(flags.etcd), oursPath, { security }));
    for (const note of notes) log(`benchmark: ${note}`);
  }
  // The v2 API only when a v2 workload runs (older binaries of ours do not know the flag).
  if (workloads.some((w) => w.mode === "v2-set")) specs = specs.map((s) => ({ ...s, extraFlags: [...(s.extraFlags ?? []), "--enable-v2"] }));

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
      clients: positiveIntList("clients", flags.clients),
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
      // With a mode the cluster runs that workload alone, without failover rounds.
      const failovers = mode === undefined ? positiveInt("failovers", flags.failovers) : 0;
      const result = await runClusterBenchmark(generator, specs, workloads, settings, failovers, log);
      const report = reportOf(result.servers, result.workloads, 1);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ ...report, failovers: result.failovers }, null, 2)}\n`
          : `${toMarkdown(report)}\n${failovers > 0 ? `\n${failoverMarkdown(result.failovers)}\n` : ""}`,
      );
    } finally {
      await generator.stop();
    }
    return;
  }
  const started = await startServers(specs, startupRuns, log);
  if (started.length > 1) notes.push("Start-up was timed one server at a time; the servers under load were then started together (of two copies of our binary started one after the other, the second ran up to 1.2× faster).");
  const servers = started.map((s) => s.server);
  const scrapers = servers.flatMap((server, i) => (variants[i]?.scraped ? [{ label: server.spec.label, scraper: startScraper(server.endpoint) }] : []));
  const generator = GeneratorHandle.start();
  const workloadReports: WorkloadReport[] = [];
  const watchReports: WatchReport[] = [];
  let leaseReport: LeaseReport | undefined;
  try {
    for (const options of workloads) {
      const description = `${workloadFor(options.mode).describe(options)}, ${options.clients} clients${SECURITY_LABELS[security]}`;
      log(`${description}, ${options.conns} conns`);
      const run = await runWorkload(generator, servers, options, settings, log);
      workloadReports.push({ description, options, ...run });
    }
    const suite = mode === undefined && security === "none" && !flags.metricsOverhead;
    if (suite || mode === "watch") {
      for (const [n, watchers] of watcherCounts.entries()) {
        const watch = {
          watchers,
          streams: positiveInt("streams", flags.streams),
          rate: rates[rates.length === 1 ? 0 : n]!,
          sliceSeconds: settings.sliceMs / 1000,
          warmupSeconds: settings.warmupMs / 1000,
          slices: settings.slices,
          valSize: positiveInt("val-size", flags.valSize),
        };
        watchReports.push(await runWatchBenchmark(servers, watch, log));
      }
    }
    if (suite || mode === "lease-keepalive") {
      const lease = {
        leases: positiveInt("leases", flags.leases),
        streams: positiveInt("lease-streams", flags.leaseStreams),
        sliceSeconds: settings.sliceMs / 1000,
        warmupSeconds: settings.warmupMs / 1000,
        slices: settings.slices,
      };
      leaseReport = await runLeaseBenchmark(servers, lease, log);
    }
  } finally {
    for (const { label, scraper } of scrapers) {
      const r = await scraper.stop();
      notes.push(`${label}: ${r.scrapes} scrapes (${r.failures} failed), ${fmtKB(r.meanBytes)} kB and ${r.meanMs.toFixed(1)} ms each on average.`);
    }
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
  const watchSection = watchReports.map((w) => `\n${watchMarkdown(w)}`).join("");
  const leaseSection = leaseReport ? `\n${leaseMarkdown(leaseReport)}` : "";
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ ...report, watch: watchReports, leaseKeepAlive: leaseReport }, null, 2)}\n`
      : `${toMarkdown(report)}\n${watchSection}${leaseSection}`,
  );
}

const cli = cac("benchmark");
cli
  .command("[mode] [key] [end]", `Benchmark one mode (${[...WORKLOADS.keys(), "watch", "lease-keepalive", "snapshot-defrag"].join(" | ")}; range takes [key] [end]), or without a mode the standard suite`)
  .option("--clients <n[,n...]>", "Concurrent closed-loop clients; each workload runs once per count", { default: "64,1000" })
  .option("--conns <n>", "HTTP/2 connections shared by the clients", { default: 8 })
  .option("--total <n>", "Request limit per server and workload over all slices", { default: 1_000_000 })
  .option("--key-size <bytes>", "Key size", { default: 8 })
  .option("--val-size <bytes>", "Value size", { default: 256 })
  .option("--key-space-size <n>", "Number of distinct keys written (as in etcd's benchmark)", { default: 1 })
  .option("--range-keys <n>", "range without key arguments: keys written and read by each request (1: one key)", { default: 1 })
  .option("--range-keys-many <n>", "Standard suite: keys of its many-key ranges (it also runs 1-key ranges)", { default: 100 })
  .option("--delete-keys <n>", "delete: keys written first that the deletes remove in order (later deletes miss)", { default: 100_000 })
  .option("--sequential-keys", "Write keys 0, 1, 2... instead of random ones", { default: false })
  .option("--consistency <l|s>", "range: linearizable (l) or serializable (s)", { default: "l" })
  .option("--txn-ops <n>", "txn-put: puts per transaction", { default: 1 })
  .option("--slices <n>", "Measured slices per server and workload", { default: 5 })
  .option("--slice-seconds <s>", "Target duration of one slice on etcd (sets the slice's request count)", { default: 3 })
  .option("--warmup-seconds <s>", "Unmeasured warm-up per workload: of the first server, calibrating the slices; watch and lease-keepalive: one slice of this length per server", { default: 1 })
  .option("--startup-runs <n>", "Start each server this many times to measure start-up (median)", { default: 5 })
  .option("--etcd <path>", "Real etcd binary (none: ours alone)", { default: "/usr/bin/etcd" })
  .option("--ours <path>", "Our etcd binary", { default: DEFAULT_OURS })
  .option("--client <kind>", "Generator's gRPC client: raw (pre-encoded frames on node:http2) or connect (connect-node)", { default: "raw" })
  .option("--watchers <n[,n...]>", "watch: watchers on the prefix; the mode runs once per count", { default: "100,10000" })
  .option("--streams <n>", "watch: Watch streams (one connection each) the watchers are spread over", { default: 10 })
  .option("--put-rate <n[,n...]>", "watch: puts per second, one rate or one per --watchers count", { default: "100,10" })
  .option("--leases <n>", "lease-keepalive: leases kept alive", { default: 1000 })
  .option("--lease-streams <n>", "lease-keepalive: keep-alive streams (one connection each) the leases are spread over", { default: 10 })
  .option("--cluster", "Compare 3-member clusters (etcd's and ours) on loopback: put and linearizable range via the leader, leader failover", { default: false })
  .option("--failovers <n>", "--cluster: leader failover rounds per cluster", { default: 3 })
  .option("--security <mode>", "none, mtls (clients over mutual TLS) or auth (auth enabled, simple token; the load runs as a non-root user)", { default: "none" })
  .option("--metrics-overhead", "Compare ours with --metrics basic/extensive, each with and without a /metrics scrape every second (no etcd)", { default: false })
  .option("--size-mib <n>", "snapshot-defrag: MiB of values written before the save", { default: 1024 })
  .option("--value-kib <n>", "snapshot-defrag: value size, KiB", { default: 64 })
  .option("--json", "Print JSON instead of Markdown", { default: false })
  .action((mode: string | undefined, key: string | undefined, end: string | undefined, flags: Flags) =>
    main(mode, key, end, flags).catch((err) => {
      process.stderr.write(`benchmark: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }),
  );
cli.help();
cli.parse();

