/**
 * Scaling run: how the cost of etcd 3.4 and of ours grows with the data, side by side (the performance issue's
 * scaling table).
 *
 *   npx bun scripts/scale.ts [--keys 1000000] [--history-bytes 67108864] [flags]
 *
 * For each server in turn (etcd `/usr/bin/etcd`, then ours `dist/etcd` or `--ours <path>`; etcd alone if ours is
 * missing, ours alone with `--etcd none`), on free loopback ports with a fresh temp data dir and the same flags (`--quota-backend-bytes` raised so
 * the history fits), it runs the steps of scripts/bench/scale/steps.ts: load `--keys` keys, range of `--range-keys`
 * keys, `--watchers` watchers on distinct keys, restart with the keys, compaction of every revision with the longest
 * answer gap meanwhile, `--history-bytes` of uncompacted history and a restart with it, and the put rate at each of
 * `--put-val-sizes`. The servers run one after the other (not in alternating slices): the figures are sizes and
 * times of single steps, so run it on a quiet machine or read them with the load average printed. Prints a Markdown
 * table (or JSON with `--json`); progress goes to stderr. It kills only the processes it started (by PID) and
 * removes its temp dirs (under $TMPDIR), also on errors and SIGINT.
 */
import cac from "cac";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { installCleanupHandlers } from "./bench/cleanup.ts";
import { comparedServers, flagChecks, type FlagChecks } from "./bench/flags.ts";
import { GeneratorHandle } from "./bench/generator-handle.ts";
import { RunningServer } from "./bench/server.ts";
import { scaleMarkdown } from "./bench/scale/report.ts";
import { runScaleSteps, type ScaleOptions, type ScaleResult } from "./bench/scale/steps.ts";

const checks = flagChecks("scale");
/** Annotated, so that TypeScript knows code after a usage() call is unreachable. */
const usage: FlagChecks["usage"] = checks.usage;
const { positiveInt, positiveIntList, positiveNumber } = checks;
/** A count that may be 0. */
const nonNegativeInt = (name: string, value: unknown): number => (Number(value) === 0 ? 0 : positiveInt(name, value));

const DEFAULT_OURS = fileURLToPath(new URL("../dist/etcd", import.meta.url));

/** The backend quota both servers get at least (etcd's default of 2 GiB would stop a large history run). */
const MIN_QUOTA_BYTES = 8 * 2 ** 30;

/** Parsed command-line flags (cac camel-cases them): the sizes of ScaleOptions as typed, plus the binaries. */
interface Flags extends Omit<ScaleOptions, "loadPutsPerRequest" | "putValSizes" | "overwrites"> {
  overwrites?: number;
  loadTxnOps: number;
  putValSizes: string | number;
  etcd: string;
  ours: string;
  json: boolean;
}

/** Runs the scaling steps on every server and prints the table. */
async function main(flags: Flags): Promise<void> {
  const options: ScaleOptions = {
    keys: positiveInt("keys", flags.keys),
    valSize: positiveInt("val-size", flags.valSize),
    loadPutsPerRequest: positiveInt("load-txn-ops", flags.loadTxnOps),
    rangeKeys: positiveInt("range-keys", flags.rangeKeys),
    rangeRequests: positiveInt("range-requests", flags.rangeRequests),
    watchers: positiveInt("watchers", flags.watchers),
    watchStreams: positiveInt("watch-streams", flags.watchStreams),
    overwrites: flags.overwrites === undefined ? positiveInt("keys", flags.keys) : nonNegativeInt("overwrites", flags.overwrites),
    historyBytes: positiveInt("history-bytes", flags.historyBytes),
    historyValSize: positiveInt("history-val-size", flags.historyValSize),
    putValSizes: positiveIntList("put-val-sizes", flags.putValSizes),
    putSeconds: positiveNumber("put-seconds", flags.putSeconds),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  installCleanupHandlers();
  const quota = String(Math.max(MIN_QUOTA_BYTES, 2 * options.historyBytes + 2 ** 30));
  const extraFlags = ["--quota-backend-bytes", quota];
  const { specs, notes } = comparedServers(checks, String(flags.etcd), String(flags.ours), { extraFlags });
  const date = new Date().toISOString();
  const loadBefore = loadavg();
  const results: ScaleResult[] = [];
  const generator = GeneratorHandle.start();
  try {
    for (const spec of specs) {
      log(`${spec.label} (${spec.binary})`);
      const server = await RunningServer.start(spec);
      try {
        results.push(await runScaleSteps(server, generator, options, log));
      } finally {
        await server.stop();
      }
    }
  } finally {
    await generator.stop();
  }
  const loadAfter = loadavg();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ date, loadBefore, loadAfter, options, results, notes }, null, 2)}\n`);
    return;
  }
  const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  const command = ["npx", "bun", "scripts/scale.ts", ...process.argv.slice(2)].join(" ");
  process.stdout.write(
    `Command: \`${command}\`\n\n${date}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, load average ` +
      `${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after; the servers ran one after the other.\n\n` +
      notes.map((n) => `Note: ${n}\n\n`).join("") +
      `${scaleMarkdown(options, results)}\n`,
  );
}

const cli = cac("scale");
cli
  .command("", "Scaling run of etcd 3.4 and ours, side by side")
  .option("--keys <n>", "Keys loaded", { default: 1_000_000 })
  .option("--val-size <bytes>", "Value size of the loaded keys", { default: 256 })
  .option("--load-txn-ops <n>", "Puts per request when loading (1: Put requests, one revision per key; more: Txns)", { default: 1 })
  .option("--range-keys <n>", "Keys read by the range step", { default: 10_000 })
  .option("--range-requests <n>", "Serial requests of the range step", { default: 20 })
  .option("--watchers <n>", "Watchers on distinct keys", { default: 10_000 })
  .option("--watch-streams <n>", "Watch streams (one connection each) the watchers are spread over", { default: 10 })
  .option("--overwrites <n>", "Loaded keys overwritten once before the compaction step (default: --keys, so it frees a revision per key)")
  .option("--history-bytes <n>", "Bytes of values written as uncompacted history before the last restart (the issue's target: 10737418240)", { default: 64 * 2 ** 20 })
  .option("--history-val-size <bytes>", "Value size of the history puts", { default: 64 * 1024 })
  .option("--put-val-sizes <n[,n...]>", "Value sizes of the put-rate step", { default: "1024,65536" })
  .option("--put-seconds <s>", "Measured seconds of each put-rate run (3 slices, after a 0.5 s warm-up)", { default: 3 })
  .option("--etcd <path>", "Real etcd binary (none: ours alone)", { default: "/usr/bin/etcd" })
  .option("--ours <path>", "Our etcd binary", { default: DEFAULT_OURS })
  .option("--json", "Print JSON instead of Markdown", { default: false })
  .action((flags: Flags) =>
    main(flags).catch((err) => {
      process.stderr.write(`scale: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }),
  );
cli.help();
cli.parse();
