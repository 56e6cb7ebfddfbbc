import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFakeApi } from "./http/fake-api.ts";
import { etcdctl, freePort, waitFor } from "./http/test-util.ts";
import { main, onUncaught, type MainIo, type RunningNode, type StartNode } from "./main.ts";
import { Database } from "bun:sqlite";
import { Code, ConnectError } from "@connectrpc/connect";
import { createLogger } from "./log.ts";
import { isMemberFatal, MemberFatalError } from "./node/fatal.ts";

/** A fake member with close() counting, for main's start/stop logic. */
function fakeNode(): RunningNode & { closed: number } {
  const api = createFakeApi();
  const node = Object.assign(api, {
    closed: 0,
    async close() {
      node.closed++;
    },
  });
  return node;
}

function io(startNode: StartNode) {
  let signal!: (s: string) => void;
  const out = { stdout: "", stderr: "" };
  const ioImpl: MainIo = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    waitForSignal: () => new Promise((resolve) => (signal = resolve)),
    startNode,
  };
  const lines = () =>
    out.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { io: ioImpl, out, lines, signal: (s: string) => signal(s) };
}

async function flags() {
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  return { client, peer, argv: ["--name", "m1", "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `m1=${peer}`] };
}

/** Polls `cond` every 10 ms for up to 5 s. */
const until = (cond: () => boolean): Promise<void> => waitFor(cond, "the condition", 5000, 10);

describe("main with a fake member", () => {
  test("logs etcd's start-up lines, serves, and stops on a signal with exit 0", async () => {
    const node = fakeNode();
    const t = io(async () => node);
    const { client, argv } = await flags();
    const exit = main(argv, {}, t.io);
    await until(() => t.lines().some((l) => l.msg === "ready to serve client requests"));
    const msgs = t.lines().map((l) => l.msg);
    for (const m of ["starting an etcd server", "starting local member", "ready to serve client requests"]) expect(msgs).toContain(m);
    expect(t.lines().find((l) => l.msg === "starting local member")).toMatchObject({
      level: "info",
      "local-member-id": "8e9e05c52164694d",
      "cluster-id": "cdf818194e3a8c32",
    });
    const address = client.replace("http://", "");
    expect(msgs).toContain(`serving insecure client requests on ${address}, this is strongly discouraged!`);
    expect(t.lines().find((l) => l.msg === "starting an etcd server")).toMatchObject({ name: "m1", "data-dir": "m1.etcd" });
    expect((await etcdctl(["--endpoints", address, "endpoint", "health"])).code).toBe(0);
    t.signal("SIGTERM");
    expect(await exit).toBe(0);
    expect(node.closed).toBe(1);
    await expect(fetch(`${client}/health`)).rejects.toThrow(); // listener closed
  });

  test("a locked data dir is a fatal start-up error: exit 1, message names the dir", async () => {
    const t = io(async () => {
      const e = new Error('data dir "/x/m1.etcd" is in use by another etcd process');
      e.name = "DataDirLockedError";
      throw e;
    });
    expect(await main((await flags()).argv, {}, t.io)).toBe(1);
    const fatal = t.lines().find((l) => l.level === "fatal");
    expect(fatal).toMatchObject({ msg: "failed to start etcd", error: 'data dir "/x/m1.etcd" is in use by another etcd process' });
  });

  test("a client port in use: exit 1 with Go's bind message, member closed again", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as net.AddressInfo).port;
    const node = fakeNode();
    const t = io(async () => node);
    const u = `http://127.0.0.1:${port}`;
    try {
      expect(await main(["--listen-client-urls", u, "--advertise-client-urls", u], {}, t.io)).toBe(1);
    } finally {
      blocker.close();
    }
    expect(t.lines().find((l) => l.level === "fatal")).toMatchObject({ error: `listen tcp 127.0.0.1:${port}: bind: address already in use` });
    expect(node.closed).toBe(1);
  });

  test("flag errors: exit 2 with Go's text; invalid flags: exit 1 and 'failed to verify flags'", async () => {
    const t = io(async () => fakeNode());
    expect(await main(["--bogus"], {}, t.io)).toBe(2);
    expect(t.out.stderr.split("\n")[0]).toBe("flag provided but not defined: -bogus");
    const v = io(async () => fakeNode());
    expect(await main(["--listen-client-urls", "http://127.0.0.1:1"], {}, v.io)).toBe(1);
    expect(v.lines().map((l) => [l.level, l.msg, l.error])).toEqual([
      ["warn", "failed to verify flags", "--advertise-client-urls is required when --listen-client-urls is set explicitly"],
      ["warn", "advertise client URLs are not set", "--advertise-client-urls is required when --listen-client-urls is set explicitly"],
    ]);
    const h = io(async () => fakeNode());
    expect(await main(["--version"], {}, h.io)).toBe(0);
    expect(h.out.stdout).toStartWith("etcd Version: 3.4.23\n");
  });
});

describe("the etcd process (bun server/main.ts) with the real member", () => {
  const dir = mkdtempSync(join(tmpdir(), "main-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("starts, serves etcdctl, exits 0 on SIGTERM", async () => {
    const { client, argv } = await flags();
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "main.ts"), ...argv, "--data-dir", join(dir, "m1.etcd")], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    let stderr = "";
    const reader = (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr += new TextDecoder().decode(chunk);
    })();
    try {
      await until(() => stderr.includes('"msg":"ready to serve client requests"') || proc.exitCode !== null);
      const endpoint = client.replace("http://", "");
      const put = await etcdctl(["--endpoints", endpoint, "put", "k", "v"]);
      expect([put.code, put.stdout]).toEqual([0, "OK\n"]);
      const get = await etcdctl(["--endpoints", endpoint, "get", "k", "--print-value-only"]);
      expect(get.stdout).toBe("v\n");
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    await reader;
    expect(stderr).toContain('"msg":"closed etcd server"');
  });
});

test("uncaught storage and member-fatal errors exit; an escaped per-request error is logged and survived", () => {
  const out: string[] = [];
  const codes: number[] = [];
  const log = createLogger({ write: (l) => void out.push(l) });
  const exit = (c: number) => void codes.push(c);
  let sqliteError: unknown;
  const db = new Database(":memory:");
  db.exec("PRAGMA query_only = 1");
  try {
    db.exec("CREATE TABLE t (x)");
  } catch (e) {
    sqliteError = e;
  }
  db.close();
  expect(isMemberFatal(sqliteError)).toBe(true);
  onUncaught(log, sqliteError, "uncaught exception", exit);
  onUncaught(log, new MemberFatalError("failed to apply committed entries", { "applied-index": 7 }), "uncaught exception", exit);
  onUncaught(log, new ConnectError("etcdserver: request timed out", Code.Unavailable), "unhandled rejection", exit);
  expect(codes).toEqual([1, 1]);
  expect(lines(out).map((l) => [l.level, l.msg])).toEqual([
    ["fatal", "uncaught exception: member-fatal error"],
    ["fatal", "failed to apply committed entries"],
    ["error", "unhandled rejection (a bug: a per-request error escaped its request)"],
  ]);
  expect(lines(out)[1]!["applied-index"]).toBe(7);
});


function lines(out: string[]): Record<string, unknown>[] {
  return out.map((l) => JSON.parse(l));
}
