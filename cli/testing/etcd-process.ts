/**
 * Test helpers: start the real etcd 3.4 (`/usr/bin/etcd`) on loopback ports in a temporary data
 * directory, stop it by PID, and run a CLI process capturing stdout (bytes), stderr and exit code.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { freePort } from "../../server/http/test-util.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Free loopback ports, never the same one twice in a process (server/http/test-util.ts). */
export { freePort };

/** The real etcd 3.4.23, the reference server. */
export const REAL_ETCD = "/usr/bin/etcd";

/**
 * The server our etcdctl runs against in the two-run comparison tests (`auth.test.ts`,
 * `tls.test.ts`): `CLI_TEST_ETCD_BIN` when set (e.g. our built `etcd`, to check the server side
 * with the same script), else the real etcd.
 */
export const ETCD_UNDER_TEST = process.env.CLI_TEST_ETCD_BIN || REAL_ETCD;

/**
 * TLS for etcd's client port (`--cert-file --key-file --trusted-ca-file [--client-cert-auth]`):
 * PEM file paths, e.g. from `testing/certs.ts`. The server certificate must also allow client
 * authentication: the health check presents it as its client certificate.
 */
export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
  /** Require client certificates signed by `ca`. */
  clientCertAuth: boolean;
}

/** GET `<url>/health` (with TLS settings for https) resolving to etcd's `health` field, or undefined on any failure. */
function healthOf(url: string, tls: EtcdClientTls | undefined): Promise<string | undefined> {
  if (!tls) {
    return fetch(`${url}/health`)
      .then(async (res) => (res.ok ? ((await res.json()) as { health?: string }).health : undefined))
      .catch(() => undefined);
  }
  return new Promise((resolve) => {
    const pem = (f: string) => readFileSync(f, "utf8");
    const req = httpsGet(`${url}/health`, { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        try {
          resolve((JSON.parse(body) as { health?: string }).health);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on("error", () => resolve(undefined));
  });
}

/** A running etcd started by {@link startEtcd} or {@link spawnEtcd}. */
export interface EtcdProcess {
  /** `127.0.0.1:<client port>` */
  endpoint: string;
  pid: number;
  /**
   * Stops this process (SIGTERM to its PID, SIGKILL after 5 s; SIGKILL at once with `kill`),
   * waits for it to exit and removes its data directory (unless the caller gave it).
   */
  stop(kill?: boolean): Promise<void>;
}

/** A spawned etcd that may not serve yet. */
export interface SpawnedEtcd extends EtcdProcess {
  /**
   * Waits until `/health` says true (the member has a leader and serves).
   * @throws Error `etcd did not become healthy on <url>` after `timeoutMs` or when the process exited (it is stopped)
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
}

/** Fixed placement of one etcd member, so that a restart from scratch yields the same IDs. */
export interface EtcdPlacement {
  clientPort: number;
  peerPort: number;
  name: string;
}

/** Picks free client and peer ports. */
export async function placeEtcd(name = "default"): Promise<EtcdPlacement> {
  return { clientPort: await freePort(), peerPort: await freePort(), name };
}

/**
 * Spawns `/usr/bin/etcd` for placement `p` in a new temporary data directory (removed on stop),
 * listening and advertising on its loopback URLs, with `flags` added (e.g. `--initial-cluster`).
 * With `tls`, the client URLs are `https://` and etcd gets the TLS flags. Logs go nowhere.
 * @param bin the etcd executable
 * @param dataDir use this directory instead (kept on stop, so a new process can restart on it)
 */
export function spawnEtcd(p: EtcdPlacement, flags: string[], tls?: EtcdClientTls, bin = REAL_ETCD, dataDir?: string): SpawnedEtcd {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "etcdctl-test-"));
  const client = `${tls ? "https" : "http"}://127.0.0.1:${p.clientPort}`;
  const tlsFlags = tls
    ? [
        `--cert-file=${tls.cert}`,
        `--key-file=${tls.key}`,
        `--trusted-ca-file=${tls.ca}`,
        ...(tls.clientCertAuth ? ["--client-cert-auth"] : []),
      ]
    : [];
  const peer = `http://127.0.0.1:${p.peerPort}`;
  const child = spawn(
    bin,
    [
      `--name=${p.name}`,
      `--data-dir=${join(dir, "data")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      "--logger=zap",
      "--log-level=error",
      ...tlsFlags,
      ...flags,
    ],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (kill = false) => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, kill ? "SIGKILL" : "SIGTERM");
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  const waitHealthy = async (timeoutMs = 15000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await healthOf(client, tls)) === "true") return;
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`etcd did not become healthy on ${client}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { endpoint: `127.0.0.1:${p.clientPort}`, pid: child.pid!, stop, waitHealthy };
}

/**
 * Starts `/usr/bin/etcd` as a fresh single-member cluster in a new temporary data directory
 * (removed on stop) and waits until it answers `/health`. Member and cluster IDs depend only on
 * the placement, so two runs with the same placement are indistinguishable to clients.
 * @param tls serve clients over TLS (see {@link EtcdClientTls})
 * @param bin the etcd executable (default {@link REAL_ETCD})
 */
export async function startEtcd(p: EtcdPlacement, timeoutMs = 15000, tls?: EtcdClientTls, bin = REAL_ETCD): Promise<EtcdProcess> {
  const etcd = spawnEtcd(p, [`--initial-cluster=${p.name}=http://127.0.0.1:${p.peerPort}`], tls, bin);
  await etcd.waitHealthy(timeoutMs);
  return etcd;
}

/** What a finished CLI process produced. */
export interface RunResult {
  stdout: Uint8Array;
  stderr: string;
  code: number;
}

/**
 * Runs a command to completion.
 * @param cmd executable and its leading arguments
 * @param stdin bytes for standard input (closed right after)
 */
export function runProcess(cmd: string[], args: string[], stdin: string | Uint8Array, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ stdout: new Uint8Array(Buffer.concat(out)), stderr: Buffer.concat(err).toString("utf8"), code: code ?? -1 }),
    );
    child.stdin.end(stdin);
  });
}

/** The test process's environment without any `ETCDCTL_*` variable. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ETCDCTL_")) env[k] = v;
  return env;
}
