/**
 * A 3-member cluster under benchmark: one binary (etcd 3.4 or ours) started 3 times on free loopback ports with
 * fresh temp data dirs and a static `--initial-cluster` (etcd's clustering guide, "Static"), output to
 * `<tmp>/<name>.log`. Gives the leader's client URL as `endpoint` and the CPU of all members, so the closed-loop
 * runner (runner.ts) can load it like a single server; and can kill -9 and restart members for failover runs.
 */
import type { Subprocess } from "bun";
import { createClient } from "@connectrpc/connect";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Maintenance, type StatusResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { memberFlags } from "./cluster-flags.ts";
import { removeDir, trackDir, trackPid, untrackPid } from "./cleanup.ts";
import { resetPeakRss, treeCpuMicros, treePeakRssBytes, treeRssBytes } from "./proc.ts";
import { answersRange, freePorts, type ServerSpec, withTransport } from "./server.ts";

/** How long a cluster may take to elect a leader and answer on every member, in ms. */
const READY_TIMEOUT_MS = 60_000;

/** One member: fixed name, URLs and data dir; its process changes across restarts. */
interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logPath: string;
  process?: Subprocess;
}

/** Maintenance.Status of a member, or undefined if it does not answer within 1 s. */
function status(endpoint: string): Promise<StatusResponse | undefined> {
  return withTransport(endpoint, (t) => createClient(Maintenance, t).status({}, { timeoutMs: 1_000 })).catch(() => undefined);
}

/** A running 3-member cluster; stop it with {@link RunningCluster.stop}. */
export class RunningCluster {
  /** Client URL of the member that loads go to (the leader when the cluster was last settled). */
  endpoint = "";
  /** Time from exec of the members to every member answering a linearizable Range with one leader, in ms. */
  startupMs = 0;

  private constructor(
    /** What was started (label and binary). */
    readonly spec: ServerSpec,
    private readonly members: Member[],
    /** Temp dir holding the data dirs and logs; removed by stop(). */
    readonly tempDir: string,
    private readonly token: string,
    /** Flags added to every member's command line. */
    private readonly extraArgs: string[],
  ) {}

  /**
   * Starts `size` members of `spec.binary` and waits until all answer and agree on a leader (≤ 60 s); `endpoint`
   * is then the leader's client URL. Throws Error with the tail of a member's log if one exits or it takes longer.
   */
  static async start(spec: ServerSpec, size = 3, extraArgs: string[] = []): Promise<RunningCluster> {
    const tempDir = mkdtempSync(join(tmpdir(), "etcd-benchmark-cluster-"));
    trackDir(tempDir);
    const ports = await freePorts(2 * size);
    const members: Member[] = Array.from({ length: size }, (_, i) => ({
      name: `m${i + 1}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(tempDir, `m${i + 1}.etcd`),
      logPath: join(tempDir, `m${i + 1}.log`),
    }));
    const cluster = new RunningCluster(spec, members, tempDir, `bench-${spec.label}`, extraArgs);
    const t0 = performance.now();
    for (let i = 0; i < size; i++) cluster.launch(i);
    await cluster.settle(members.map((_, i) => i));
    cluster.startupMs = performance.now() - t0;
    return cluster;
  }

  /** Execs member `i` with the cluster's flags (the same on every start; the data dir decides new vs restart). */
  private launch(i: number): void {
    const m = this.members[i]!;
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(",");
    const args = memberFlags({ ...m, initialCluster, token: this.token, state: "new" }, this.extraArgs);
    const log = Bun.file(m.logPath);
    m.process = Bun.spawn([this.spec.binary, ...args], { stdin: "ignore", stdout: log, stderr: log });
    trackPid(m.process.pid);
  }

  /** The last lines of member `i`'s log. */
  private logTail(i: number): string {
    try {
      return readFileSync(this.members[i]!.logPath, "utf8").split("\n").slice(-15).join("\n");
    } catch {
      return "";
    }
  }

  /** True while member `i`'s process runs. */
  private alive(i: number): boolean {
    const p = this.members[i]!.process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  /**
   * Waits until members `indices` all answer a linearizable Range and name the same leader, then points
   * `endpoint` at that leader and returns its index. Throws Error if a member exits or 60 s pass.
   */
  async settle(indices: number[] = this.members.map((_, i) => i).filter((i) => this.alive(i))): Promise<number> {
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (;;) {
      for (const i of indices) {
        if (!this.alive(i)) throw new Error(`${this.spec.label} member ${this.members[i]!.name} exited; last log lines:\n${this.logTail(i)}`);
      }
      const ready = await Promise.all(indices.map((i) => answersRange(this.members[i]!.clientUrl)));
      if (ready.every(Boolean)) {
        const statuses = await Promise.all(indices.map((i) => status(this.members[i]!.clientUrl)));
        const leaders = new Set(statuses.map((s) => s?.leader));
        const leader = indices.find((_, k) => statuses[k]?.header?.memberId === [...leaders][0]);
        if (leaders.size === 1 && leader !== undefined) {
          this.endpoint = this.members[leader]!.clientUrl;
          return leader;
        }
      }
      if (performance.now() > deadline) throw new Error(`${this.spec.label} cluster not ready within ${READY_TIMEOUT_MS} ms`);
      await Bun.sleep(20);
    }
  }

  /** Client URLs of the members other than `i`. */
  othersThan(i: number): string[] {
    return this.members.filter((_, k) => k !== i).map((m) => m.clientUrl);
  }

  /** SIGKILLs member `i` (kill -9) and resolves once it is gone. */
  async kill9(i: number): Promise<void> {
    const p = this.members[i]!.process!;
    p.kill("SIGKILL");
    await p.exited;
    untrackPid(p.pid);
  }

  /** Restarts member `i` on its data dir and waits until the whole cluster is settled again. */
  async restart(i: number): Promise<void> {
    this.launch(i);
    await this.settle(this.members.map((_, k) => k));
  }

  /** CPU time (user + system) used so far by all live members' process trees, in µs. */
  cpuMicros(): number {
    return this.members.reduce((sum, m, i) => sum + (this.alive(i) ? treeCpuMicros(m.process!.pid) : 0), 0);
  }

  /** VmRSS of all live members' process trees, in bytes. */
  rssBytes(): number {
    return this.members.reduce((sum, m, i) => sum + (this.alive(i) ? treeRssBytes(m.process!.pid) : 0), 0);
  }

  /** Sum of all live members' peak VmRSS since start or the last {@link resetPeakRss}, in bytes. */
  peakRssBytes(): number {
    return this.members.reduce((sum, m, i) => sum + (this.alive(i) ? treePeakRssBytes(m.process!.pid) : 0), 0);
  }

  /** Resets every live member's peak RSS to its current RSS; false if the kernel refused for one. */
  resetPeakRss(): boolean {
    return this.members.every((m, i) => !this.alive(i) || resetPeakRss(m.process!.pid));
  }

  /** The version the leader reports in Maintenance.Status (e.g. "3.4.23"), or undefined. */
  async version(): Promise<string | undefined> {
    return (await status(this.endpoint))?.version || undefined;
  }

  /** SIGTERMs every member by PID (SIGKILL after 5 s), then removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m, i) => {
        if (!this.alive(i)) return;
        const p = m.process!;
        p.kill("SIGTERM");
        const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
        if (!exited) {
          p.kill("SIGKILL");
          await p.exited;
        }
        untrackPid(p.pid);
      }),
    );
    removeDir(this.tempDir);
  }
}
