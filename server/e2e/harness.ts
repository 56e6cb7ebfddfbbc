/**
 * End-to-end test harness: runs any etcd binary as a real process on free loopback ports.
 *
 * Which binaries run (environment variables):
 * - `E2E_ETCD_BIN`: the server under test. Default: `etcd` from our release tarball
 *   (`dist/etcd-v<version>-linux-amd64.tar.gz`, built by `npm run build`), unpacked once per
 *   tarball mtime into the OS temp dir. Set `E2E_ETCD_BIN=/usr/bin/etcd` to run the same tests
 *   against real etcd 3.4 (the ground truth).
 * - `E2E_ETCDCTL_BIN`: "our" etcdctl. Default: `etcdctl` from the same unpacked tarball.
 * - `E2E_GO_ETCDCTL_BIN`: the reference Go etcdctl. Default `/usr/bin/etcdctl`.
 *
 * Processes are started with Bun.spawn, tracked by PID and stopped by PID only (SIGTERM, then
 * SIGKILL after a grace period). Temp dirs are removed by `cleanup()` or at process exit.
 * Mirrors how etcd's own e2e tests drive binaries (`tests/e2e/etcd_process.go` in etcd v3.4).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { freePort } from "../http/test-util.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { expect } from "bun:test";

/** Free loopback ports, never the same one twice in a process (server/http/test-util.ts). */
export { freePort };

/** Repository root (two levels above this file). */
export const REPO_ROOT = resolve(import.meta.dir, "..", "..");

/** Version from package.json, e.g. "0.1.0"; names the release tarball. */
export const VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).version;

/** Path of the release tarball `npm run build` writes. */
export const TARBALL = join(REPO_ROOT, "dist", `etcd-v${VERSION}-linux-amd64.tar.gz`);

/**
 * True when the server under test is the real Go etcd (E2E_ETCD_BIN names a binary whose
 * `--version` output has a "Go Version:" line). Used to skip cases only our server supports
 * (Connect protocol) and which real etcd cannot be asked.
 */
export const IS_REAL_ETCD: boolean = (() => {
  const bin = process.env.E2E_ETCD_BIN;
  if (!bin) return false;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return /Go Version:/.test(r.stdout ?? "");
})();

/** Reference Go etcdctl binary (E2E_GO_ETCDCTL_BIN, default /usr/bin/etcdctl). */
export const GO_ETCDCTL: string = process.env.E2E_GO_ETCDCTL_BIN ?? "/usr/bin/etcdctl";

const tempDirs = new Set<string>();
const live = new Set<EtcdProcess>();
let unpackedDir: string | undefined;

/** Creates a temp dir (removed by `cleanup()` or at exit). `label` is part of its name. */
export function makeTempDir(label = "e2e"): string {
  const dir = mkdtempSync(join(tmpdir(), `etcd-ts-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/**
 * Unpacks the release tarball (once per tarball mtime and size) and returns the folder that holds
 * `etcd`, `etcdctl` and `README.md`. Unpacks into a fresh folder and renames it into place, so
 * concurrent test processes never see a half-written copy. Throws if the tarball is missing.
 */
export function unpackRelease(): string {
  if (unpackedDir) return unpackedDir;
  if (!existsSync(TARBALL)) {
    throw new Error(`release tarball ${TARBALL} not found: run \`npm run build\` first (or set E2E_ETCD_BIN)`);
  }
  const st = statSync(TARBALL);
  const key = `${Math.floor(st.mtimeMs)}-${st.size}`;
  const finalDir = join(tmpdir(), `etcd-ts-release-${VERSION}-${key}`);
  const inner = join(finalDir, `etcd-v${VERSION}-linux-amd64`);
  if (!existsSync(join(inner, "etcdctl"))) {
    const staging = mkdtempSync(join(tmpdir(), "etcd-ts-unpack-"));
    const r = spawnSync("tar", ["-xzf", TARBALL, "-C", staging], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tar -xzf ${TARBALL} failed: ${r.stderr}`);
    try {
      renameSync(staging, finalDir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process won the race
    }
  }
  pruneOldReleases(finalDir);
  unpackedDir = inner;
  return inner;
}

/** Removes unpacked copies of older tarballs (other than `keep`) untouched for over an hour. */
function pruneOldReleases(keep: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(tmpdir())) {
    const dir = join(tmpdir(), name);
    if (!name.startsWith("etcd-ts-release-") || dir === keep) continue;
    try {
      if (statSync(dir).mtimeMs < hourAgo) rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed concurrently
    }
  }
}

/** The etcd server binary under test: `E2E_ETCD_BIN` or the unpacked release's `etcd`. */
export function etcdBin(): string {
  return process.env.E2E_ETCD_BIN ?? join(unpackRelease(), "etcd");
}

/** Our etcdctl binary: `E2E_ETCDCTL_BIN` or the unpacked release's `etcdctl`. */
export function ourEtcdctlBin(): string {
  return process.env.E2E_ETCDCTL_BIN ?? join(unpackRelease(), "etcdctl");
}

/** Result of running a command to completion. `code` is the exit code (null if killed by a signal). */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Options for `run`: extra environment, stdin text, working dir, timeout in ms (default 30 000). */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * Runs `cmd` to completion and returns its output. Never throws for a non-zero exit; throws only
 * if the process cannot be started. A process still running after `timeoutMs` is SIGKILLed (by PID).
 */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn({
    cmd,
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, code: proc.signalCode ? null : code };
}

/** Runs the reference Go etcdctl (ETCDCTL_API=3) with `--endpoints <endpoint>` and `args`. */
export function goEtcdctl(endpoint: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run([GO_ETCDCTL, `--endpoints=${endpoint}`, ...args], { ...opts, env: { ETCDCTL_API: "3", ...opts.env } });
}

/** Runs our etcdctl (see `ourEtcdctlBin`) with `--endpoints <endpoint>` and `args`. */
export function ourEtcdctl(endpoint: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run([ourEtcdctlBin(), `--endpoints=${endpoint}`, ...args], { ...opts, env: { ETCDCTL_API: "3", ...opts.env } });
}

/** Both etcdctl flavours, for `describe.each`: label plus runner. */
export const ETCDCTLS: { name: string; run: typeof goEtcdctl }[] = [
  { name: "go etcdctl", run: goEtcdctl },
  { name: "our etcdctl", run: ourEtcdctl },
];

/** Options for `startEtcd`. */
export interface StartOptions {
  /** Member name (`--name`); default "e2e". */
  name?: string;
  /** Data dir; default a new temp dir + "/<name>.etcd". Reuse one to restart on the same data. */
  dataDir?: string;
  /** Client and peer ports; default fresh free ports. */
  clientPort?: number;
  peerPort?: number;
  /** Extra command-line flags appended after the standard ones. */
  extraArgs?: string[];
  /** Extra environment for the server process. */
  env?: Record<string, string | undefined>;
  /**
   * If false, pass no standard flags at all (only `extraArgs`/`env`): for tests of env variables
   * and defaults. The harness then still needs `clientPort` to know where to wait.
   */
  standardFlags?: boolean;
  /** Working dir of the process; default the data dir's parent. */
  cwd?: string;
  /**
   * Command (and arguments) the server is started through, which must `exec` it (so the PID stays
   * the server's): e.g. a shell that sets `ulimit -f` first. Default none.
   */
  execPrefix?: string[];
  /** Wait for `/health` (default true). */
  waitReady?: boolean;
  /** Server binary to run instead of the one under test (e.g. `/usr/bin/etcd` as a reference). */
  bin?: string;
  /** How long to wait for readiness, ms (default 20 000). */
  readyTimeoutMs?: number;
  /**
   * Serve clients over TLS: the standard client URLs become `https://` and the readiness check
   * trusts `ca` and presents `cert`/`key` (PEM paths). The server's own TLS flags (`--cert-file`
   * ...) go in `extraArgs`.
   */
  clientTls?: ClientTlsFiles;
}

/** PEM files a client uses to reach a TLS client port: the CA to trust and, for mTLS, its certificate and key. */
export interface ClientTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip verifying the server's certificate (e.g. `--auto-tls`). */
  insecureSkipVerify?: boolean;
}

/** A running (or exited) etcd server process started by `startEtcd`. */
export interface EtcdProcess {
  pid: number;
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** `http://127.0.0.1:<clientPort>` (`https://` with StartOptions.clientTls) */
  endpoint: string;
  /** StartOptions.clientTls, used for readiness checks. */
  clientTls?: ClientTlsFiles;
  /** File that receives the process's stdout and stderr. */
  logFile: string;
  proc: Subprocess;
  /** Resolves with the exit code once the process exits. */
  exited: Promise<number>;
  /** Everything the process has printed so far (stdout + stderr). */
  log(): string;
  /** SIGTERM, wait up to `graceMs` (default 10 000), then SIGKILL. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
  /** SIGKILL at once (`kill -9`); resolves when the process is gone. */
  kill9(): Promise<number>;
}

/** The standard flags for a single-member cluster on loopback ports. */
export function standardFlags(name: string, dataDir: string, clientPort: number, peerPort: number, clientScheme: "http" | "https" = "http"): string[] {
  const client = `${clientScheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    "--name", name,
    "--data-dir", dataDir,
    "--listen-client-urls", client,
    "--advertise-client-urls", client,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `${name}=${peer}`,
  ];
}

/**
 * Starts an etcd server process and (by default) waits until `GET /health` answers 200 with
 * `{"health":"true"}`. Throws, with the process log, if it exits or is not healthy in time.
 */
export async function startEtcd(opts: StartOptions = {}): Promise<EtcdProcess> {
  const name = opts.name ?? "e2e";
  const base = opts.dataDir ? resolve(opts.dataDir, "..") : makeTempDir("data");
  const dataDir = opts.dataDir ?? join(base, `${name}.etcd`);
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const scheme = opts.clientTls ? "https" : "http";
  const args = opts.standardFlags === false ? [] : standardFlags(name, dataDir, clientPort, peerPort, scheme);
  const logDir = makeTempDir("log");
  const logFile = join(logDir, "etcd.log");
  const cwd = opts.cwd ?? base;
  mkdirSync(cwd, { recursive: true });
  const proc = Bun.spawn({
    cmd: [...(opts.execPrefix ?? []), opts.bin ?? etcdBin(), ...args, ...(opts.extraArgs ?? [])],
    cwd,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: "ignore",
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
  });
  const exited = proc.exited.then((code) => {
    live.delete(handle);
    return code;
  });
  const handle: EtcdProcess = {
    pid: proc.pid,
    name,
    dataDir,
    clientPort,
    peerPort,
    endpoint: `${scheme}://127.0.0.1:${clientPort}`,
    clientTls: opts.clientTls,
    logFile,
    proc,
    exited,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    stop: (graceMs = 10_000) => stopProcess(proc, exited, graceMs),
    kill9: () => {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
      return exited;
    },
  };
  live.add(handle);
  if (opts.waitReady !== false) await waitHealthy(handle, opts.readyTimeoutMs ?? 20_000);
  return handle;
}

/** SIGTERM by PID, then SIGKILL after `graceMs` if still alive. Resolves with the exit code. */
async function stopProcess(proc: Subprocess, exited: Promise<number>, graceMs: number): Promise<number> {
  if (proc.exitCode !== null || proc.signalCode !== null) return exited;
  process.kill(proc.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
  }, graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Bun fetch's `tls` option for `files` (undefined without files). */
export function fetchTls(files: ClientTlsFiles | undefined): Record<string, unknown> | undefined {
  if (!files) return undefined;
  return {
    ca: files.ca ? readFileSync(files.ca, "utf8") : undefined,
    cert: files.cert ? readFileSync(files.cert, "utf8") : undefined,
    key: files.key ? readFileSync(files.key, "utf8") : undefined,
    rejectUnauthorized: !files.insecureSkipVerify,
  };
}

/** GET `<endpoint><path>` with a per-try timeout (over TLS with `tls`); returns status and body text. */
export async function httpGet(endpoint: string, path: string, timeoutMs = 2_000, tls?: ClientTlsFiles): Promise<{ status: number; body: string }> {
  const res = await fetch(endpoint + path, { signal: AbortSignal.timeout(timeoutMs), tls: fetchTls(tls) } as RequestInit);
  return { status: res.status, body: await res.text() };
}

/**
 * Polls `GET /health` every 100 ms until it answers 200 `{"health":"true"}`. Throws with the
 * process log if the process exits first or `timeoutMs` passes.
 */
export async function waitHealthy(p: EtcdProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) {
      throw new Error(`etcd exited (${p.proc.exitCode ?? p.proc.signalCode}) before healthy:\n${p.log()}`);
    }
    try {
      const r = await httpGet(p.endpoint, "/health", 1_000, p.clientTls);
      if (r.status === 200 && JSON.parse(r.body).health === "true") return;
      last = `${r.status} ${r.body}`;
    } catch (e) {
      last = String(e);
    }
    await Bun.sleep(100);
  }
  throw new Error(`etcd not healthy after ${timeoutMs} ms (last: ${last}):\n${p.log()}`);
}

/** Stops every process this harness started (SIGTERM then SIGKILL) and removes its temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(5_000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort if a test file forgot cleanup() or the runner is interrupted: kill by PID, remove dirs.
process.on("exit", () => {
  for (const p of live) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * True when "our" etcdctl (E2E_ETCDCTL_BIN) is actually Go etcdctl 3.4, used to validate the
 * tests themselves. Go etcdctl 3.4 lacks some 3.5 flags (`get --count-only`), so those cases skip.
 */
export const OUR_ETCDCTL_IS_GO_34: boolean = (() => {
  const bin = process.env.E2E_ETCDCTL_BIN;
  if (!bin) return false;
  const r = spawnSync(bin, ["version"], { encoding: "utf8" });
  return /etcdctl version: 3\.4\./.test(r.stdout ?? "");
})();

/**
 * Asserts a finished command exited 0 with exactly `stdout` (stderr is shown only on failure,
 * so the test report says why).
 */
export function expectOk(r: RunResult, stdout: string): void {
  expect({ code: r.code, stdout: r.stdout, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stdout, stderr: "" });
}
