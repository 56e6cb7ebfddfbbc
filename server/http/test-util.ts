/**
 * Test helpers shared by the listener, API and membership tests: free loopback ports and
 * running the real etcd/etcdctl binaries (installed at /usr/bin) for comparisons.
 * Not used by production code.
 */
import * as net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Ports {@link freePort} has handed out in this process: the OS may offer a just-released port again. */
const handedOut = new Set<number>();

/**
 * A currently free TCP port on 127.0.0.1 (bound to port 0, read back, released), never one this
 * process was given before: a cluster's client and peer ports picked one after another must differ.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
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
