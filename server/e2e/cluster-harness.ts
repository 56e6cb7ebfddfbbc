/**
 * Multi-member clusters for end-to-end tests: several etcd processes (the binary `harness.ts`
 * chooses: our release's `etcd`, or `E2E_ETCD_BIN`) on free loopback ports, bootstrapped with a
 * static `--initial-cluster` as in etcd's clustering guide (Documentation/op-guide/clustering.md,
 * "Static"), plus helpers to find the leader, kill -9 and restart members, and join new ones with
 * `--initial-cluster-state existing` (etcd's runtime-configuration guide).
 *
 * Every process is started through `startEtcd` and so is tracked by PID and stopped by
 * `cleanup()` from harness.ts; `TestCluster.stop()` stops this cluster's processes early.
 */
import { join } from "node:path";
import { memberFlags } from "../../scripts/bench/cluster-flags.ts";
import type { StatusResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, grpcClients } from "./clients.ts";
import { type ClientTlsFiles, type EtcdProcess, freePort, makeTempDir, startEtcd, waitHealthy } from "./harness.ts";

/** One member slot: a name with fixed ports and data dir; its process changes across restarts. */
export interface ClusterMember {
  /** `--name`, e.g. "n1". */
  name: string;
  clientPort: number;
  peerPort: number;
  /** `http://127.0.0.1:<clientPort>` (`https://` with ClusterOptions.clientTls) */
  clientUrl: string;
  /** `http://127.0.0.1:<peerPort>` (`https://` with ClusterOptions.peerScheme "https") */
  peerUrl: string;
  dataDir: string;
  /** The current (or last) process; undefined before the first start. */
  proc?: EtcdProcess;
}

/** Options of `TestCluster.start`. */
export interface ClusterOptions {
  /** Number of members (default 3), named n1, n2, ... */
  size?: number;
  /** `--initial-cluster-token` (default "etcd-e2e-cluster"). */
  token?: string;
  /** Flags added to every member's command line (e.g. `--snapshot-count 100`). */
  extraArgs?: string[];
  /** How long to wait for all members to be healthy, ms (default 30 000). */
  readyTimeoutMs?: number;
  /** Scheme of the peer URLs (default "http"; "https" needs peer certificates in `memberArgs`). */
  peerScheme?: "http" | "https";
  /** Flags for one member by name, after `extraArgs` (e.g. its own `--peer-cert-file`). */
  memberArgs?: (name: string) => string[];
  /**
   * Serve clients over TLS: client URLs become `https://`, and the harness's own calls (health,
   * Status) trust `ca` and present `cert`/`key`. The server's `--cert-file ...` go in `extraArgs`.
   */
  clientTls?: ClientTlsFiles;
}

/** Options of `TestCluster.startMember`. */
export interface StartMemberOptions {
  /** `--initial-cluster-state` (default "new"). */
  state?: "new" | "existing";
  /** `--initial-cluster` value (default: every slot started so far, as `name=peerURL,...`). */
  initialCluster?: string;
  /** Wait for `/health` (default true). */
  waitReady?: boolean;
}

/** The leader as seen by one member's Maintenance.Status. */
export interface LeaderInfo {
  /** Index in `TestCluster.members` of the leader. */
  index: number;
  /** Leader member ID (uint64). */
  id: bigint;
  /** Raft term of the answering member. */
  term: bigint;
}

/** A static cluster of etcd processes on loopback. */
export class TestCluster {
  /** Member slots in start order (n1, n2, ...); `addSlot` appends. */
  readonly members: ClusterMember[] = [];

  private constructor(
    /** `--initial-cluster-token`. */
    readonly token: string,
    /** Flags added to every member. */
    readonly extraArgs: string[],
    private readonly baseDir: string,
    private readonly peerScheme: "http" | "https" = "http",
    private readonly memberArgs: (name: string) => string[] = () => [],
    /** ClusterOptions.clientTls: how the harness reaches the members' client URLs. */
    readonly clientTls?: ClientTlsFiles,
  ) {}

  /**
   * Starts `size` members bootstrapped together (`--initial-cluster-state new`) and waits until
   * every one answers `/health` (which needs an elected leader). Throws with the member's log if
   * one exits or stays unhealthy.
   */
  static async start(opts: ClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(opts.token ?? "etcd-e2e-cluster", opts.extraArgs ?? [], makeTempDir("cluster"), opts.peerScheme, opts.memberArgs, opts.clientTls);
    for (let i = 0; i < (opts.size ?? 3); i++) await cluster.addSlot();
    const initialCluster = cluster.initialCluster();
    await Promise.all(cluster.members.map((_, i) => cluster.startMember(i, { initialCluster, waitReady: false })));
    await Promise.all(cluster.members.map((m) => waitHealthy(m.proc!, opts.readyTimeoutMs ?? 30_000)));
    return cluster;
  }

  /** Appends a slot named `n<k>` (k = slot count + 1) with fresh free ports; returns its index. */
  async addSlot(): Promise<number> {
    const name = `n${this.members.length + 1}`;
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    this.members.push({
      name,
      clientPort,
      peerPort,
      clientUrl: `${this.clientTls ? "https" : "http"}://127.0.0.1:${clientPort}`,
      peerUrl: `${this.peerScheme}://127.0.0.1:${peerPort}`,
      dataDir: join(this.baseDir, `${name}.etcd`),
    });
    return this.members.length - 1;
  }

  /** `--initial-cluster` of the given slots (default all): `n1=http://127.0.0.1:P1,...`. */
  initialCluster(indices: number[] = this.members.map((_, i) => i)): string {
    return indices.map((i) => `${this.members[i]!.name}=${this.members[i]!.peerUrl}`).join(",");
  }

  /** Client URLs of the given slots (default all), comma separated (for `--endpoints`). */
  endpoints(indices: number[] = this.members.map((_, i) => i)): string {
    return indices.map((i) => this.members[i]!.clientUrl).join(",");
  }

  /** The full etcd command line flags of slot `i` (the same on every start). */
  flags(i: number, state: "new" | "existing", initialCluster: string): string[] {
    const m = this.members[i]!;
    return memberFlags({ ...m, initialCluster, token: this.token, state }, [...this.extraArgs, ...this.memberArgs(m.name)]);
  }

  /**
   * Starts (or restarts, on the same data dir and ports) the process of slot `i`. With
   * `waitReady` (default) it waits for `/health`, i.e. until the member knows a leader.
   */
  async startMember(i: number, opts: StartMemberOptions = {}): Promise<EtcdProcess> {
    const m = this.members[i]!;
    if (m.proc && m.proc.proc.exitCode === null && m.proc.proc.signalCode === null) {
      throw new Error(`member ${m.name} is still running (pid ${m.proc.pid})`);
    }
    const initialCluster = opts.initialCluster ?? this.initialCluster();
    m.proc = await startEtcd({
      name: m.name,
      standardFlags: false,
      dataDir: m.dataDir,
      clientPort: m.clientPort,
      peerPort: m.peerPort,
      extraArgs: this.flags(i, opts.state ?? "new", initialCluster),
      waitReady: opts.waitReady ?? true,
      readyTimeoutMs: 30_000,
      clientTls: this.clientTls,
    });
    return m.proc;
  }

  /** `kill -9` of slot `i`'s process; resolves once it is gone. */
  async kill9(i: number): Promise<void> {
    await this.members[i]!.proc?.kill9();
  }

  /** True while slot `i` has a live process. */
  isRunning(i: number): boolean {
    const p = this.members[i]!.proc;
    return p !== undefined && p.proc.exitCode === null && p.proc.signalCode === null;
  }

  /** Indices of the slots with a live process. */
  running(): number[] {
    return this.members.map((_, i) => i).filter((i) => this.isRunning(i));
  }

  /** Maintenance.Status of slot `i`, or undefined if it does not answer within `timeoutMs`. */
  async status(i: number, timeoutMs = 2_000): Promise<StatusResponse | undefined> {
    try {
      return await grpcClients(this.members[i]!.clientUrl, this.clientTls).maintenance.status({}, { timeoutMs });
    } catch {
      return undefined;
    }
  }

  /** Slot index of the member with ID `id`, or -1 (IDs are learned from Status headers). */
  async indexOfId(id: bigint): Promise<number> {
    for (const i of this.running()) {
      const s = await this.status(i);
      if (s?.header?.memberId === id) return i;
    }
    return -1;
  }

  /**
   * Polls Status of the running slots (or `among`) every 50 ms until they all name the same
   * live leader, and returns it. Throws after `timeoutMs` (default 20 000) with what each said.
   */
  async waitLeader(among: number[] = this.running(), timeoutMs = 20_000): Promise<LeaderInfo> {
    const deadline = Date.now() + timeoutMs;
    let seen = "";
    while (Date.now() < deadline) {
      const statuses = await Promise.all(among.map((i) => this.status(i, 1_000)));
      const ids = new Map(statuses.map((s, k) => [s?.header?.memberId, among[k]!]));
      const leaders = new Set(statuses.map((s) => s?.leader));
      const [leader] = leaders;
      if (leaders.size === 1 && leader && ids.has(leader)) {
        const idx = ids.get(leader)!;
        return { index: idx, id: leader, term: statuses[among.indexOf(idx)]!.raftTerm };
      }
      seen = statuses.map((s, k) => `${this.members[among[k]!]!.name}: leader ${s?.leader?.toString(16) ?? "?"}`).join(", ");
      await Bun.sleep(50);
    }
    throw new Error(`no common leader among ${among.map((i) => this.members[i]!.name).join(",")} after ${timeoutMs} ms (${seen})`);
  }

  /**
   * Puts `key`=`value` through slot `i` every `intervalMs` (default 20), each try with a
   * `tryTimeoutMs` deadline (default 1 000), until one is acknowledged; returns the time of
   * that acknowledgement (performance.now() ms). Throws after `timeoutMs` (default 30 000).
   */
  async putUntilOk(i: number, key: string, value: string, opts: { intervalMs?: number; tryTimeoutMs?: number; timeoutMs?: number } = {}): Promise<number> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const { kv } = grpcClients(this.members[i]!.clientUrl, this.clientTls);
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await kv.put({ key: bytes(key), value: bytes(value) }, { timeoutMs: opts.tryTimeoutMs ?? 1_000 });
        return performance.now();
      } catch (e) {
        last = e;
        await Bun.sleep(opts.intervalMs ?? 20);
      }
    }
    throw new Error(`put through ${this.members[i]!.name} not acknowledged within ${opts.timeoutMs ?? 30_000} ms: ${String(last)}`);
  }

  /** Stops every running member of this cluster (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 5_000): Promise<void> {
    await Promise.all(this.members.map((m) => m.proc?.stop(graceMs)));
  }
}
