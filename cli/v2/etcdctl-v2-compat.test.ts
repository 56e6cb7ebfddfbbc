/**
 * Our etcdctl in v2 mode (`ETCDCTL_API=2`) against the Go etcdctl 3.4.23 in v2 mode, invocation by
 * invocation, as cli/etcdctl-compat.test.ts does for v3: the same script runs with the Go
 * etcdctl against a fresh server, then with ours against a fresh server on the same ports (so
 * member IDs and v2 indexes repeat); stdout bytes, stderr and exit codes must be identical.
 * Masked: `expiration` timestamps and remaining TTLs of reads (they tick), the version in the
 * app help and `--version` (ours, as in v3 mode) and the `user`/`role`/`auth` command
 * lines of the app help (not implemented).
 *
 * Server under test: `CLI_TEST_ETCD_BIN` (default the real etcd 3.4), started with `--enable-v2`.
 * Every case needs the server's v2 API (`/v2/keys`, `/v2/members`, `/health`): with our etcd
 * binary they pass once its v2 API is merged (branch v2).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { cleanEnv, ETCD_UNDER_TEST, freePort, placeEtcd, runProcess, spawnEtcd, type EtcdPlacement, type EtcdProcess, type RunResult } from "../testing/etcd-process.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "cli", "main.ts");
const REAL = ["/usr/bin/etcdctl"];
const OURS = [process.execPath, MAIN];
const OURS_DENO = [join(ROOT, "node_modules", ".bin", "deno"), "run", "-A", "--no-lock", MAIN];

interface Case {
  /** `{EP}` live endpoint URL, `{DEAD}` a closed port's URL, `{ID}` the member ID, `{PEER}` its peer URL. `--endpoints {EP}` is prepended unless `noEndpoints`. */
  args: string[];
  stdin?: string;
  env?: Record<string, string>;
  noEndpoints?: boolean;
  deno?: boolean;
  /** Output that names a member added with a time-based (so per-run) ID: IDs masked, lines sorted. */
  newMember?: boolean;
}

/** The script, in order; writes shape what later reads see (indexes included). TTLs are long: an expiry is a write, at a time no script controls. */
const CASES: Case[] = [
  { args: ["set", "/testdir/testkey", "Hello world"] },
  { args: ["get", "/testdir/testkey"] },
  { args: ["get", "/testkey2"] },
  { args: ["-o", "extended", "get", "/testdir/testkey"] },
  { args: ["-o", "json", "get", "/testdir/testkey"] },
  { args: ["--output=json", "get", "/nokey"] },
  { args: ["-o", "yaml", "get", "/testdir/testkey"] },
  { args: ["get", "/testdir"] },
  { args: ["get", "--quorum", "/testdir/testkey"] },
  { args: ["get", "-q", "/testdir/testkey"] },
  { args: ["get", "--sort", "/testdir/testkey"] },
  { args: ["get", "/testdir/testkey", "--quorum"] },
  { args: ["get"] },
  { args: ["set", "/a"] },
  { args: ["set", "/fromstdin"], stdin: "piped value\n" },
  { args: ["set", "/emptystdin"], stdin: "" },
  { args: ["set"] },
  { args: ["set", "--", "/dash", "-v"] },
  { args: ["get", "/dash"] },
  { args: ["set", "/u", "ключ ✓ <&>"] },
  { args: ["-o", "json", "get", "/u"] },
  { args: ["set", "--ttl", "3600", "/ttl", "x"] },
  { args: ["-o", "json", "set", "--ttl", "3600", "/ttl2", "y"] },
  { args: ["-o", "extended", "get", "/ttl"] },
  { args: ["-o", "json", "get", "/ttl"] },
  { args: ["set", "--ttl", "abc", "/ttl", "x"] },
  { args: ["set", "--ttl", "-5", "/ttl", "x"] },
  { args: ["set", "/a", "1"] },
  { args: ["-o", "extended", "set", "/a", "2"] },
  { args: ["-o", "json", "set", "/a", "3"] },
  { args: ["set", "--swap-with-value", "nope", "/a", "4"] },
  { args: ["set", "--swap-with-value", "3", "/a", "4"] },
  { args: ["set", "--swap-with-index", "1", "/a", "5"] },
  { args: ["-o", "json", "set", "--swap-with-index", "{AIDX}", "/a", "5"] },
  { args: ["update", "/nope", "x"] },
  { args: ["update", "/a", "6"] },
  { args: ["-o", "extended", "update", "--ttl", "3600", "/a", "7"] },
  { args: ["update", "/testdir", "x"] },
  { args: ["mk", "/testdir/testkey", "v"] },
  { args: ["mk", "/newkey", "v"] },
  { args: ["-o", "json", "mk", "/newkey2", "v"] },
  { args: ["mk", "--in-order", "/queue", "job1"] },
  { args: ["-o", "json", "mk", "--in-order", "/queue", "job2"] },
  { args: ["-o", "extended", "mk", "--in-order", "--ttl", "3600", "/queue", "job3"] },
  { args: ["ls", "--sort", "/queue"] },
  { args: ["mk", "--in-order", "/a", "x"] },
  { args: ["mkdir", "/d"] },
  { args: ["mkdir", "/d"] },
  { args: ["-o", "json", "mkdir", "/d2"] },
  { args: ["-o", "extended", "mkdir", "--ttl", "3600", "/d3"] },
  { args: ["mkdir"] },
  { args: ["setdir", "/d"] },
  { args: ["setdir", "/d4"] },
  { args: ["-o", "json", "setdir", "/d5"] },
  { args: ["updatedir", "/d"] },
  { args: ["-o", "json", "updatedir", "--ttl", "3600", "/d"] },
  { args: ["updatedir", "/nodir"] },
  { args: ["updatedir", "/a"] },
  { args: ["ls", "--sort"] },
  { args: ["ls", "--sort", "-p"] },
  { args: ["ls", "--sort", "--recursive", "-p", "/"] },
  { args: ["ls", "--sort", "-r", "/testdir"] },
  { args: ["ls", "/testdir/testkey"] },
  { args: ["ls", "/missing"] },
  { args: ["ls", "--quorum", "--sort", "/queue"] },
  { args: ["-o", "json", "ls", "--sort", "/queue"] },
  { args: ["-o", "extended", "ls", "/testdir"] },
  { args: ["set", "/testdir/sub/deep", "z"] },
  { args: ["ls", "--sort", "-r", "-p", "/testdir"] },
  { args: ["watch", "--after-index", "1", "/testdir/testkey"] },
  { args: ["-o", "json", "watch", "--after-index", "1", "/a"] },
  { args: ["watch", "-r", "--after-index", "1", "/testdir"] },
  { args: ["-o", "extended", "watch", "--recursive", "--after-index", "1", "/queue"] },
  { args: ["watch"] },
  { args: ["exec-watch", "/a"] },
  { args: ["rm", "/d"] },
  { args: ["rm", "--dir", "/d"] },
  { args: ["-o", "json", "rmdir", "/d2"] },
  { args: ["rmdir", "/queue"] },
  { args: ["rmdir", "/a"] },
  { args: ["rm", "/testdir"] },
  { args: ["rm", "--recursive", "/testdir"] },
  { args: ["rm", "/newkey"] },
  { args: ["-o", "extended", "rm", "/newkey2"] },
  { args: ["-o", "json", "rm", "-r", "/queue"] },
  { args: ["rm", "--with-value", "nope", "/a"] },
  { args: ["rm", "--with-index", "1", "/a"] },
  { args: ["rm", "--with-value", "7", "/a"] },
  { args: ["rm", "/a"] },
  { args: ["rm"] },
  { args: ["rmdir"] },
  { args: ["rm", "/"] },
  { args: ["set", "/_hidden", "h"] },
  { args: ["ls", "--sort"] },
  { args: ["get", "/_hidden"] },
  { args: ["--no-sync", "get", "/u"] },
  { args: ["--endpoints", "{EP},{DEAD}", "get", "/u"], noEndpoints: true },
  { args: ["--peers", "{EP}", "get", "/u"], noEndpoints: true },
  { args: ["-C", "{EP}", "get", "/u"], noEndpoints: true },
  { args: ["--endpoint", "{EP}", "get", "/u"], noEndpoints: true },
  { args: ["get", "/u"], env: { ETCDCTL_ENDPOINTS: "{EP}" }, noEndpoints: true },
  { args: ["--timeout", "3s", "--total-timeout", "10s", "get", "/u"] },
  { args: ["--timeout", "x", "get", "/u"] },
  { args: ["--endpoints", "{DEAD}", "get", "/u"], noEndpoints: true },
  { args: ["--endpoints", "{DEAD}", "--no-sync", "set", "/u", "v"], noEndpoints: true },
  { args: ["--endpoints", "{DEAD}", "get"], noEndpoints: true },
  { args: ["--endpoints", "127.0.0.1:1", "get", "/u"], noEndpoints: true },
  { args: ["--endpoints", "{HOLD}", "--timeout", "300ms", "get", "/u"], noEndpoints: true },
  { args: ["--endpoints", "{HOLD}", "--timeout", "3s", "--total-timeout", "500ms", "get", "/u"], noEndpoints: true },
  { args: ["member", "list"] },
  { args: ["member", "list", "extra"] },
  { args: ["member"] },
  { args: ["member", "nope"] },
  { args: ["member", "add"] },
  { args: ["member", "add", "n2", "foo"] },
  { args: ["member", "add", "n2", "http://127.0.0.1:1/path"] },
  { args: ["member", "remove"] },
  { args: ["member", "remove", "ffff"] },
  { args: ["member", "remove", "{NAME}"] },
  { args: ["member", "update"] },
  { args: ["member", "update", "{ID}", "{PEER}"] },
  { args: ["member", "update", "ffff", "{PEER}"] },
  { args: ["member", "update", "{ID}", "nope"] },
  { args: ["member", "list", "--help"] },
  { args: ["help", "member"] },
  { args: ["cluster-health"] },
  { args: ["--endpoints", "{DEAD}", "cluster-health"], noEndpoints: true },
  { args: ["cluster-health", "--help"] },
  { args: ["backup", "--help"] },
  { args: ["nope"] },
  { args: ["help", "nope"] },
  { args: ["help", "get"] },
  { args: ["get", "--help"] },
  { args: ["set", "-h"] },
  { args: ["rmdir", "--help"] },
  { args: ["ls", "--help"] },
  { args: ["watch", "--help"] },
  { args: ["exec-watch", "--help"] },
  { args: ["get", "--bogus", "/u"] },
  { args: ["--bogus", "get", "/u"] },
  { args: ["get", "---x", "/u"] },
  { args: ["set", "--ttl"] },
  { args: [], noEndpoints: true },
  { args: ["--help"], noEndpoints: true },
  { args: ["set", "/late", "v", "--ttl", "3600"] },
  { args: ["-o=json", "get", "-sort=true", "/late"] },
  { args: ["set", "-ttl=3600", "/late2", "w"] },
  { args: ["ls", "--sort=false", "-p=true", "/queue"] },
  { args: ["get", "--sort=maybe", "/late"] },
  { args: ["set", "--swap-with-index", "abc", "/late", "x"] },
  { args: ["rm", "--with-index=99999999999999999999", "/late"] },
  { args: ["--debug", "get", "/late"] },
  { args: ["--debug", "set", "/dbg", 'a b"c'] },
  { args: ["--debug", "--no-sync", "-o", "json", "rm", "/dbg"] },
  { args: ["--debug", "cluster-health"] },
  { args: ["--debug", "--endpoints", "{DEAD}", "get", "/x"], noEndpoints: true },
  { args: ["get", "--", "/late"] },
  { args: ["user"] },
  { args: ["role", "grant", "--help"] },
  { args: ["user", "grant", "-h"] },
  { args: ["help", "auth"] },
  { args: ["auth"] },
  { args: ["version"] },
  { args: ["--version"], noEndpoints: true },
  { args: ["set", "/deno", "from deno"], deno: true },
  { args: ["-o", "json", "get", "/deno"], deno: true },
  // Last: etcd's v2 members API adds an unstarted voter without a quorum check, so the cluster
  // is left without quorum; reads of the membership still work.
  { args: ["member", "add", "n2", "{DEAD}"], newMember: true },
  { args: ["member", "list"], newMember: true },
  { args: ["cluster-health"], newMember: true },
];

function caseName(c: Case): string {
  const extra = [c.env ? `env ${Object.keys(c.env).join(",")}` : "", c.stdin !== undefined ? `stdin ${JSON.stringify(c.stdin)}` : "", c.deno ? "(deno)" : ""];
  return [c.args.join(" ") || "(no args)", ...extra].filter(Boolean).join(" ");
}

interface Fill {
  EP: string;
  DEAD: string;
  /** A server that accepts connections and never answers (header and total timeouts). */
  HOLD: string;
  ID: string;
  NAME: string;
  PEER: string;
  AIDX: string;
}

const v2Env = (extra: Record<string, string> = {}) => ({ ...cleanEnv(), ETCDCTL_API: "2", ...extra });

async function runScript(cmdFor: (c: Case) => string[], base: Omit<Fill, "AIDX">): Promise<RunResult[]> {
  const results: RunResult[] = [];
  let aidx = "0";
  for (const c of CASES) {
    const fill = (s: string) => Object.entries({ ...base, AIDX: aidx }).reduce((t, [k, v]) => t.replaceAll(`{${k}}`, v), s);
    const env = v2Env(Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)])));
    const args = [...(c.noEndpoints ? [] : ["--endpoints", base.EP]), ...c.args.map(fill)];
    const r = await runProcess(cmdFor(c), args, c.stdin ?? "", env);
    // The modifiedIndex of /a after `-o json set /a 3`, for the --swap-with-index case.
    const m = /"key":"\/a","value":"3","nodes":null,"createdIndex":\d+,"modifiedIndex":(\d+)/.exec(Buffer.from(r.stdout).toString());
    if (m) aidx = m[1]!;
    results.push(r);
  }
  return results;
}

const EXPIRATION = /"expiration":"[^"]*"/g;
const READ_TTL = /"ttl":\d+|TTL: \d+/g;
const APP_VERSION = /^VERSION:\n {3}.*$/m;
const CTL_VERSION = /^etcdctl version: .*$/m;

function comparable(c: Case, r: RunResult) {
  let stdout = Buffer.from(r.stdout).toString("latin1").replace(EXPIRATION, '"expiration":"<t>"').replace(READ_TTL, "<ttl>").replace(APP_VERSION, "VERSION:\n   <v>").replace(CTL_VERSION, "etcdctl version: <v>");
  if (c.newMember) {
    const sortList = (v: string) => v.split(",").sort().join(",");
    stdout = stdout
      .replace(/\b[0-9a-f]{8,16}\b/g, "<id>")
      .replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, v: string) => `ETCD_INITIAL_CLUSTER="${sortList(v)}"`)
      .split("\n")
      .sort()
      .join("\n");
  }
  return { stdout, stderr: r.stderr, code: r.code };
}

/** Starts the server under test with the v2 API on `p`. */
async function startV2Server(p: EtcdPlacement): Promise<EtcdProcess> {
  const etcd = spawnEtcd(p, [`--initial-cluster=${p.name}=http://127.0.0.1:${p.peerPort}`, "--enable-v2"], undefined, ETCD_UNDER_TEST);
  await etcd.waitHealthy(15000);
  return etcd;
}

async function memberId(ep: string): Promise<string> {
  const body = (await (await fetch(`${ep}/v2/members`)).json()) as { members: { id: string }[] };
  return body.members[0]!.id;
}

let real: RunResult[] = [];
let ours: RunResult[] = [];
let oursEtcd: EtcdProcess | undefined;
let fillBase: Omit<Fill, "AIDX">;
let hold: Server | undefined;
const held: Socket[] = [];

beforeAll(async () => {
  const placement = await placeEtcd("v2-member");
  const EP = `http://127.0.0.1:${placement.clientPort}`;
  const realEtcd = await startV2Server(placement);
  hold = createServer((socket) => held.push(socket));
  await new Promise<void>((r) => hold!.listen(0, "127.0.0.1", r));
  const HOLD = `http://127.0.0.1:${(hold.address() as { port: number }).port}`;
  fillBase = { EP, DEAD: `http://127.0.0.1:${await freePort()}`, HOLD, ID: await memberId(EP), NAME: placement.name, PEER: `http://127.0.0.1:${placement.peerPort}` };
  try {
    real = await runScript(() => REAL, fillBase);
  } finally {
    await realEtcd.stop();
  }
  oursEtcd = await startV2Server(placement);
  ours = await runScript((c) => (c.deno ? OURS_DENO : OURS), fillBase);
}, 400_000);

afterAll(async () => {
  await oursEtcd?.stop();
  for (const s of held) s.destroy();
  hold?.close();
});

describe("etcdctl v2 mode: same output as etcdctl 3.4 (needs the server's v2 API)", () => {
  CASES.forEach((c, i) => {
    test(caseName(c), () => {
      expect(comparable(c, ours[i]!)).toEqual(comparable(c, real[i]!));
    });
  });
});

/**
 * Runs a never-ending command (watch --forever, exec-watch) until its stdout has `lines` lines,
 * then interrupts it as Ctrl-C would; returns what it printed and its exit code.
 */
function runUntil(cmd: string[], args: string[], lines: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { env: v2Env(), stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (b: Buffer) => {
      out.push(b);
      if (Buffer.concat(out).toString().split("\n").length > lines) child.kill("SIGINT");
    });
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout: new Uint8Array(Buffer.concat(out)), stderr: Buffer.concat(err).toString(), code: code ?? -1 });
    });
  });
}

describe("etcdctl v2 long-running commands (needs the server's v2 API)", () => {
  test("watch --forever prints every event after --after-index and exits 0 on Ctrl-C", async () => {
    const args = ["--endpoints", oursEtcd!.endpoint.replace(/^/, "http://"), "watch", "--forever", "-r", "--after-index", "1", "/"];
    const [theirs, mine] = [await runUntil(REAL, args, 6), await runUntil(OURS, args, 6)];
    expect(mine.code).toBe(0);
    const head = (r: RunResult) => Buffer.from(r.stdout).toString().split("\n").slice(0, 6).join("\n").replace(EXPIRATION, "");
    expect(head(mine)).toEqual(head(theirs));
    expect(head(mine).split("\n").length).toBe(6);
  }, 30_000);

  // The documented form: the key right after a flag, then `--` (urfave/cli otherwise reorders the
  // arguments so that etcdctl takes the last one as the key).
  test("exec-watch runs the command per event with ETCD_WATCH_* set", async () => {
    const script = 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX"';
    const args = ["--endpoints", `http://${oursEtcd!.endpoint}`, "exec-watch", "--after-index", "1", "--recursive", "/u", "--", "sh", "-c", script];
    const [theirs, mine] = [await runUntil(REAL, args, 1), await runUntil(OURS, args, 1)];
    const first = (r: RunResult) => Buffer.from(r.stdout).toString().split("\n")[0];
    expect(first(mine)).toMatch(/^set \/u /);
    expect(first(mine)).toEqual(first(theirs));
    expect(mine.code).toBe(0);
  }, 30_000);
});
