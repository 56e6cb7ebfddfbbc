/**
 * Test helper: run an etcdctl `watch` process until it prints an expected event.
 */
import { spawn } from "node:child_process";
import { cleanEnv } from "./etcd-process.ts";

/**
 * Starts `cmd args` (an etcdctl `watch ...` invocation), calls `put` every 300 ms (the watch is
 * set up asynchronously, so a single early put could be missed) until the process has printed
 * `expected` or 15 s passed, then kills the process by its PID.
 * @returns stdout up to and including `expected`, or all of it when `expected` never came
 */
export async function watchUntil(cmd: string[], args: string[], put: () => Promise<unknown>, expected: string): Promise<string> {
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  try {
    const deadline = Date.now() + 15_000;
    while (!out.includes(expected) && Date.now() < deadline && child.exitCode === null) {
      await put();
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  }
  const at = out.indexOf(expected);
  return at < 0 ? out : out.slice(0, at + expected.length);
}
