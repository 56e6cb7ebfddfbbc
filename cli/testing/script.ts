/**
 * Two-run comparison of etcdctls: the same script of invocations runs with Go's etcdctl on a fresh
 * real etcd, then with ours on a fresh etcd restarted on the same ports (so cluster and member
 * IDs, revisions and raft terms repeat), and each invocation's stdout bytes, stderr and exit code
 * are compared (see {@link comparable}).
 */
import { GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO } from "./etcd-cluster.ts";
import { cleanEnv, runProcess, type RunResult } from "./etcd-process.ts";

/** One invocation of a script. */
export interface ScriptCase {
  /** Arguments; `--endpoints {EP}` is prepended unless `noEndpoints`; `{EP}`, `{DEAD}`, `{CERTS}` are filled in. */
  args: string[];
  stdin?: string;
  /** Extra environment (values filled in like `args`). */
  env?: Record<string, string>;
  noEndpoints?: boolean;
  /** Run ours under Deno instead of Bun. */
  deno?: boolean;
}

/** Placeholder values: the live endpoint, a closed port, the test certificates' directory. */
export type Placeholders = Record<"EP" | "DEAD" | "CERTS", string>;

/**
 * The etcdctl of the second run: ours (under Deno for `deno` cases, else Bun), or Go's when
 * `CLI_TEST_CTL=go` (with `CLI_TEST_ETCD_BIN`, this checks a server alone against the real one).
 */
export function secondRunCtl(c: ScriptCase): string[] {
  if (process.env.CLI_TEST_CTL === "go") return GO_ETCDCTL;
  return c.deno ? OUR_ETCDCTL_DENO : OUR_ETCDCTL;
}

/** A test name for a case: its arguments, environment, stdin and runtime. */
export function caseName(c: ScriptCase): string {
  const extra = [
    c.env ? `env ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(",")}` : "",
    c.stdin !== undefined ? `stdin ${JSON.stringify(c.stdin)}` : "",
    c.deno ? "(deno)" : "",
  ];
  return [c.args.join(" "), ...extra].filter(Boolean).join(" ");
}

/**
 * Runs every case in order with the etcdctl `cmdFor(case)` and no other `ETCDCTL_*` variable.
 * @returns one result per case
 */
export async function runScript(cases: ScriptCase[], cmdFor: (c: ScriptCase) => string[], values: Placeholders): Promise<RunResult[]> {
  const fill = (s: string) => s.replace(/\{(EP|DEAD|CERTS)\}/g, (_, k: keyof Placeholders) => values[k]);
  const results: RunResult[] = [];
  for (const c of cases) {
    const extra = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)]));
    const env = { ...cleanEnv(), ETCDCTL_API: "3", ...extra };
    const args = [...(c.noEndpoints ? [] : ["--endpoints", values.EP]), ...c.args.map(fill)];
    results.push(await runProcess(cmdFor(c), args, c.stdin ?? "", env));
  }
  return results;
}

const CAPNSLOG_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/gm;
const TOOK = /"took":"[^"]*"/g;

/**
 * What must match between the two etcdctls: stdout bytes (as latin1 text; `"took"` durations of
 * endpoint health masked), stderr without clientv3's zap warning lines and with log times
 * masked, and the exit code.
 */
export function comparable(r: RunResult): { stdout: string; stderr: string; code: number } {
  const stderr = r.stderr
    .split("\n")
    .filter((l) => !l.startsWith('{"level":"warn"'))
    .join("\n")
    .replace(CAPNSLOG_TIME, "<time>");
  return { stdout: Buffer.from(r.stdout).toString("latin1").replace(TOOK, '"took":"<took>"'), stderr, code: r.code };
}
