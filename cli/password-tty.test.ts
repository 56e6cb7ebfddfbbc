/**
 * Password prompts on a real terminal: `user add <name>` and `--user <name>` run under `script`
 * (a pseudo-terminal) with Go's etcdctl 3.4 and ours (Bun and Deno). The typed password must not
 * be echoed (stty -echo), the transcript must be Go's, and the password must be the one typed
 * (with auth enabled, the new user gets `permission denied`, not `authentication failed`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { GO_ETCDCTL, OUR_ETCDCTL, OUR_ETCDCTL_DENO } from "./testing/etcd-cluster.ts";
import { cleanEnv, placeEtcd, runProcess, startEtcd, type EtcdProcess } from "./testing/etcd-process.ts";

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd(await placeEtcd("tty-test"));
  const ctl = (args: string[]) => runProcess(GO_ETCDCTL, ["--endpoints", etcd.endpoint, ...args], "", cleanEnv());
  await ctl(["user", "add", "root:rootpw"]);
  await ctl(["auth", "enable"]);
}, 30_000);

afterAll(async () => {
  await etcd?.stop();
});

/** POSIX shell quoting of one word. */
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `cmd args` on a pseudo-terminal (`script -qec`), answering each prompt (after 400 ms, so
 * that echo is off by then, as a person types) with its line; returns the transcript with CRLF
 * as the terminal wrote it, and the exit code.
 */
function onTerminal(cmd: string[], args: string[], answers: [prompt: string, line: string][]): Promise<{ text: string; code: number }> {
  const line = [...cmd, ...args].map(quote).join(" ");
  const child = spawn("script", ["-qec", line, "/dev/null"], { env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
  let text = "";
  let next = 0;
  child.stdout.on("data", (b: Buffer) => {
    text += b.toString();
    const answer = answers[next];
    if (answer && text.split(answer[0]).length - 1 > answers.slice(0, next).filter((a) => a[0] === answer[0]).length) {
      next++;
      setTimeout(() => child.stdin.write(answer[1] + "\n"), 400);
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ text, code: code ?? -1 });
    });
  });
}

const RUNTIMES: [string, string[]][] = [
  ["go", GO_ETCDCTL],
  ["bun", OUR_ETCDCTL],
  ["deno", OUR_ETCDCTL_DENO],
];

describe("password prompts on a terminal", () => {
  test("user add asks twice without echo; the typed password is set", async () => {
    const transcripts: string[] = [];
    for (const [name, cmd] of RUNTIMES) {
      const user = `tty-${name}`;
      const r = await onTerminal(cmd, ["--endpoints", etcd.endpoint, "--user", "root:rootpw", "user", "add", user], [
        ["Password of", "s3cret"],
        ["again", "s3cret"],
      ]);
      expect(r.code).toBe(0);
      transcripts.push(r.text.replaceAll(user, "<user>"));
      const check = await runProcess(GO_ETCDCTL, ["--endpoints", etcd.endpoint, "--user", `${user}:s3cret`, "get", "x"], "", cleanEnv());
      expect([check.code, check.stderr.split("\n").at(-2)]).toEqual([1, "Error: etcdserver: permission denied"]);
    }
    expect(transcripts[0]).toBe(
      "Password of <user>: \r\nType password of <user> again for confirmation: \r\nUser <user> created\r\n",
    );
    expect(transcripts.slice(1)).toEqual([transcripts[0]!, transcripts[0]!]);
  }, 60_000);

  test("--user without a password asks for it without echo", async () => {
    const outputs: string[] = [];
    for (const [, cmd] of RUNTIMES) {
      const r = await onTerminal(cmd, ["--endpoints", etcd.endpoint, "--user", "root", "put", "k", "v"], [["Password:", "rootpw"]]);
      expect(r.code).toBe(0);
      outputs.push(r.text);
    }
    expect(outputs).toEqual(["Password: \r\nOK\r\n", "Password: \r\nOK\r\n", "Password: \r\nOK\r\n"]);
  }, 60_000);
});
