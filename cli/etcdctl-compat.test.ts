/**
 * Our etcdctl against the real one (etcdctl 3.4.23, `/usr/bin/etcdctl`), request by request.
 *
 * The same script of invocations runs twice against the real etcd 3.4: first with the Go
 * etcdctl, then (after restarting etcd from an empty data dir on the same ports, so member and
 * cluster IDs, revisions and raft indexes repeat exactly) with ours. Each invocation's stdout
 * (bytes), stderr and exit code must be identical; only elapsed times and log timestamps are
 * masked, and stdout is skipped where cobra prints its usage text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  cleanEnv,
  placeEtcd,
  runProcess,
  startEtcd,
  freePort,
  type EtcdProcess,
  type RunResult,
} from "./testing/etcd-process.ts";

const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "cli", "main.ts");
const REAL = ["/usr/bin/etcdctl"];
const OURS = [process.execPath, MAIN];
const OURS_DENO = [join(ROOT, "node_modules", ".bin", "deno"), "run", "-A", "--no-lock", MAIN];

interface Case {
  /** Arguments; `{EP}` is the live endpoint, `{DEAD}` a closed port. `--endpoints {EP}` is prepended unless `noEndpoints`. */
  args: string[];
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  noEndpoints?: boolean;
  /** cobra prints usage on stdout for flag errors; we do not reproduce it. */
  skipStdout?: boolean;
  /** Go panics add a goroutine dump after the first stderr line. */
  stderrFirstLineOnly?: boolean;
  /**
   * Output contains values that legitimately differ between runs: elapsed times (endpoint health)
   * or the backend file size (endpoint status; bbolt commits on a timer).
   */
  varying?: boolean;
  /** Run ours under Deno instead of Bun. */
  deno?: boolean;
}

const TXN_OK = 'mod("foo") > "0"\n\nput foo baz\nget foo\ndel nothere\n\nput x y\n\n';
const TXN_FAIL = 'val("foo") = "nope"\n\nput foo nope\n\nput x y --prev-kv\nget x\n\n';
const BINARY = Uint8Array.of(0x76, 0x01, 0xff, 0x00, 0x3c, 0x26);
const SHORT_TIMEOUT = ["--command-timeout", "500ms"];

/** The script, in order; mutations shape what later reads see. */
const CASES: Case[] = [
  { args: ["put", "foo", "bar"] },
  { args: ["put", "foo", "bar2", "--prev-kv", "-w", "json"] },
  { args: ["put", "foo", "bar3", "--prev-kv"] },
  { args: ["put", "foo", "bar4", "--prev-kv", "-w", "fields"] },
  { args: ["put", "a", "1"] },
  { args: ["put", "b", "2", "-w", "protobuf"] },
  { args: ["put", "c", "3", "-w", "json"] },
  { args: ["put", "bin"], stdin: BINARY },
  { args: ["put", "fromstdin"], stdin: "line one\nline two\n" },
  { args: ["put", "nostdin"], stdin: "" },
  { args: ["put", "ключ", "значение ✓"] },
  { args: ["put", "007", "1e5"] },
  { args: ["put", "--", "-dash", "-v"] },
  { args: ["put", "k", "v", "--lease", "zz"] },
  { args: ["put", "k", "v", "--lease", "1e5"] },
  { args: ["put", "k", "v", "--lease=0"] },
  { args: ["put", "foo", "--ignore-value"] },
  { args: ["put", "missing", "--ignore-value"] },
  { args: ["put", "foo", "x", "--ignore-value"] },
  { args: ["put", "foo", "--ignore-value", "--ignore-lease", "-w", "json"] },
  { args: ["put", "", "v"] },
  { args: ["put"] },
  { args: ["get", "foo"] },
  { args: ["get", "foo", "-w", "json"] },
  { args: ["get", "foo", "-w", "fields"] },
  { args: ["get", "foo", "-w", "protobuf"] },
  { args: ["get", "foo", "--hex"] },
  { args: ["get", "bin"] },
  { args: ["get", "bin", "-w", "fields"] },
  { args: ["get", "bin", "--hex"] },
  { args: ["get", "bin", "-w", "json"] },
  { args: ["get", "ключ", "-w", "fields"] },
  { args: ["get", "007", "-w", "fields"] },
  { args: ["get", "--prefix", "00"] },
  { args: ["get", "--", "-dash"] },
  { args: ["get", "", "--prefix"] },
  { args: ["get", "", "--prefix", "--keys-only"] },
  { args: ["get", "", "--from-key", "-w", "json", "--keys-only"] },
  { args: ["get", "a", "c"] },
  { args: ["get", "a", "--from-key", "--limit", "2", "-w", "json"] },
  { args: ["get", "", "--prefix", "--limit=3", "-w", "fields"] },
  { args: ["get", "", "--prefix", "--sort-by", "value", "--order", "descend"] },
  { args: ["get", "", "--prefix", "--sort-by=CREATE", "--order=ASCEND", "--print-value-only"] },
  { args: ["get", "", "--prefix", "--sort-by", "modify", "--order", "descend", "--keys-only"] },
  { args: ["get", "", "--prefix", "--sort-by", "version", "--order", "descend", "--limit", "2"] },
  { args: ["get", "", "--prefix", "--order", "descend", "--limit", "-1"] },
  { args: ["get", "foo", "--rev", "2", "-w", "json"] },
  { args: ["get", "foo", "--rev", "0x3"] },
  { args: ["get", "foo", "--rev", "100000"] },
  { args: ["get", "foo", "--consistency", "s", "--print-value-only"] },
  { args: ["get", "foo", "--prefix=true", "--keys-only=false"] },
  { args: ["get", "nothing", "-w", "json"] },
  { args: ["get", "nothing", "-w", "fields"] },
  { args: ["get"] },
  { args: ["get", "foo", "--prefix", "--from-key"] },
  { args: ["get", "a", "b", "--prefix"] },
  { args: ["get", "foo", "--consistency", "x"] },
  { args: ["get", "foo", "--order", "sideways"] },
  { args: ["get", "foo", "--sort-by", "color"] },
  { args: ["get", "foo", "--print-value-only", "-w", "json"] },
  { args: ["get", "foo", "-w", "table"] },
  { args: ["get", "foo", "-w", "bogus"] },
  { args: ["get", "foo", "--limit", "abc"], skipStdout: true },
  { args: ["get", "foo", "--limit"], skipStdout: true },
  { args: ["get", "foo", "--bogus"], skipStdout: true },
  { args: ["get", "foo", "-x"], skipStdout: true },
  { args: ["get", "foo", "--prefix=maybe"], skipStdout: true },
  { args: ["--dial-timeout", "abc", "get", "foo"], skipStdout: true },
  { args: ["bogus"] },
  { args: ["ge", "foo"] },
  { args: ["del", "a"] },
  { args: ["del", "b", "--prev-kv", "-w", "json"] },
  { args: ["del", "c", "--prev-kv"] },
  { args: ["del", "fromstdin", "--prev-kv", "-w", "fields"] },
  { args: ["del", "zzz", "--prefix"] },
  { args: ["del", "00", "--prefix", "-w", "protobuf"] },
  { args: ["del"] },
  { args: ["del", "a", "b", "c"] },
  { args: ["del", "a", "--prefix", "--from-key"] },
  { args: ["del", "a", "b", "--from-key"] },
  { args: ["txn"], stdin: TXN_OK },
  { args: ["txn", "-i"], stdin: TXN_FAIL },
  { args: ["txn", "-w", "json"], stdin: TXN_OK },
  { args: ["txn", "-w", "fields"], stdin: TXN_FAIL },
  { args: ["txn", "--interactive", "-w", "protobuf"], stdin: TXN_OK },
  { args: ["txn"], stdin: "\n\n\n" },
  { args: ["txn"], stdin: "\nput 'q' \"v\\x41\\u00e9\"\nget q --prefix --keys-only\n\n\n" },
  { args: ["txn", "-w", "json"], stdin: 'val("q") = "vAé"\nver("q") = "1"\nc("q") > "0"\n\ndel q --prev-kv\n\n\n' },
  { args: ["txn"], stdin: 'ver("foo") > "1"' },
  { args: ["txn", "-i"], stdin: 'ver("foo") > "1"\n\nput a b\n' },
  { args: ["txn"], stdin: 'ver("foo") >= "1"\n\n\n\n', stderrFirstLineOnly: true },
  { args: ["txn"], stdin: 'lease("foo") = "1"\n\n\n\n', stderrFirstLineOnly: true },
  { args: ["txn"], stdin: 'ver("foo")>"0"\n\n\n\n' },
  { args: ["txn"], stdin: 'ver("foo") >"0"\n\n\n\n' },
  { args: ["txn"], stdin: 'ver(foo) = "1"\n\n\n\n' },
  { args: ["txn"], stdin: 'ver("foo") > 0\n\n\n\n' },
  { args: ["txn"], stdin: 'nope("a") = "1"\n\n\n\n' },
  { args: ["txn"], stdin: 'ver("foo") > "x"\n\n\n\n' },
  { args: ["txn"], stdin: "ver\n\n\n\n" },
  { args: ["txn"], stdin: "\nbogus a\n\n\n" },
  { args: ["txn"], stdin: "\nput\n\n\n" },
  { args: ["txn"], stdin: "\nput a\n\n\n" },
  { args: ["txn"], stdin: "\nput a b --bogus\n\n\n" },
  { args: ["txn"], stdin: '\nput "a\\q" b\n\n\n' },
  { args: ["txn"], stdin: "\nget a --consistency x\n\n\n" },
  { args: ["txn", "extra"], stdin: "\n\n\n" },
  { args: ["compaction", "3"] },
  { args: ["get", "foo", "--rev", "2"] },
  { args: ["compaction", "2"] },
  { args: ["compaction", "100000"] },
  { args: ["compaction", "abc"] },
  { args: ["compaction"] },
  { args: ["compaction", "5", "--physical"] },
  { args: ["member", "list"] },
  { args: ["member", "list", "-w", "json"] },
  { args: ["member", "list", "-w", "fields"] },
  { args: ["member", "list", "-w", "table"] },
  { args: ["member", "list", "-w", "protobuf"] },
  { args: ["memb", "li"] },
  { args: ["endpoint", "status"], varying: true },
  { args: ["endpoint", "status", "-w", "json"], varying: true },
  { args: ["endpoint", "status", "-w", "fields"], varying: true },
  { args: ["endpoint", "status", "-w", "table"], varying: true },
  { args: ["endpoint", "status", "-w", "protobuf"] },
  { args: ["endpoint", "status", "--cluster", "-w", "table"], varying: true },
  { args: ["endpoint", "health"], varying: true },
  { args: ["endpoint", "health", "-w", "json"], varying: true },
  { args: ["endpoint", "health", "-w", "fields"], varying: true },
  { args: ["endpoint", "health", "-w", "table"], varying: true },
  { args: ["endpoint", "health", "--cluster"], varying: true },
  { args: ["get", "foo"], noEndpoints: true, env: { ETCDCTL_ENDPOINTS: "{EP}" } },
  { args: ["get", "foo"], env: { ETCDCTL_WRITE_OUT: "json" } },
  { args: ["get", "foo"], env: { ETCDCTL_HEX: "true", ETCDCTL_DIAL_TIMEOUT: "abc" } },
  { args: ["get", "foo"], env: { ETCDCTL_ENDPOINTS: "{EP}" } },
  { args: ["get", "foo"], env: { ETCDCTL_FOO: "1" } },
  { args: ["endpoint", "health", "-w", "json"], noEndpoints: true, env: { ETCDCTL_ENDPOINTS: "{EP}", ETCDCTL_CLUSTER: "true" }, varying: true },
  { args: ["--endpoints", "{DEAD}", ...SHORT_TIMEOUT, "get", "foo"], noEndpoints: true },
  { args: ["--endpoints", "{DEAD},{EP}", "get", "foo"], noEndpoints: true },
  { args: ["--endpoints", "{DEAD}", ...SHORT_TIMEOUT, "endpoint", "status"], noEndpoints: true },
  { args: ["--endpoints", "{DEAD}", ...SHORT_TIMEOUT, "endpoint", "health", "-w", "json"], noEndpoints: true, varying: true },
  // Alarms (none raised here: etcd answers without a header, so fields panics), HashKV, defrag.
  { args: ["alarm", "list"] },
  { args: ["alarm", "list", "-w", "json"] },
  { args: ["alarm", "list", "-w", "protobuf"] },
  { args: ["alarm", "list", "-w", "table"] },
  { args: ["alarm", "list", "-w", "fields"], stderrFirstLineOnly: true },
  { args: ["alarm", "list", "extra"] },
  { args: ["alarm", "disarm"] },
  { args: ["alarm", "disarm", "-w", "json"] },
  { args: ["alarm", "disarm", "extra"] },
  { args: ["endpoint", "hashkv", "--rev", "1"] },
  { args: ["endpoint", "hashkv", "--rev", "100000", "-w", "json"] },
  { args: ["endpoint", "hashkv", "-w", "protobuf"] },
  { args: ["--endpoints", "{DEAD}", ...SHORT_TIMEOUT, "endpoint", "hashkv"], noEndpoints: true },
  { args: ["defrag"] },
  { args: ["defrag", "--cluster"] },
  { args: ["--endpoints", "{DEAD}", ...SHORT_TIMEOUT, "defrag"], noEndpoints: true },
  { args: ["put", "deno-key", "from deno"], deno: true },
  { args: ["get", "deno-key", "-w", "json"], deno: true },
  { args: ["del", "", "--from-key", "-w", "json"] },
  { args: ["get", "", "--prefix", "-w", "json"] },
];

function caseName(c: Case): string {
  const extra = [c.env ? `env ${Object.keys(c.env).join(",")}` : "", c.stdin !== undefined ? `stdin ${JSON.stringify(typeof c.stdin === "string" ? c.stdin : "<bytes>")}` : "", c.deno ? "(deno)" : ""];
  return [c.args.join(" "), ...extra].filter(Boolean).join(" ");
}

interface Endpoints {
  EP: string;
  DEAD: string;
}

async function runScript(cmdFor: (c: Case) => string[], eps: Endpoints): Promise<RunResult[]> {
  const fill = (s: string) => s.replaceAll("{EP}", eps.EP).replaceAll("{DEAD}", eps.DEAD);
  const results: RunResult[] = [];
  for (const c of CASES) {
    const env = { ...cleanEnv(), ETCDCTL_API: "3", ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)])) };
    const args = [...(c.noEndpoints ? [] : ["--endpoints", eps.EP]), ...c.args.map(fill)];
    results.push(await runProcess(cmdFor(c), args, c.stdin ?? "", env));
  }
  return results;
}

const DURATION = /\d+(\.\d+)?(ns|µs|ms|s)\b/g;
const DB_SIZE = /"dbSize":\d+|"DBSize" : \d+|\b\d+(\.\d)? [kMG]?B\b/g;
const CAPNSLOG_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/gm;

/** What must match between the two etcdctls for one case. */
function comparable(c: Case, r: RunResult) {
  // Byte-exact for binary values; varying outputs are text with `µs` in them.
  let stdout = Buffer.from(r.stdout).toString(c.varying ? "utf8" : "latin1");
  let stderr = r.stderr
    .split("\n")
    .filter((l) => !l.startsWith('{"level":"warn"'))
    .join("\n")
    .replace(CAPNSLOG_TIME, "<time>");
  if (c.varying) {
    // Durations differ, and so do table column widths that hold them.
    stdout = stdout.replace(DURATION, "<took>").replace(DB_SIZE, "<size>").replace(/-+/g, "-").replace(/ +/g, " ");
    stderr = stderr.replace(DURATION, "<took>");
  }
  if (c.stderrFirstLineOnly) stderr = stderr.split("\n")[0]!;
  return { stdout: c.skipStdout ? "<skipped>" : stdout, stderr, code: r.code };
}

let real: RunResult[] = [];
let ours: RunResult[] = [];
let oursEtcd: EtcdProcess | undefined;

beforeAll(async () => {
  // A member name over 30 columns with spaces makes `member list -w table` wrap the cell.
  const placement = await placeEtcd("etcd member <with> a deliberately long name");
  const eps = { EP: `127.0.0.1:${placement.clientPort}`, DEAD: `127.0.0.1:${await freePort()}` };
  const realEtcd = await startEtcd(placement);
  try {
    real = await runScript(() => REAL, eps);
  } finally {
    await realEtcd.stop();
  }
  oursEtcd = await startEtcd(placement);
  ours = await runScript((c) => (c.deno ? OURS_DENO : OURS), eps);
}, 110_000);

afterAll(async () => {
  await oursEtcd?.stop();
});

describe("same output as etcdctl 3.4", () => {
  CASES.forEach((c, i) => {
    test(caseName(c), () => {
      expect(comparable(c, ours[i]!)).toEqual(comparable(c, real[i]!));
    });
  });
});

describe("beyond etcdctl 3.4", () => {
  const ours = (args: string[]) => runProcess(OURS, ["--endpoints", oursEtcd!.endpoint, ...args], "", cleanEnv());

  test("get --count-only needs -w fields and prints only More and Count (etcdctl 3.5 behaviour)", async () => {
    await ours(["put", "cnt/1", "x"]);
    await ours(["put", "cnt/2", "y"]);
    const fields = await ours(["get", "cnt/", "--prefix", "--count-only", "-w", "fields"]);
    const text = Buffer.from(fields.stdout).toString();
    expect(fields.code).toBe(0);
    expect(text).toContain('"Count" : 2\n');
    expect(text).not.toContain('"Key"');
    const simple = await ours(["get", "cnt/", "--prefix", "--count-only"]);
    expect([simple.code, simple.stderr]).toEqual([128, "Error: --count-only is only for `--write-out=fields`\n"]);
  });

  test("put --lease attaches a lease granted by etcdctl; reads of it match etcdctl on the same server", async () => {
    const env = { ...cleanEnv(), ETCDCTL_API: "3" };
    const grant = await runProcess(REAL, ["--endpoints", oursEtcd!.endpoint, "lease", "grant", "600"], "", env);
    const id = /lease ([0-9a-f]+) granted/.exec(Buffer.from(grant.stdout).toString())![1]!;
    const put = await ours(["put", "leased", "v", "--lease", id, "--prev-kv"]);
    expect([put.code, Buffer.from(put.stdout).toString()]).toEqual([0, "OK\n"]);
    const keep = await ours(["put", "leased", "w", "--ignore-lease", "-w", "json"]);
    expect(keep.code).toBe(0);
    for (const format of ["fields", "json", "protobuf"]) {
      const args = ["--endpoints", oursEtcd!.endpoint, "get", "leased", "-w", format];
      const [theirs, mine] = await Promise.all([runProcess(REAL, args, "", env), runProcess(OURS, args, "", env)]);
      expect(mine).toEqual(theirs);
    }
  });

  test("version keeps etcdctl's two-line format with API version 3.4", async () => {
    const r = await runProcess(OURS, ["version"], "", cleanEnv());
    expect(Buffer.from(r.stdout).toString()).toMatch(/^etcdctl version: \d+\.\d+\.\d+\nAPI version: 3\.4\n$/);
  });
});
