/**
 * Command-line helpers the benchmark scripts share (scripts/benchmark.ts, scripts/scale.ts): flag value checks that
 * exit with a usage error (exit code 2, `<tool>: <message> (see --help)` on stderr), and the choice of the servers to
 * compare from `--etcd` and `--ours`.
 */
import { accessSync, constants } from "node:fs";
import type { ServerSpec } from "./server.ts";

/** Flag checks of one tool; each exits the process with a usage error on a bad value. */
export interface FlagChecks {
  /** Prints `<tool>: <message> (see --help)` and exits with code 2. */
  usage(message: string): never;
  /** A positive integer. */
  positiveInt(name: string, value: unknown): number;
  /** A comma-separated list of positive integers ("64,1000"). */
  positiveIntList(name: string, value: unknown): number[];
  /** A positive number. */
  positiveNumber(name: string, value: unknown): number;
  /** A comma-separated list of positive numbers ("100,10"). */
  positiveNumberList(name: string, value: unknown): number[];
}

/** The flag checks of `tool` (e.g. "benchmark"). */
export function flagChecks(tool: string): FlagChecks {
  const usage = (message: string): never => {
    process.stderr.write(`${tool}: ${message} (see --help)\n`);
    process.exit(2);
  };
  const positiveInt = (name: string, value: unknown): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
  const positiveNumber = (name: string, value: unknown): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
    return n;
  };
  const list = <T>(value: unknown, item: (s: string) => T): T[] => String(value).split(",").map((s) => item(s.trim()));
  return {
    usage,
    positiveInt,
    positiveNumber,
    positiveIntList: (name, value) => list(value, (s) => positiveInt(name, s)),
    positiveNumberList: (name, value) => list(value, (s) => positiveNumber(name, s)),
  };
}

/** Whether `path` exists and may be executed by this process. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The servers a run compares and the remarks its report carries about them. */
export interface ComparedServers {
  specs: ServerSpec[];
  notes: string[];
}

/**
 * The servers to compare, reference first: etcd at `etcdPath` (left out when it is "none"), then ours at `oursPath`
 * when that is executable (otherwise a note says it is missing), each with the `common` spec fields. Exits with a
 * usage error when etcd's binary cannot be run, or when no server is left.
 */
export function comparedServers(checks: FlagChecks, etcdPath: string, oursPath: string, common: Omit<ServerSpec, "label" | "binary">): ComparedServers {
  const specs: ServerSpec[] = [];
  const notes: string[] = [];
  if (etcdPath !== "none") {
    if (!isExecutable(etcdPath)) checks.usage(`etcd binary ${etcdPath} not found or not executable (--etcd)`);
    specs.push({ label: "etcd", binary: etcdPath, ...common });
  }
  if (isExecutable(oursPath)) specs.push({ label: "ours", binary: oursPath, ...common });
  else if (specs.length === 0) checks.usage(`ours (${oursPath}) not found or not executable (--ours), and --etcd none`);
  else notes.push(`ours (${oursPath}) not found or not executable (build it with \`npm run build\`, or pass --ours <path>); running etcd only.`);
  return { specs, notes };
}
