/**
 * A server under test: etcd 3.4 or ours, started on free loopback ports with a fresh temp data dir and the same
 * etcd flags (`--name --data-dir --listen-client-urls --advertise-client-urls --listen-peer-urls
 * --initial-advertise-peer-urls --initial-cluster --initial-cluster-state new`, plus those of its security mode,
 * security.ts), output to `<tmp>/server.log`.
 */
import type { Subprocess } from "bun";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KV, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { removeDir, trackDir, trackPid, untrackPid } from "./cleanup.ts";
import { resetPeakRss, treeCpuMicros, treePeakRssBytes, treeRssBytes } from "./proc.ts";
import { enableAuth, nodeTlsOptions, securitySetup, type Security, type ServerAccess } from "./security.ts";

/** How long a server may take from exec to its first answered request, in ms (default of {@link StartOptions}). */
const STARTUP_TIMEOUT_MS = 30_000;

/** Which binary to run and what to call it in reports. */
export interface ServerSpec {
  /** Report label, e.g. "etcd" or "ours". */
  label: string;
  /** Path of the executable. */
  binary: string;
  /** Security mode (`--security`, default "none"; see security.ts). */
  security?: Security;
  /** Flags appended after the standard and security ones (e.g. `--metrics extensive`). */
  extraFlags?: string[];
}

/** Where and how long {@link RunningServer.start} starts a server. */
export interface StartOptions {
  /**
   * A directory kept across runs (created if missing) instead of a fresh temp dir: it holds `data/`, `server.log`
   * and `ports.json` (the client and peer ports, reused so a member restarted on its data dir keeps its URLs);
   * stop() leaves it in place. Default: a fresh temp dir, removed by stop().
   */
  keptDir?: string;
  /** How long a start may take from exec to the first answered request, in ms (default 30,000). */
  startupTimeoutMs?: number;
}

/** Reserves `count` distinct free TCP ports on 127.0.0.1 (listen on port 0, note, close). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** The two ports saved in `path` (client, peer), or two free ones saved there for the next start. */
async function keptPorts(path: string): Promise<number[]> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as number[];
  const ports = await freePorts(2);
  writeFileSync(path, JSON.stringify(ports));
  return ports;
}

/** Runs `call` with a transport over a fresh HTTP/2 connection (with `access`'s TLS) that is closed afterwards. */
export async function withTransport<T>(
  endpoint: string,
  call: (t: ReturnType<typeof createGrpcTransport>) => Promise<T>,
  access?: ServerAccess,
): Promise<T> {
  const sessionManager = new Http2SessionManager(endpoint, {}, nodeTlsOptions(access));
  try {
    return await call(createGrpcTransport({ baseUrl: endpoint, sessionManager }));
  } finally {
    sessionManager.abort();
  }
}

/** Sends one linearizable Range over a fresh HTTP/2 connection; resolves true if the server answered it. */
export function answersRange(endpoint: string, access?: ServerAccess): Promise<boolean> {
  return withTransport(
    endpoint,
    (t) => createClient(KV, t).range({ key: new TextEncoder().encode("benchmark-ready") }, { timeoutMs: 2_000 }),
    access,
  ).then(
    () => true,
    () => false,
  );
}

/** The server's version from Maintenance.Status (e.g. "3.4.23"), or undefined if it does not answer Status. */
function statusVersion(endpoint: string, access?: ServerAccess): Promise<string | undefined> {
  return withTransport(endpoint, (t) => createClient(Maintenance, t).status({}, { timeoutMs: 2_000 }), access).then(
    (status) => status.version || undefined,
    () => undefined,
  );
}

/** A started process and the time from its exec to its first answered request. */
interface Launched {
  process: Subprocess;
  startupMs: number;
}

/**
 * Execs `binary args` with output appended to `logPath` and waits for its first answered request (≤ 30 s). Throws
 * Error with the tail of the log if it exits or does not answer in time.
 */
async function launch(
  label: string,
  binary: string,
  args: string[],
  logPath: string,
  endpoint: string,
  access: ServerAccess,
  timeoutMs: number,
): Promise<Launched> {
  const t0 = performance.now();
  const proc = Bun.spawn([binary, ...args], {
    stdin: "ignore",
    stdout: Bun.file(logPath),
    stderr: Bun.file(logPath),
  });
  trackPid(proc.pid);
  let exited: number | null = null;
  void proc.exited.then((code) => (exited = code));
  const fail = (why: string): never => {
    let tail = "";
    try {
      tail = readFileSync(logPath, "utf8").split("\n").slice(-15).join("\n");
    } catch {
      // no log
    }
    throw new Error(`${label} (${binary}) ${why}; last log lines:\n${tail}`);
  };
  while (!(await answersRange(endpoint, access))) {
    if (exited !== null) fail(`exited with code ${exited} during start-up`);
    if (performance.now() - t0 > timeoutMs) fail(`answered no request within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
  return { process: proc, startupMs: performance.now() - t0 };
}

/** A started server; stop it with {@link RunningServer.stop}. */
export class RunningServer {
  private constructor(
    /** What was started. */
    readonly spec: ServerSpec,
    private process: Subprocess,
    /** Temp dir holding data dir and log; removed by stop(). */
    readonly tempDir: string,
    /** gRPC endpoint, e.g. "http://127.0.0.1:41234". */
    readonly endpoint: string,
    /** Time from exec to the first answered linearizable Range, in ms (of the last start). */
    public startupMs: number,
    /** How clients reach it (TLS files, user) in its security mode. */
    readonly access: ServerAccess,
    /** The flags it was started with. */
    private readonly args: string[],
    /** Whether stop() leaves {@link tempDir} in place ({@link StartOptions.keptDir}). */
    private readonly keepDir: boolean,
    /** Longest start-up, ms. */
    private readonly startupTimeoutMs: number,
  ) {}

  /** The member's data dir (`<tempDir>/data`). */
  get dataDir(): string {
    return join(this.tempDir, "data");
  }

  /** PID of the server process. */
  get pid(): number {
    return this.process.pid;
  }

  /**
   * Starts a server and waits for its first answered request (≤ 30 s unless `options` say otherwise), then (auth
   * mode) enables auth. Throws Error with the tail of its log if it exits or does not answer in time.
   */
  static async start(spec: ServerSpec, options: StartOptions = {}): Promise<RunningServer> {
    const keepDir = options.keptDir !== undefined;
    const tempDir = options.keptDir ?? mkdtempSync(join(tmpdir(), "etcd-benchmark-"));
    if (keepDir) mkdirSync(tempDir, { recursive: true });
    else trackDir(tempDir);
    const [clientPort, peerPort] = keepDir ? await keptPorts(join(tempDir, "ports.json")) : await freePorts(2);
    const security = securitySetup(spec.security ?? "none", tempDir);
    const endpoint = `${security.scheme}://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const logPath = join(tempDir, "server.log");
    const args = [
      "--name", "bench",
      "--data-dir", join(tempDir, "data"),
      "--listen-client-urls", endpoint,
      "--advertise-client-urls", endpoint,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `bench=${peer}`,
      "--initial-cluster-state", "new",
      ...security.flags,
      ...(spec.extraFlags ?? []),
    ];
    const timeoutMs = options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
    const { process: proc, startupMs } = await launch(spec.label, spec.binary, args, logPath, endpoint, security.access, timeoutMs);
    await enableAuth(endpoint, security.access);
    return new RunningServer(spec, proc, tempDir, endpoint, startupMs, security.access, args, keepDir, timeoutMs);
  }

  /**
   * Stops the server (SIGTERM, SIGKILL after 5 s; `signal` "SIGKILL": killed at once, as in a crash) and starts it
   * again on the same data dir and flags; resolves with the time from exec to its first answered request, in ms
   * (also kept in {@link startupMs}). Throws like start().
   */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number> {
    await this.terminate(signal);
    const log = join(this.tempDir, "server.log");
    const launched = await launch(this.spec.label, this.spec.binary, this.args, log, this.endpoint, this.access, this.startupTimeoutMs);
    this.process = launched.process;
    this.startupMs = launched.startupMs;
    return launched.startupMs;
  }

  /** Current VmRSS of the server's process tree, in bytes. */
  rssBytes(): number {
    return treeRssBytes(this.process.pid);
  }

  /** Peak VmRSS of the server's process tree since start or the last {@link resetPeakRss}, in bytes. */
  peakRssBytes(): number {
    return treePeakRssBytes(this.process.pid);
  }

  /** Resets the peak RSS to the current RSS (proc.ts); false if the kernel refused. */
  resetPeakRss(): boolean {
    return resetPeakRss(this.process.pid);
  }

  /** The version the server reports in Maintenance.Status (e.g. "3.4.23"), or undefined if it does not answer. */
  version(): Promise<string | undefined> {
    return statusVersion(this.endpoint, this.access);
  }

  /** CPU time (user + system) used so far by the server's process tree, in µs (clock-tick resolution). */
  cpuMicros(): number {
    return treeCpuMicros(this.process.pid);
  }

  /** SIGTERMs the server by PID and SIGKILLs it after 5 s (`signal` "SIGKILL": at once, a crash). */
  private async terminate(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    this.process.kill(signal);
    const exited = await Promise.race([this.process.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
    if (!exited) {
      this.process.kill("SIGKILL");
      await this.process.exited;
    }
    untrackPid(this.process.pid);
  }

  /** SIGTERMs the server by PID, SIGKILLs it after 5 s, then removes its temp dir (unless it is a kept dir). */
  async stop(): Promise<void> {
    await this.terminate();
    if (!this.keepDir) removeDir(this.tempDir);
  }
}
