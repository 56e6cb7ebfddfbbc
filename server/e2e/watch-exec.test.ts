/**
 * `etcdctl watch ... -- <command>` through the release binaries: Go etcdctl 3.4 and ours run a
 * command per event and must print the same (events, then the command's own output, which shows
 * the `ETCD_WATCH_*` variables it saw), on the command line and on an interactive `watch` line;
 * a failing command ends etcdctl with exit 1 and etcd's message; argument errors exit 128.
 * Expected texts were read off Go etcdctl 3.4.23 on etcd 3.4.23 (passes with E2E_ETCD_BIN=/usr/bin/etcd).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Follower } from "./follower.ts";
import { cleanup, ETCDCTLS, type EtcdProcess, goEtcdctl, GO_ETCDCTL, makeTempDir, ourEtcdctlBin, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "watchexec" });
  SHOW = join(makeTempDir("watch-exec"), "show.sh");
  writeFileSync(SHOW, '#!/bin/sh\nprintf "cmd %s|%s|%s|%s|%s\\n" "$*" "$ETCD_WATCH_REVISION" "$ETCD_WATCH_EVENT_TYPE" "$ETCD_WATCH_KEY" "$ETCD_WATCH_VALUE"\n', { mode: 0o755 });
});
afterAll(cleanup);

/** A script that prints its arguments and the four variables etcdctl sets (written in beforeAll). */
let SHOW: string;

/** Puts `pairs` (value null: delete) and returns the revision of the first write. */
async function write(pairs: [string, string | null][]): Promise<bigint> {
  let first = 0n;
  for (const [k, v] of pairs) {
    const r = await goEtcdctl(etcd.endpoint, v === null ? ["del", k, "-w", "json"] : ["put", k, v, "-w", "json"]);
    expect(r.code).toBe(0);
    if (first === 0n) first = BigInt(JSON.parse(r.stdout).header.revision);
  }
  return first;
}

/**
 * What both etcdctls print for the writes of `write` starting at `rev` under `p`, replayed in one
 * response: `ETCD_WATCH_REVISION` is the response's header revision, the same for every event.
 */
function expected(p: string, rev: bigint, extra = ""): string {
  const show = (_r: bigint, t: string, k: string, v: string) => `cmd ${extra}|${rev + 2n}|"${t}"|"${k}"|${v}\n`;
  return (
    `PUT\n${p}a\nv"1 ü\n` +
    `PUT\n${p}b\n\u0001b\n` +
    `DELETE\n${p}a\n\n` +
    show(rev, "PUT", `${p}a`, '"v\\"1 ü"') +
    show(rev + 1n, "PUT", `${p}b`, '"\\x01b"') +
    show(rev + 2n, "DELETE", `${p}a`, '""')
  );
}

const WRITES = (p: string): [string, string | null][] => [
  [`${p}a`, 'v"1 ü'],
  [`${p}b`, "\u0001b"],
  [`${p}a`, null],
];

for (const { name, run } of ETCDCTLS) describe(`${name} watch -- command`, () => {
  const bin = name === "go etcdctl" ? GO_ETCDCTL : ourEtcdctlBin();
  const ns = name === "go etcdctl" ? "/go" : "/ours";

  test("--prefix --rev: events replayed, then the command once per event with ETCD_WATCH_* set; live events too", async () => {
    const p = `${ns}/exec/`;
    const rev = await write(WRITES(p));
    const w = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "--prefix", p, "--rev", String(rev), "--", SHOW, "x", "y z"]);
    try {
      // Replayed history comes in one response: all events printed, then the commands.
      await w.waitFor(expected(p, rev, "x y z"));
      const live = await write([[`${p}c`, "3"]]);
      await w.waitFor(`PUT\n${p}c\n3\ncmd x y z|${live}|"PUT"|"${p}c"|"3"\n`);
      expect(w.stdout).toBe(expected(p, rev, "x y z") + `PUT\n${p}c\n3\ncmd x y z|${live}|"PUT"|"${p}c"|"3"\n`);
    } finally {
      await w.stop();
    }
  });

  test("interactive: a watch line with -- runs the command per event", async () => {
    const p = `${ns}/iexec/`;
    const rev = await write(WRITES(p));
    const w = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "-i"]);
    try {
      w.proc.stdin.write(`watch --prefix ${p} --rev ${rev} -- ${SHOW} i\n`);
      await w.proc.stdin.flush();
      await w.waitFor(expected(p, rev, "i"));
      expect(w.stdout).toBe(expected(p, rev, "i"));
    } finally {
      await w.stop();
    }
  });

  test("interactive: a failing command ends etcdctl too", async () => {
    const k = `${ns}/ifail`;
    const rev = await write([[k, "1"]]);
    const w = new Follower([bin, `--endpoints=${etcd.endpoint}`, "watch", "-i"]);
    try {
      w.proc.stdin.write(`watch ${k} --rev ${rev} -- sh -c "exit 7"\n`);
      await w.proc.stdin.flush();
      expect(await w.proc.exited).toBe(1);
      expect(await new Response(w.proc.stderr).text()).toBe('command ["sh" "-c" "exit 7"] error (exit status 7)\n');
      await w.stop(); // waits for all of stdout
      expect(w.stdout).toBe(`PUT\n${k}\n1\n`);
    } finally {
      await w.stop();
    }
  });

  test("a failing command ends etcdctl: exit 1 and etcdctl's message", async () => {
    const k = `${ns}/fail`;
    const rev = await write([[k, "1"]]);
    const r = await run(etcd.endpoint, ["watch", k, "--rev", String(rev), "--", "sh", "-c", "echo ran; exit 3"]);
    expect(r).toEqual({ stdout: `PUT\n${k}\n1\nran\n`, stderr: 'command ["sh" "-c" "echo ran; exit 3"] error (exit status 3)\n', code: 1 });
    const missing = await run(etcd.endpoint, ["watch", k, "--rev", String(rev), "--", "no-such-command-x", "a b"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('command ["no-such-command-x" "a b"] error (exec: "no-such-command-x": executable file not found in $PATH)\n');
  });

  test("argument errors: -- without a command, a key both in ETCDCTL_WATCH_KEY and the arguments", async () => {
    const sep = await run(etcd.endpoint, ["watch", "k", "--"]);
    expect(sep).toEqual({ stdout: "", stderr: "Error: bad number of arguments (found separator --, but no commands)\n", code: 128 });
    const conflict = await run(etcd.endpoint, ["watch", "k", "--", "echo", "1"], { env: { ETCDCTL_WATCH_KEY: "k" } });
    expect(conflict).toEqual({ stdout: "", stderr: "Error: bad number of arguments (found conflicting environment key)\n", code: 128 });
    const iSep = await run(etcd.endpoint, ["watch", "-i"], { stdin: "watch k --\n" });
    expect(iSep).toEqual({ stdout: "", stderr: "Error: bad number of arguments (found separator --, but no commands)\n", code: 128 });
  });

  test("ETCDCTL_WATCH_KEY with -- and a command watches the variable's key", async () => {
    const k = `${ns}/envkey`;
    const rev = await write([[k, "v"]]);
    const r = await run(etcd.endpoint, ["watch", "--rev", String(rev), "--", "sh", "-c", 'echo "$ETCD_WATCH_KEY"; exit 4'], { env: { ETCDCTL_WATCH_KEY: k } });
    expect(r).toEqual({ stdout: `PUT\n${k}\nv\n"${k}"\n`, stderr: 'command ["sh" "-c" "echo \\"$ETCD_WATCH_KEY\\"; exit 4"] error (exit status 4)\n', code: 1 });
  });
});
