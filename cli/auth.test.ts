/**
 * `user`, `role`, `auth enable|disable` and `--user/--password` (`ETCDCTL_USER/PASSWORD`): our
 * etcdctl against Go's etcdctl 3.4.23, both on a real etcd 3.4.23, invocation by invocation.
 *
 * The same script runs twice: with Go's etcdctl on a fresh etcd, then with ours on a fresh etcd
 * restarted on the same ports (so cluster and member IDs, revisions and raft terms repeat). Every
 * invocation must give the same stdout bytes, stderr and exit code (clientv3's zap warning lines
 * dropped). `CLI_TEST_ETCD_BIN=<etcd executable>` runs our etcdctl's half on another server (e.g.
 * our own, to check its side with the same script); `CLI_TEST_CTL=go` uses Go's etcdctl there too. The script covers every command in every `-w` format, the argument errors, server
 * refusals before and after `auth enable`, password prompts (stdin not a terminal: stty's
 * complaints on stderr are part of the expected output) and authentication failures.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO } from "./testing/etcd-cluster.ts";
import {
  cleanEnv,
  ETCD_UNDER_TEST,
  freePort,
  placeEtcd,
  runProcess,
  spawnEtcd,
  startEtcd,
  type EtcdProcess,
  type RunResult,
} from "./testing/etcd-process.ts";
import { caseName, comparable, runScript, secondRunCtl, type ScriptCase as Case } from "./testing/script.ts";
import { watchUntil } from "./testing/watch-event.ts";

const ROOT = ["--user", "root:rootpw"];
const FORMATS = ["simple", "json", "fields", "protobuf", "table"];
const each = (args: string[]): Case[] => FORMATS.map((f) => ({ args: [...args, "-w", f] }));

/** The script, in order; mutations shape what later invocations see. */
const CASES: Case[] = [
  // Before auth is enabled.
  { args: ["auth", "enable"] },
  { args: ["user", "add", "root:rootpw"] },
  { args: ["user", "add", "root:other"] },
  { args: ["user", "add"] },
  { args: ["user", "add", "a", "b"] },
  { args: ["user", "add", ":x"] },
  { args: ["user", "add", "alice", "--new-user-password=apw", "-w", "json"] },
  { args: ["user", "add", "bob:bpw", "-w", "fields"] },
  { args: ["user", "add", "carl:cpw", "-w", "protobuf"] },
  { args: ["user", "add", "dan:dpw", "-w", "table"] },
  { args: ["user", "add", "dan2:dpw", "-w", "bogus"] },
  { args: ["user", "add", "eve"], stdin: "epw\nepw\n" },
  { args: ["user", "add", "eve2"], stdin: "pw1\npw2\n" },
  { args: ["user", "add", "eve3"], stdin: "\n" },
  { args: ["user", "add", "eve4"], stdin: "" },
  { args: ["user", "add", "eve5"], stdin: "  spaced pw \r\n  spaced pw\n" },
  { args: ["user", "add", "eve6", "--interactive=false"], stdin: "  word rest\n" },
  { args: ["user", "add", "eve7", "--interactive=false"], stdin: "" },
  { args: ["user", "add", "nopw", "--no-password"] },
  { args: ["user", "add", "x:y", "--no-password", "-w", "json"] },
  { args: ["user", "add", "frank:ignored", "--new-user-password", "fpw"] },
  { args: ["user", "add", "ключ:пароль"] },
  { args: ["user", "get", "alice"] },
  { args: ["user", "get", "nobody"] },
  { args: ["user", "get"] },
  { args: ["user", "get", "a", "b"] },
  ...each(["user", "list"]),
  { args: ["user", "list", "extra"] },
  { args: ["user", "passwd", "alice", "--interactive=false"], stdin: "apw2\n" },
  { args: ["user", "passwd", "alice", "-w", "json"], stdin: "apw\napw\n" },
  { args: ["user", "passwd", "alice", "-w", "fields"], stdin: "apw\napw\n" },
  { args: ["user", "passwd", "alice"], stdin: "apw\nnot\n" },
  { args: ["user", "passwd", "nobody"], stdin: "x\nx\n" },
  { args: ["user", "passwd"] },
  { args: ["role", "add", "r1"] },
  { args: ["role", "add", "r1"] },
  { args: ["role", "add"] },
  { args: ["role", "add", "r2", "-w", "json"] },
  { args: ["role", "add", "r3", "-w", "fields"] },
  { args: ["role", "add", "r4", "-w", "protobuf"] },
  { args: ["role", "add", "r5", "-w", "table"] },
  { args: ["role", "grant-permission", "r1", "read", "foo"] },
  { args: ["role", "grant-permission", "r1", "write", "a", "b"] },
  { args: ["role", "grant-permission", "r1", "readwrite", "p", "--prefix"] },
  { args: ["role", "grant-permission", "r1", "READWRITE", "f", "--from-key"] },
  { args: ["role", "grant-permission", "r1", "Read", "", "--prefix"] },
  { args: ["role", "grant-permission", "r1", "write", ""] },
  { args: ["role", "grant-permission", "r1", "read", "x", "y", "-w", "json"] },
  { args: ["role", "grant-permission", "r1", "write", "\u00ff", "--prefix", "-w", "fields"] },
  { args: ["role", "grant-permission", "r2", "read", "k", "-w", "protobuf"] },
  { args: ["role", "grant-permission", "r2", "read", "k2", "-w", "table"] },
  { args: ["role", "grant-permission", "r1", "bogus", "x"] },
  { args: ["role", "grant-permission", "r1", "read"] },
  { args: ["role", "grant-permission", "r1", "read", "a", "b", "--prefix"] },
  { args: ["role", "grant-permission", "r1", "read", "a", "b", "--from-key"] },
  { args: ["role", "grant-permission", "r1", "read", "a", "--prefix", "--from-key"] },
  { args: ["role", "grant-permission", "r1", "read", "", "--prefix", "--from-key"] },
  { args: ["role", "grant-permission", "nosuch", "read", "k"] },
  ...each(["role", "get", "r1"]),
  { args: ["role", "get", "nosuch"] },
  { args: ["role", "get"] },
  ...each(["role", "list"]),
  { args: ["role", "list", "x"] },
  { args: ["role", "revoke-permission", "r1", "foo"] },
  { args: ["role", "revoke-permission", "r1", "a", "b"] },
  { args: ["role", "revoke-permission", "r1", "p", "--prefix", "-w", "json"] },
  { args: ["role", "revoke-permission", "r1", "f", "--from-key", "-w", "fields"] },
  { args: ["role", "revoke-permission", "r1", "", "--prefix", "-w", "protobuf"] },
  { args: ["role", "revoke-permission", "r1", "zzz"] },
  { args: ["role", "revoke-permission", "r1"] },
  { args: ["role", "revoke-permission", "r1", "a", "b", "--prefix"] },
  { args: ["role", "revoke-permission", "r2", "k", "-w", "table"] },
  { args: ["role", "get", "r1"] },
  { args: ["role", "grant-permission", "r1", "write", "a", "b"] },
  { args: ["user", "grant-role", "alice", "r1"] },
  { args: ["user", "grant-role", "alice", "r2", "-w", "json"] },
  { args: ["user", "grant-role", "alice", "r3", "-w", "fields"] },
  { args: ["user", "grant-role", "alice", "r4", "-w", "protobuf"] },
  { args: ["user", "grant-role", "alice", "r5", "-w", "table"] },
  { args: ["user", "grant-role", "alice", "nosuch"] },
  { args: ["user", "grant-role", "nobody", "r1"] },
  { args: ["user", "grant-role", "alice"] },
  ...each(["user", "get", "alice"]),
  ...each(["user", "get", "alice", "--detail"]),
  { args: ["user", "get", "bob", "--detail"] },
  { args: ["user", "revoke-role", "alice", "r5"] },
  { args: ["user", "revoke-role", "alice", "r4", "-w", "json"] },
  { args: ["user", "revoke-role", "alice", "r3", "-w", "fields"] },
  { args: ["user", "revoke-role", "alice", "r2", "-w", "protobuf"] },
  { args: ["user", "revoke-role", "alice", "r2"] },
  { args: ["user", "revoke-role", "alice"] },
  { args: ["role", "delete", "r5"] },
  { args: ["role", "delete", "r5"] },
  { args: ["role", "delete", "r4", "-w", "json"] },
  { args: ["role", "delete", "r3", "-w", "fields"] },
  { args: ["role", "delete"] },
  { args: ["user", "delete", "dan"] },
  { args: ["user", "delete", "dan"] },
  { args: ["user", "delete", "carl", "-w", "json"] },
  { args: ["user", "delete", "frank:ignored", "-w", "protobuf"] },
  { args: ["user", "delete"] },
  { args: ["auth", "disable"] },
  { args: ["auth", "enable", "extra"] },
  { args: ["auth", "enable", "-w", "bogus"] },
  // Role `root` does not exist yet: etcdctl creates it, grants it to user root and enables auth.
  { args: ["auth", "enable", "-w", "json"] },
  { args: ["auth", "enable"] },
  // With auth enabled.
  { args: ["get", "foo"] },
  { args: ["user", "list"] },
  { args: ["--user", "root:bad", "get", "foo"] },
  { args: ["--user", "nobody:x", "get", "foo"] },
  { args: ["--user", "nopw:x", "get", "foo"] },
  { args: ["--user", ":rootpw", "get", "foo"] },
  { args: ["--user", "root:", "get", "foo"] },
  { args: [...ROOT, "put", "foo", "bar"] },
  { args: [...ROOT, "get", "foo", "-w", "json"] },
  { args: ["--user", "root", "--password", "rootpw", "get", "foo"] },
  { args: ["--user", "root:rootpw", "--password", "rootpw", "get", "foo"] },
  { args: ["--user", "root", "get", "foo"], stdin: "rootpw\n" },
  { args: ["--user", "root", "get", "foo"], stdin: "wrong\n" },
  { args: ["--user", "root", "get", "foo", "-w", "bogus"], stdin: "rootpw\n" },
  { args: ["get", "foo"], env: { ETCDCTL_USER: "root:rootpw" } },
  { args: ["get", "foo"], env: { ETCDCTL_USER: "root", ETCDCTL_PASSWORD: "rootpw" } },
  { args: ["--user", "root:rootpw", "get", "foo"], env: { ETCDCTL_USER: "root:rootpw" } },
  { args: ["get", "foo"], env: { ETCDCTL_USER: "root" }, stdin: "rootpw\n" },
  { args: ["--user", "alice:apw", "put", "foo", "x"] },
  { args: ["--user", "alice:apw", "put", "a1", "x"] },
  { args: ["--user", "alice:apw", "get", "foo"] },
  { args: ["--user", "alice:apw", "get", "a1"] },
  { args: ["--user", "alice:apw", "user", "list"] },
  { args: ["--user", "alice:apw", "auth", "disable"] },
  { args: ["--user", "bob:bpw", "get", "foo"] },
  { args: ["--user", "ключ:пароль", "get", "foo"] },
  { args: ["--user", "eve5:spaced pw", "get", "foo"] },
  { args: ["--user", "eve6:word", "get", "foo"] },
  { args: ["--user", "eve:epw", "role", "list"] },
  { args: [...ROOT, "user", "add", "gina:gpw"] },
  { args: [...ROOT, "role", "get", "root", "-w", "json"] },
  { args: [...ROOT, "user", "get", "root", "--detail"] },
  { args: [...ROOT, "role", "list"] },
  { args: [...ROOT, "endpoint", "health", "-w", "json"], env: {} },
  { args: ["--user", "root:bad", "endpoint", "health"] },
  { args: ["--user", "root:bad", "endpoint", "status", "-w", "json"] },
  { args: [...ROOT, "member", "list", "-w", "fields"] },
  { args: ["--user", "root:rootpw", "--endpoints", "{DEAD},{EP}", "get", "foo"], noEndpoints: true },
  { args: ["--user", "root:rootpw", "--endpoints", "{DEAD}", "--dial-timeout", "300ms", "get", "foo"], noEndpoints: true },
  { args: [...ROOT, "get", "foo", "-w", "json"], deno: true },
  { args: ["--user", "root", "get", "foo"], stdin: "rootpw\n", deno: true },
  { args: ["--user", "root:bad", "get", "foo"], deno: true },
  { args: [...ROOT, "user", "add", "hal"], stdin: "hpw\nhpw\n", deno: true },
  { args: [...ROOT, "user", "revoke-role", "root", "root"] },
  { args: ["--user", "alice:apw", "user", "revoke-role", "root", "root"] },
  { args: ["--user", "root:rootpw", "auth", "disable"] },
  { args: ["--user", "root:bad", "get", "foo"] },
  { args: ["user", "revoke-role", "root", "root"] },
  // Role root exists, user root lacks it: etcdctl's retry adds role root again and fails.
  { args: ["auth", "enable"] },
  { args: ["user", "delete", "root"] },
  { args: ["auth", "enable"] },
];

let real: RunResult[] = [];
let ours: RunResult[] = [];
/** The etcd our etcdctl ran on, kept for the tests after the script. */
let oursEtcd: EtcdProcess | undefined;

beforeAll(async () => {
  const placement = await placeEtcd("auth-test");
  const values = { EP: `127.0.0.1:${placement.clientPort}`, DEAD: `127.0.0.1:${await freePort()}`, CERTS: "" };
  const realEtcd = await startEtcd(placement);
  try {
    real = await runScript(CASES, () => GO_ETCDCTL, values);
  } finally {
    await realEtcd.stop();
  }
  oursEtcd = await startEtcd(placement, 15000, undefined, ETCD_UNDER_TEST);
  ours = await runScript(CASES, secondRunCtl, values);
}, 240_000);

afterAll(async () => {
  await oursEtcd?.stop();
});

describe("user, role, auth and --user as etcdctl 3.4 (real etcd 3.4)", () => {
  CASES.forEach((c, i) => {
    test(caseName(c), () => {
      expect(comparable(ours[i]!)).toEqual(comparable(real[i]!));
    });
  });
});

describe("streams with --user on etcd with auth enabled", () => {
  const go = (args: string[]) => runProcess(GO_ETCDCTL, ["--endpoints", oursEtcd!.endpoint, ...args], "", cleanEnv());

  test("watch: Go etcdctl, ours (Bun) and ours (Deno) see a put; without a user the watch is refused", async () => {
    // The script left role root behind and user root deleted.
    for (const step of [["user", "add", "root:rootpw"], ["user", "grant-role", "root", "root"], ["auth", "enable"]]) {
      expect((await go(step)).code).toBe(0);
    }
    const args = ["--endpoints", oursEtcd!.endpoint, "--user", "root:rootpw", "watch", "w", "--prefix"];
    const put = () => go([...ROOT, "put", "w/1", "v"]);
    const expected = "PUT\nw/1\nv\n";
    expect(await watchUntil(GO_ETCDCTL, args, put, expected)).toBe(expected);
    expect(await watchUntil(OUR_ETCDCTL, args, put, expected)).toBe(expected);
    expect(await watchUntil(OUR_ETCDCTL_DENO, args, put, expected)).toBe(expected);
    // Without credentials etcd cancels the watch: Go's and our etcdctl print the same and exit the same.
    const anonymous = ["--endpoints", oursEtcd!.endpoint, "watch", "w", "--prefix"];
    const [theirs, mine] = await Promise.all([runProcess(GO_ETCDCTL, anonymous, "", cleanEnv()), runProcess(OUR_ETCDCTL, anonymous, "", cleanEnv())]);
    expect(comparable(mine)).toEqual(comparable(theirs));
  }, 60_000);

  test("lease keep-alive --once with --user", async () => {
    const grant = await go([...ROOT, "lease", "grant", "60"]);
    const id = /lease ([0-9a-f]+) granted/.exec(Buffer.from(grant.stdout).toString())![1]!;
    const args = ["--endpoints", oursEtcd!.endpoint, ...ROOT, "lease", "keep-alive", "--once", id];
    const [theirs, mine] = await Promise.all([runProcess(GO_ETCDCTL, args, "", cleanEnv()), runProcess(OUR_ETCDCTL, args, "", cleanEnv())]);
    expect(comparable(mine)).toEqual(comparable(theirs));
    expect(Buffer.from(mine.stdout).toString()).toBe(`lease ${id} keepalived with TTL(60)\n`);
  }, 30_000);
});

describe("a watch with --user across an etcd restart", () => {
  test("Go etcdctl and ours (Bun, Deno) fetch a new token for the reopened stream and go on", async () => {
    const placement = await placeEtcd("restart-test");
    const dir = mkdtempSync(join(tmpdir(), "etcdctl-restart-"));
    const flags = [`--initial-cluster=${placement.name}=http://127.0.0.1:${placement.peerPort}`];
    const start = async () => {
      const e = spawnEtcd(placement, flags, undefined, ETCD_UNDER_TEST, dir);
      await e.waitHealthy();
      return e;
    };
    let server = await start();
    const watchers: { child: ChildProcess; out: string }[] = [];
    try {
      const ep = ["--endpoints", server.endpoint];
      const go = (args: string[]) => runProcess(GO_ETCDCTL, [...ep, ...args], "", cleanEnv());
      for (const step of [["user", "add", "root:rootpw"], ["user", "grant-role", "root", "root"], ["auth", "enable"]]) {
        expect((await go(step)).code).toBe(0);
      }
      for (const cmd of [GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO]) {
        const child = spawn(cmd[0]!, [...cmd.slice(1), ...ep, ...ROOT, "watch", "rw", "--prefix"], { env: cleanEnv() });
        const w = { child, out: "" };
        child.stdout!.on("data", (b: Buffer) => (w.out += b.toString()));
        watchers.push(w);
      }
      /** Puts `key` until every watcher printed its event (the watches are created asynchronously). */
      const putUntilSeen = async (key: string) => {
        const deadline = Date.now() + 20_000;
        while (watchers.some((w) => !w.out.includes(`PUT\n${key}\n`)) && Date.now() < deadline) {
          await go([...ROOT, "put", key, "v"]);
          await new Promise((r) => setTimeout(r, 300));
        }
      };
      await putUntilSeen("rw/1");
      await server.stop(true);
      server = await start();
      await putUntilSeen("rw/2");
      const upTo = (out: string) => out.slice(0, out.indexOf("PUT\nrw/2\nv\n") + "PUT\nrw/2\nv\n".length).replace(/(PUT\nrw\/1\nv\n)+/, "PUT\nrw/1\nv\n");
      expect(watchers.map((w) => upTo(w.out))).toEqual(Array(3).fill("PUT\nrw/1\nv\nPUT\nrw/2\nv\n"));
    } finally {
      for (const w of watchers) if (w.child.exitCode === null) process.kill(w.child.pid!, "SIGKILL");
      await server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
