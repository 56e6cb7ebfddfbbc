import { afterEach, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sdNotify } from "./notify.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const HAS_SOCAT = spawnSync("socat", ["-V"]).status === 0;

/** A unix datagram socket bound by socat (`apt-get install socat`), printing what it receives. */
async function receiver(address: string): Promise<{ received: () => string; proc: ChildProcess }> {
  const proc = spawn("socat", ["-u", `${address.startsWith("@") ? "ABSTRACT-RECV" : "UNIX-RECV"}:${address.replace(/^@/, "")}`, "STDOUT"]);
  cleanups.push(() => proc.kill("SIGTERM"));
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  if (!address.startsWith("@")) for (let i = 0; i < 100 && !existsSync(address); i++) await Bun.sleep(10);
  else await Bun.sleep(100);
  return { received: () => out, proc };
}

test("without NOTIFY_SOCKET nothing is sent", () => {
  expect(sdNotify("READY=1", undefined)).toBe(false);
  expect(sdNotify("READY=1", "")).toBe(false);
});

test.skipIf(!HAS_SOCAT)("READY=1 reaches a socket path and an abstract socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-notify-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "notify.sock");
  const r = await receiver(path);
  expect(sdNotify("READY=1", path)).toBe(true);
  for (let i = 0; i < 100 && r.received() === ""; i++) await Bun.sleep(10);
  expect(r.received()).toBe("READY=1");
  const name = `@etcd-ts-notify-${process.pid}`;
  const a = await receiver(name);
  expect(sdNotify("READY=1", name)).toBe(true);
  for (let i = 0; i < 100 && a.received() === ""; i++) await Bun.sleep(10);
  expect(a.received()).toBe("READY=1");
});

test("a socket that is not there: go-systemd's error text", () => {
  expect(() => sdNotify("READY=1", "/nonexistent-dir/notify.sock")).toThrow("dial unixgram /nonexistent-dir/notify.sock: connect: no such file or directory");
});
