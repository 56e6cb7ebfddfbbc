/**
 * Real members (server/node/etcd-node.ts EtcdNode: RaftDriver, apply, MVCC, leases, membership,
 * watch hub) on simulated disks (./disk.ts), clocks (./scheduler.ts) and network
 * (./network.ts). Members are started, crashed (power cut: tasks dropped, unsynced writes
 * lost), restarted from their disk, added as learners, promoted and removed.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdNode, type NodeConfig } from "../node/etcd-node.ts";
import type { OutgoingSnapshot } from "../transport/snapshot-data.ts";
import type { MemberRecord } from "../storage/members.ts";
import type { Message } from "../raft/types.ts";
import type { NodePeers } from "../node/peer-link.ts";
import { Prng } from "../raft/prng.ts";
import type { JoinInfo } from "../membership/join.ts";
import { SimDisk } from "./disk.ts";
import { SimEnv, type Owner, type SimScheduler } from "./scheduler.ts";
import type { SimNetwork } from "./network.ts";
import type { LeaseRemoval } from "./checks.ts";

/** Per-message trace of a run (kept only when tracing). */
export type Trace = (line: string) => void;

/** One member slot: a name, a disk and, while running, its process. */
export class SimMember implements Owner {
  gen = 0;
  node: EtcdNode | undefined;
  readonly disk: SimDisk;
  readonly env: SimEnv;
  /** Raft ID, known after the first start. */
  id = 0n;
  /** Removed from the cluster: never started again, left out of the final checks. */
  removed = false;
  /** First start: join a running cluster with this. */
  join: JoinInfo | undefined;
  /** Extra delay of every Ready turn until this time, ms (slow disk). */
  slowUntil = 0;
  /** Rejects when the current incarnation crashes (clients stop waiting for it). */
  down: Promise<never>;
  private fail!: (e: Error) => void;
  /** Starts and crashes so far. */
  starts = 0;

  constructor(
    readonly name: string,
    readonly peerUrl: string,
    sched: SimScheduler,
    seed: number,
    dir: string,
  ) {
    this.disk = new SimDisk(dir);
    const prng = new Prng(seed ^ 0x5bd1e995);
    this.env = new SimEnv(sched, this, seed, () => (sched.now < this.slowUntil ? 1 + prng.int(30) : 0));
    this.down = this.newDown();
  }

  private newDown(): Promise<never> {
    const p = new Promise<never>((_, reject) => (this.fail = reject));
    p.catch(() => {});
    return p;
  }

  /** Marks the current incarnation dead for its clients. */
  markDown(): void {
    this.fail(new Error(`${this.name} crashed`));
    this.down = this.newDown();
  }

  get running(): boolean {
    return this.node !== undefined;
  }
}

/** Settings of the simulated members. */
export interface SimClusterOptions {
  seed: number;
  size: number;
  trace?: Trace;
  /** Disks that acknowledge before fsync (the broken member of the "can fail" test). */
  lazySync?: boolean;
  /** Members' `requestTimeoutMs`, ms. */
  requestTimeoutMs?: number;
  /** Members' `--snapshot-count` (default 100,000: no snapshots in a run). */
  snapshotCount?: number;
  /** Log entries kept behind a snapshot (default 5000). */
  catchUpEntries?: number;
}

const TOKEN = "sim-cluster";

export class SimCluster {
  readonly members: SimMember[] = [];
  private readonly prng: Prng;
  /** Member-fatal errors seen (the process would have exited), with their messages. */
  readonly fatals: string[] = [];
  crashes = 0;
  /** Every lease removal applied on any member, with its simulated time. */
  readonly leaseRemovals: LeaseRemoval[] = [];
  /** The members' data dirs live here; {@link destroy} removes it. */
  private readonly root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "etcd-sim-"));

  constructor(
    private readonly sched: SimScheduler,
    readonly net: SimNetwork,
    private readonly opts: SimClusterOptions,
  ) {
    this.prng = new Prng(opts.seed ^ 0x27d4eb2d);
    net.snapshotIO = {
      image: (from) => {
        const node = this.members.find((m) => m.id === from)?.node;
        return node ? readAll(node.raftSnapshotImage()) : undefined;
      },
      receive: (to, m, data) => {
        const node = this.members.find((x) => x.id === to)?.node;
        if (!node) return undefined;
        const incoming = node.receiveRaftSnapshotImage(m);
        return (async () => {
          try {
            await incoming.write(data);
            const written = await incoming.finish();
            return { ...m, snapshot: { ...m.snapshot!, data: written } };
          } catch (e) {
            incoming.abort();
            throw e;
          }
        })();
      },
    };
    for (let i = 0; i < opts.size; i++) this.newSlot();
  }

  private newSlot(): SimMember {
    const i = this.members.length + 1;
    const m = new SimMember(`n${i}`, `http://n${i}.sim:2380`, this.sched, this.prng.int(2 ** 31), join(this.root, `n${i}`));
    m.disk.lazySync = !!this.opts.lazySync;
    this.members.push(m);
    return m;
  }

  private trace(line: string): void {
    this.opts.trace?.(`${this.sched.now.toFixed(0).padStart(6)} ${line}`);
  }

  /** `--initial-cluster` of the first members. */
  private initialCluster(): string {
    return this.members
      .slice(0, this.opts.size)
      .map((m) => `${m.name}=${m.peerUrl}`)
      .join(",");
  }

  private config(m: SimMember, peers: NodePeers): NodeConfig {
    return {
      peers,
      name: m.name,
      dataDir: m.disk.dir,
      initialCluster: m.join ? [...m.join.members.filter((r) => r.name).map((r) => `${r.name}=${r.peerURLs[0]}`), `${m.name}=${m.peerUrl}`].join(",") : this.initialCluster(),
      initialClusterToken: TOKEN,
      initialClusterState: m.join ? "existing" : "new",
      initialAdvertisePeerUrls: [m.peerUrl],
      advertiseClientUrls: [`http://${m.name}.sim:2379`],
      maxRequestBytes: 1 << 20,
      snapshotCount: this.opts.snapshotCount ?? 100_000,
      catchUpEntries: this.opts.catchUpEntries,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 3000,
      strictReconfigCheck: false,
      quotaBackendBytes: -1,
      env: m.env,
      onFatal: (msg, fields) => {
        this.fatals.push(`${m.name}: ${msg} ${JSON.stringify(fields, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
        this.trace(`${m.name} FATAL ${msg}`);
        this.crash(m);
      },
    };
  }

  /** Starts (or restarts from its disk) member `m`. */
  start(m: SimMember): void {
    if (m.node || m.removed) return;
    m.starts++;
    const db = m.disk.open();
    const logger = {
      info: (msg: string, f?: Record<string, unknown>) => this.opts.trace && this.trace(`${m.name} ${msg} ${fmt(f)}`),
      warn: (msg: string, f?: Record<string, unknown>) => this.opts.trace && this.trace(`${m.name} WARN ${msg} ${fmt(f)}`),
    };
    // A fresh disk joins with what `member add` returned; a restarted one knows its cluster.
    // The member's ID is known once its node read or chose it; a snapshot report reaches only
    // the incarnation that sent the snapshot.
    const gen = m.gen;
    const peers = this.net.sink(() => m.id, (to, ok) => m.gen === gen && m.node?.raft.reportSnapshot(to, ok));
    const node = new EtcdNode(db, this.config(m, peers), logger, m.join);
    m.node = node;
    m.id = node.memberId;
    const lessor = node.lessor;
    const remove = lessor.remove.bind(lessor);
    lessor.remove = (id: bigint) => {
      remove(id);
      this.leaseRemovals.push({ member: m.name, id, at: this.sched.now });
    };
    this.net.attach(m.id, {
      owner: m,
      step: (msg: Message) => {
        if (m.node !== node) return;
        // The real transport refuses removed members and tells them (rafthttp errMemberRemoved).
        if (node.isIdRemoved(msg.from)) {
          const sender = this.members.find((x) => x.id === msg.from);
          sender?.node?.stopRemoved();
          return;
        }
        node.step(msg);
      },
    });
    node.removed.then(() => {
      if (m.node !== node) return;
      this.trace(`${m.name} removed from the cluster: stopping`);
      m.removed = true;
      this.crash(m);
    });
    this.trace(`${m.name} started (id ${m.id.toString(16)}, start ${m.starts})`);
  }

  /**
   * Power cut of member `m`: its timers and queued work vanish, its disk keeps what was durable,
   * its clients see the connection drop.
   */
  crash(m: SimMember): void {
    if (!m.node) return;
    this.crashes++;
    m.gen++;
    m.node = undefined;
    this.net.detach(m.id);
    m.disk.crash();
    m.markDown();
    this.trace(`${m.name} crashed`);
  }

  /**
   * A running member that a reachable peer knows as removed is told so, as the real transport's
   * stream dial is refused (rafthttp errMemberRemoved): a member removed while it was down or
   * cut off sends nothing a peer could refuse (it is not in its own configuration any more).
   */
  refuseRemoved(): void {
    for (const m of this.running()) {
      const refuser = this.running().find((p) => p !== m && !this.net.isCut(p.id, m.id) && p.node!.isIdRemoved(m.id));
      if (refuser) m.node!.stopRemoved();
    }
  }

  /** Closes every member and removes the data dirs. */
  destroy(): void {
    for (const m of this.members) {
      const node = m.node;
      m.node = undefined;
      m.gen++;
      m.disk.crash();
      void node?.close();
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  running(): SimMember[] {
    return this.members.filter((m) => m.node);
  }

  /** Members of the cluster (not removed), running or not. */
  live(): SimMember[] {
    return this.members.filter((m) => !m.removed);
  }

  /** The running member that believes it leads (the one with the highest term if several). */
  leader(): SimMember | undefined {
    let best: SimMember | undefined;
    let term = -1;
    for (const m of this.running()) {
      if (!m.node!.raft.isLeader) continue;
      const t = m.node!.raft.status().hardState.term;
      if (t > term) {
        term = t;
        best = m;
      }
    }
    return best;
  }

  /** A new slot joining as a learner through `leader` (`member add --learner`); started at once. */
  async addLearner(leader: SimMember): Promise<SimMember | undefined> {
    const m = this.newSlot();
    try {
      const res = await Promise.race([leader.node!.cluster.add([m.peerUrl], true), leader.down]);
      const members: MemberRecord[] = leader.node ? leader.node.memberRecords() : [];
      m.join = { clusterId: leader.node?.clusterId ?? 0n, memberId: res.member.ID, members: members.length ? members : [] };
      this.trace(`${m.name} added as learner ${res.member.ID.toString(16)}`);
      if (!m.join.clusterId) {
        m.removed = true;
        return undefined;
      }
      this.start(m);
      return m;
    } catch (e) {
      this.trace(`member add failed: ${String(e)}`);
      // The add may still commit later: the slot's ID is unknown, so it is never started.
      m.removed = true;
      return undefined;
    }
  }
}

/** The whole of an outgoing snapshot image, released after. */
async function readAll(p: Promise<OutgoingSnapshot>): Promise<Uint8Array> {
  const img = await p;
  try {
    const parts: Uint8Array[] = [];
    for await (const part of img.read(1 << 20)) parts.push(part.slice());
    return Buffer.concat(parts);
  } finally {
    img.release();
  }
}

function fmt(f: Record<string, unknown> | undefined): string {
  return f ? JSON.stringify(f, (_, v) => (typeof v === "bigint" ? v.toString() : v)) : "";
}
