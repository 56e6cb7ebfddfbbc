/**
 * Test helpers shared by the listener, API and membership tests: free loopback ports and
 * running the real etcd/etcdctl binaries (installed at /usr/bin) for comparisons.
 * Not used by production code.
 */
import * as net from "node:net";
import { parseConfig, type EtcdConfig } from "../config.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A member configuration whose client listeners are `listen` (e.g. `http://127.0.0.1:0`), etcd's defaults otherwise. */
export function listenerTestConfig(listen: string): EtcdConfig {
  const out = parseConfig(["--listen-client-urls", listen, "--advertise-client-urls", listen], {});
  if (out.kind !== "run") throw new Error(JSON.stringify(out));
  return out.config;
}

/** Ports {@link freePort} has handed out in this process: the OS may offer a just-released port again. */
const handedOut = new Set<number>();

/** Ports of each `bun test --parallel` worker: its own block below Linux's ephemeral range (32768+). */
const WORKER_PORT_BASE = 20_000;
const WORKER_PORT_SPAN = 3_000;

/** Binds `port` on 127.0.0.1 (0: any) and releases it; the port bound, or undefined when taken. */
async function probePort(port: number): Promise<number | undefined> {
  const srv = net.createServer();
  const bound = await new Promise<boolean>((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!bound) return undefined;
  const got = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return got;
}

/**
 * A currently free TCP port on 127.0.0.1, never one this process was given before: a cluster's
 * client and peer ports picked one after another must differ. Under `bun test --parallel` each
 * worker (`BUN_TEST_WORKER_ID` 1, 2, ...) draws from its own block of WORKER_PORT_SPAN ports from
 * WORKER_PORT_BASE, below the ephemeral range, so two workers never hand out the same port and
 * ports the OS gives other processes (bind to 0, outgoing connections) never fall in a block.
 * Otherwise the OS picks (bind to port 0).
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.BUN_TEST_WORKER_ID);
  const block = Number.isInteger(worker) && worker >= 1 && worker <= 4 ? WORKER_PORT_BASE + (worker - 1) * WORKER_PORT_SPAN : undefined;
  for (let attempt = 0; ; attempt++) {
    const wanted = block === undefined ? 0 : block + Math.floor(Math.random() * WORKER_PORT_SPAN);
    if (wanted !== 0 && handedOut.has(wanted)) continue;
    const port = await probePort(wanted);
    if (port === undefined) {
      if (attempt > 10 * WORKER_PORT_SPAN) throw new Error(`freePort: no free port in ${block}..${block! + WORKER_PORT_SPAN - 1}`);
      continue;
    }
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Runs `/usr/bin/etcdctl` with `args`; resolves with exit code and output (never rejects). */
export async function etcdctl(args: string[], stdin?: Uint8Array): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["/usr/bin/etcdctl", "--dial-timeout=5s", "--command-timeout=10s", ...args], {
    stdin: stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ETCDCTL_API: "3" },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** A real etcd process started by {@link startRealEtcd}. */
export interface RealEtcd {
  /** `127.0.0.1:<port>` for etcdctl `--endpoints`. */
  endpoint: string;
  /** Client URL `http://127.0.0.1:<port>`. */
  clientUrl: string;
  /** Peer URL `http://127.0.0.1:<port>`. */
  peerUrl: string;
  /** stderr lines (zap JSON) seen so far. */
  logLines: string[];
  /** Resolves with the first log line whose JSON `msg` equals `msg`. */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  /** Kills the process (by its PID) and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts `/usr/bin/etcd --logger zap` on free loopback ports in a fresh temp data dir.
 * `extraArgs` are appended (they may override `--initial-cluster` and friends); `{peer}`
 * and `{client}` in them are replaced with the chosen URLs.
 */
export async function startRealEtcd(name: string, extraArgs: string[] = []): Promise<RealEtcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dir = mkdtempSync(join(tmpdir(), "real-etcd-"));
  const args = [
    "--logger", "zap", "--name", name, "--data-dir", join(dir, "data"),
    "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `${name}=${peerUrl}`,
    ...extraArgs.map((a) => a.replaceAll("{peer}", peerUrl).replaceAll("{client}", clientUrl)),
  ];
  const proc = Bun.spawn(["/usr/bin/etcd", ...args], { stdout: "ignore", stderr: "pipe", env: { PATH: "/usr/bin:/bin" } });
  const logLines: string[] = [];
  const waiters: { msg: string; resolve: (v: Record<string, unknown>) => void }[] = [];
  const onLine = (line: string) => {
    logLines.push(line);
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line);
    } catch {
      return;
    }
    for (const w of waiters.filter((w) => w.msg === obj.msg)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(obj);
    }
  };
  void (async () => {
    let buf = "";
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      buf += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  })();
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    clientUrl,
    peerUrl,
    logLines,
    waitForLog(msg) {
      for (const line of logLines) {
        try {
          const obj = JSON.parse(line);
          if (obj.msg === msg) return Promise.resolve(obj);
        } catch {
          // not JSON
        }
      }
      return new Promise((resolve) => waiters.push({ msg, resolve }));
    },
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Watches the event loop: a 2 ms timer; `stop()` ends it and gives the longest gap between two ticks, ms. */
export function watchEventLoopGaps(): { stop(): number } {
  let longestMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestMs = Math.max(longestMs, now - last);
    last = now;
  }, 2);
  return {
    stop() {
      clearInterval(ticker);
      return longestMs;
    },
  };
}

/** Polls `cond` every `everyMs` (default 20 ms); throws `timed out waiting for <what>` after `ms` (default 15 s). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
