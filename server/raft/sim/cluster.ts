/**
 * Deterministic simulation of a Raft cluster: RawNodes on a simulated network and clock, driven entirely
 * by one seed. The network loses, duplicates, delays and reorders messages and can be partitioned; nodes
 * crash and restart from what they persisted (hard state + stable log + snapshot; unstable state and
 * unsent messages are lost); clients propose writes and ReadIndex reads; the operator changes membership
 * (add learner, promote, remove, re-add) and transfers leadership; nodes snapshot and compact their logs.
 * A SafetyChecker validates every observable step; liveness is checked after healing at the end.
 *
 * Time: one unit = one network hop granularity; each node ticks every TICK units (electionTick ticks).
 */
import { MemoryStorage } from "../memory-storage.ts";
import { RawNode, type Ready, SnapshotStatus } from "../node.ts";
import { Prng } from "../prng.ts";
import { isRaftError } from "../errors.ts";
import { decodeConfChange } from "../wire.ts";
import {
  ConfChangeType,
  type ConfState,
  EMPTY_BYTES,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  StateType,
} from "../types.ts";
import { SafetyChecker, SafetyViolation, dataKey, entryIdentity, hashStep } from "./checker.ts";

/** Units of simulated time per node tick. */
const TICK = 4;
const ELECTION_TICK = 10;

/** Knobs of one run; everything not given is drawn from the seed. */
export interface SimOptions {
  seed: number;
  /** Initial voters (3 or 5). */
  size: number;
  /** Length of the chaotic phase in time units. */
  chaosUnits: number;
  /** Units allowed after healing for a leader to commit a final proposal everywhere. */
  livenessUnits?: number;
  /** Collect a trace of events (for replaying a failing seed). */
  trace?: boolean;
}

/** Outcome of a run (for reporting). */
export interface SimResult {
  seed: number;
  proposalsCommitted: number;
  reads: number;
  leaders: number;
  confChanges: number;
  snapshotsSent: number;
  crashes: number;
  checks: number;
}

interface Envelope {
  kind: "msg" | "snapReport" | "unreachable";
  msg: Message;
}

class SimNode {
  rn: RawNode | undefined;
  readonly storage = new MemoryStorage();
  /** State machine: applied index, running hash, membership as of applied. */
  applied = 0;
  hash = 0;
  confState: ConfState = { voters: [], learners: [] };
  /** Commit index already reported to the checker. */
  commitSeen = 0;
  restartAt = -1;
  removed = false;
  incarnation = 0;
  wantSnapshot = false;
  /** Tick phase offset so nodes do not tick in lockstep. */
  readonly phase: number;
  constructor(readonly id: NodeId, phase: number) {
    this.phase = phase;
  }
  get up(): boolean {
    return this.rn !== undefined;
  }
}

function encodeState(applied: number, hash: number): Uint8Array {
  return new TextEncoder().encode(`${applied}:${hash}`);
}

function decodeState(data: Uint8Array): { applied: number; hash: number } {
  const [a, h] = new TextDecoder().decode(data).split(":");
  return { applied: Number(a), hash: Number(h) };
}

export class SimCluster {
  readonly rng: Prng;
  readonly checker = new SafetyChecker();
  readonly nodes = new Map<NodeId, SimNode>();
  private now = 0;
  private readonly queue = new Map<number, Envelope[]>();
  private partition: Map<NodeId, number> | undefined;
  private partitionHealAt = -1;
  private lossRate: number;
  private dupRate: number;
  private readonly longDelayRate: number;
  private readonly longDelayMax: number;
  /** Per-unit probabilities of client and fault events (drawn per seed: calm to stormy). */
  private readonly rates: { propose: number; read: number; crash: number; partition: number; partitionMax: number };
  private readonly cfg: {
    preVote: boolean;
    checkQuorum: boolean;
    maxSizePerMsg: number;
    maxInflightMsgs: number;
    snapshotEvery: number;
    heartbeatTick: number;
  };
  private proposalSeq = 0;
  private readSeq = 0;
  /** Latest membership by applied index (the committed configuration). */
  private globalConf: ConfState = { voters: [], learners: [] };
  private globalConfIndex = 0;
  private finalIndex = 0;
  readonly traceLines: string[] = [];
  readonly stats: SimResult;

  constructor(readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed * 2654435761 + 1);
    const r = this.rng;
    this.lossRate = r.pick([0, 0.01, 0.05, 0.1])!;
    this.dupRate = r.pick([0, 0.01, 0.05])!;
    this.longDelayRate = r.pick([0, 0.02, 0.05, 0.1])!;
    this.longDelayMax = r.pick([60, 200])!;
    this.rates = {
      propose: r.pick([0.05, 0.1, 0.3])!,
      read: r.pick([0.02, 0.05])!,
      crash: r.pick([0.002, 0.006, 0.02])!,
      partition: r.pick([0.002, 0.01, 0.03])!,
      partitionMax: r.pick([60, 300])!,
    };
    this.cfg = {
      preVote: r.chance(0.7),
      checkQuorum: r.chance(0.7),
      maxSizePerMsg: r.pick([0, 64, 512, Infinity])!,
      maxInflightMsgs: r.pick([1, 2, 4, 16])!,
      snapshotEvery: r.pick([5, 10, 25, 50])!,
      heartbeatTick: r.pick([1, 2])!,
    };
    this.stats = { seed: opts.seed, proposalsCommitted: 0, reads: 0, leaders: 0, confChanges: 0, snapshotsSent: 0, crashes: 0, checks: 0 };
    // Spare IDs for new members.
    const total = opts.size + 2;
    for (let i = 1; i <= total; i++) this.nodes.set(BigInt(i), new SimNode(BigInt(i), r.int(TICK)));
    const peers = [...this.nodes.keys()].slice(0, opts.size).map((id) => ({ id }));
    for (const { id } of peers) this.start(this.nodes.get(id)!);
    for (const { id } of peers) {
      const n = this.nodes.get(id)!;
      n.rn!.bootstrap(peers);
      this.flush(n);
    }
    this.trace(() => `config ${JSON.stringify({ ...this.cfg, ...this.rates, loss: this.lossRate, dup: this.dupRate, long: this.longDelayRate })}`);
  }

  private trace(f: () => string): void {
    if (this.opts.trace) this.traceLines.push(`[${this.now}] ${f()}`);
  }

  // ---- node lifecycle ------------------------------------------------------------------------------------

  private start(n: SimNode): void {
    n.incarnation++;
    const snap = n.storage.snapshot();
    n.rn = new RawNode({
      id: n.id,
      electionTick: ELECTION_TICK,
      heartbeatTick: this.cfg.heartbeatTick,
      storage: n.storage,
      applied: snap.metadata.index,
      maxSizePerMsg: this.cfg.maxSizePerMsg,
      maxInflightMsgs: this.cfg.maxInflightMsgs,
      checkQuorum: this.cfg.checkQuorum,
      preVote: this.cfg.preVote,
      random: new Prng(this.opts.seed * 7919 + Number(n.id) * 104729 + n.incarnation).int,
    });
    if (snap.metadata.index > 0) {
      const st = decodeState(snap.data);
      n.applied = snap.metadata.index;
      n.hash = st.hash;
      this.checker.observeSnapshot(n.id, n.applied, n.hash);
    } else {
      n.applied = 0;
      n.hash = 0;
    }
    n.confState = n.storage.initialState().confState;
    n.commitSeen = n.rn.raft.raftLog.committed;
    n.restartAt = -1;
    this.trace(() => `start ${n.id} (incarnation ${n.incarnation}, snapshot ${snap.metadata.index}, commit ${n.commitSeen})`);
  }

  private crash(n: SimNode, restartAfter: number): void {
    n.rn = undefined;
    n.restartAt = restartAfter < 0 ? -1 : this.now + restartAfter;
    this.stats.crashes++;
    this.trace(() => `crash ${n.id}${restartAfter >= 0 ? ` until ${n.restartAt}` : " (removed)"}`);
  }

  private isMember(id: NodeId): boolean {
    return this.globalConf.voters.includes(id) || this.globalConf.learners.includes(id);
  }

  // ---- network -------------------------------------------------------------------------------------------

  private reachable(a: NodeId, b: NodeId): boolean {
    return !this.partition || this.partition.get(a) === this.partition.get(b);
  }

  private schedule(delay: number, env: Envelope): void {
    const at = this.now + Math.max(1, delay);
    let b = this.queue.get(at);
    if (!b) {
      b = [];
      this.queue.set(at, b);
    }
    b.push(env);
  }

  private latency(): number {
    if (this.longDelayRate > 0 && this.rng.chance(this.longDelayRate)) return this.rng.range(8, this.longDelayMax);
    return this.rng.range(1, 6);
  }

  private send(m: Message): void {
    if (m.type === MessageType.MsgSnap) this.stats.snapshotsSent++;
    const copies = this.dupRate > 0 && this.rng.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.schedule(this.latency(), { kind: "msg", msg: m });
  }

  private deliver(env: Envelope): void {
    const m = env.msg;
    if (env.kind !== "msg") {
      // Transport feedback to the sender (m.from is the sender, m.to the peer concerned).
      const sender = this.nodes.get(m.from)!;
      if (!sender.rn) return;
      if (env.kind === "snapReport") sender.rn.reportSnapshot(m.to, m.reject ? SnapshotStatus.Failure : SnapshotStatus.Finish);
      else sender.rn.reportUnreachable(m.to);
      this.maybeReady(sender);
      return;
    }
    const target = this.nodes.get(m.to)!;
    const ok = target.rn !== undefined && this.reachable(m.from, m.to) && !(this.lossRate > 0 && this.rng.chance(this.lossRate));
    if (m.type === MessageType.MsgSnap) {
      const report: Message = { ...m, from: m.from, to: m.to, reject: !ok, entries: [], snapshot: undefined };
      this.schedule(this.latency(), { kind: "snapReport", msg: report });
    } else if (!ok && this.rng.chance(0.2)) {
      this.schedule(1, { kind: "unreachable", msg: { ...m, entries: [], snapshot: undefined } });
    }
    if (!ok) return;
    const r = target.rn!.raft;
    const leaderTerm = r.state === StateType.Leader ? r.term : -1;
    const commitBefore = r.raftLog.committed;
    target.rn!.step(m);
    // Paper 5.4.2: a leader advances its commit index only onto an entry of its own term.
    if (r.state === StateType.Leader && r.term === leaderTerm && r.raftLog.committed > commitBefore) {
      if (r.raftLog.term(r.raftLog.committed) !== r.term) {
        throw new SafetyViolation(`leader ${target.id} of term ${r.term} committed ${r.raftLog.committed} from an earlier term by counting`);
      }
    }
    this.observeRole(target);
    this.maybeReady(target);
  }

  // ---- ready handling ------------------------------------------------------------------------------------

  private maybeReady(n: SimNode): void {
    // Sometimes leave the Ready pending until the end of the time unit: a crash may then lose it.
    if (this.rng.chance(0.8)) this.flush(n);
  }

  private observeRole(n: SimNode): void {
    if (!n.rn) return;
    const r = n.rn.raft;
    if (r.state === StateType.Leader) this.checker.observeLeader(n.id, r.term, r.raftLog);
  }

  /** Handles every pending Ready of n: persist, send, apply, advance; then maybe snapshot + compact. */
  flush(n: SimNode): void {
    const rn = n.rn;
    if (!rn) return;
    while (n.rn === rn && rn.hasReady()) {
      const rd = rn.ready();
      this.handleReady(n, rn, rd);
      // The node may have been removed (and stopped) while applying.
      if (n.rn !== rn) return;
      rn.advance(rd);
    }
    if (n.wantSnapshot || n.applied - n.storage.snapshot().metadata.index >= this.cfg.snapshotEvery) {
      n.wantSnapshot = false;
      if (n.applied > n.storage.snapshot().metadata.index) {
        n.storage.createSnapshot(n.applied, n.confState, encodeState(n.applied, n.hash));
        // Keep a few entries behind the snapshot now and then, so followers can still be served from the log.
        const keep = this.rng.pick([0, 0, 2, 5])!;
        const compactTo = n.applied - keep;
        if (compactTo >= n.storage.firstIndex()) n.storage.compact(compactTo);
        this.trace(() => `${n.id} snapshot at ${n.applied}, compacted to ${compactTo}`);
      }
    }
  }

  private handleReady(n: SimNode, rn: RawNode, rd: Ready): void {
    const log = rn.raft.raftLog;
    if (rd.softState) {
      this.trace(() => `${n.id} ${StateType[rd.softState!.raftState]} term ${rn.raft.term} lead ${rd.softState!.lead}`);
      if (rd.softState.raftState === StateType.Leader) this.stats.leaders++;
    }
    // 1. persist
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    this.checker.observeAppend(n.id, rd.entries, log);
    if (rd.hardState) {
      n.storage.setHardState(rd.hardState);
      if (rd.hardState.commit > n.commitSeen) {
        if (rn.raft.state === StateType.Leader) this.checkCommittedOnMajority(n, rn, rd.hardState.commit);
        this.checker.observeCommit(n.id, n.commitSeen, rd.hardState.commit, log);
        n.commitSeen = rd.hardState.commit;
      }
    }
    // 2. send
    for (const m of rd.messages) this.send(m);
    // 3. apply
    if (rd.snapshot) {
      const st = decodeState(rd.snapshot.data);
      n.applied = rd.snapshot.metadata.index;
      n.hash = st.hash;
      n.confState = rd.snapshot.metadata.confState;
      this.checker.observeSnapshot(n.id, n.applied, n.hash);
      this.trace(() => `${n.id} restored snapshot ${n.applied}`);
    }
    if (rd.committedEntries.length > 0) {
      this.trace(() => `${n.id} apply ${rd.committedEntries[0]!.index}..${rd.committedEntries.at(-1)!.index} (applied ${n.applied})`);
    }
    for (const e of rd.committedEntries) {
      if (n.rn !== rn) break;
      if (e.index !== n.applied + 1) throw new Error(`node ${n.id} applies ${e.index} after ${n.applied}`);
      n.applied = e.index;
      n.hash = hashStep(n.hash, entryIdentity(e));
      this.checker.observeApply(n.id, e, n.hash);
      if (e.type === EntryType.EntryConfChange) {
        const cc = decodeConfChange(e.data);
        n.confState = rn.applyConfChange(cc);
        n.wantSnapshot = true;
        if (e.index > this.globalConfIndex) this.onConfChangeCommitted(e.index, cc.type, cc.nodeId, n.confState);
      } else if (this.finalIndex === 0 && dataKey(e.data).startsWith("final")) {
        this.finalIndex = e.index;
      }
    }
    // 4. reads
    for (const rs of rd.readStates) {
      this.checker.observeReadAnswer(n.id, dataKey(rs.requestCtx), rs.index);
      this.stats.reads++;
    }
    this.observeRole(n);
  }

  /**
   * Commit rule, checked directly: an entry a leader commits is durably stored on a majority of the
   * voters of the leader's configuration (persisted storage; a snapshot covering it counts).
   */
  private checkCommittedOnMajority(leader: SimNode, rn: RawNode, index: number): void {
    const term = rn.raft.raftLog.term(index);
    if (term === undefined) return;
    const voters = rn.raft.prs.voters;
    let stored = 0;
    for (const v of voters) {
      const st = this.nodes.get(v)!.storage;
      if (st.snapshot().metadata.index >= index) stored++;
      else if (st.lastIndex() >= index && st.term(index) === term) stored++;
    }
    if (stored < Math.floor(voters.length / 2) + 1) {
      throw new SafetyViolation(`leader ${leader.id} committed ${index} (term ${term}) stored on only ${stored} of voters ${voters}`);
    }
  }

  /** The first node to apply a conf change: the cluster's membership changed. */
  private onConfChangeCommitted(index: number, type: ConfChangeType, id: NodeId, cs: ConfState): void {
    this.globalConfIndex = index;
    this.globalConf = cs;
    this.stats.confChanges++;
    this.trace(() => `conf change ${ConfChangeType[type]} ${id} committed at ${index}: voters ${cs.voters} learners ${cs.learners}`);
    const target = this.nodes.get(id)!;
    if (type === ConfChangeType.ConfChangeRemoveNode) {
      // A removed member shuts down (as etcd's does); it keeps its disk.
      target.removed = true;
      if (target.up) this.crash(target, -1);
      target.restartAt = -1;
    } else if (!target.up && (target.removed || target.incarnation === 0)) {
      // New (or re-added) member: start it; it learns the log from the leader.
      target.removed = false;
      this.start(target);
    }
  }

  // ---- client and operator actions -----------------------------------------------------------------------

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.rn && n.rn.raft.state === StateType.Leader && (!best || n.rn.raft.term > best.rn!.raft.term)) best = n;
    }
    return best;
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private propose(n: SimNode, data: string): boolean {
    try {
      n.rn!.propose(new TextEncoder().encode(data));
      this.trace(() => `${n.id} propose ${data}`);
      return true;
    } catch (e) {
      if (!isRaftError(e, "ErrProposalDropped")) throw e;
      return false;
    }
  }

  private randomEvent(): void {
    const r = this.rng;
    const live = this.liveNodes();
    if (live.length === 0) return;
    if (r.chance(this.rates.propose)) {
      const n = r.pick(live)!;
      this.propose(n, `w${this.opts.seed}-${++this.proposalSeq}`);
      this.maybeReady(n);
    }
    if (r.chance(this.rates.read)) {
      const n = r.pick(this.liveNodes());
      if (!n) return;
      const ctx = `r${++this.readSeq}`;
      this.checker.observeReadStart(ctx);
      n.rn!.readIndex(new TextEncoder().encode(ctx));
      this.maybeReady(n);
    }
    if (r.chance(this.rates.crash) && this.liveNodes().length > 1) {
      this.crash(r.pick(this.liveNodes())!, r.range(10, 200));
    }
    if (r.chance(this.rates.partition) && !this.partition) {
      const ids = [...this.nodes.keys()];
      const p = new Map<NodeId, number>();
      if (r.chance(0.5)) {
        const isolated = r.pick(ids)!;
        for (const id of ids) p.set(id, id === isolated ? 1 : 0);
      } else {
        for (const id of ids) p.set(id, r.int(2));
      }
      this.partition = p;
      this.partitionHealAt = this.now + r.range(10, this.rates.partitionMax);
      this.trace(() => `partition ${[...p].map(([id, g]) => `${id}:${g}`).join(" ")}`);
    }
    const leader = this.leader();
    if (leader && r.chance(0.004)) {
      const voters = leader.rn!.raft.prs.voters.filter((v) => v !== leader.id);
      const to = r.pick(voters);
      if (to !== undefined) {
        // Ask the leader, or sometimes a follower (forwarded).
        const via = r.chance(0.3) ? r.pick(this.liveNodes())! : leader;
        via.rn!.transferLeader(to);
        this.trace(() => `transfer leadership to ${to} via ${via.id}`);
        this.maybeReady(via);
      }
    }
    if (leader && r.chance(0.006)) this.randomConfChange(leader);
  }

  private randomConfChange(leader: SimNode): void {
    const r = this.rng;
    const raft = leader.rn!.raft;
    const voters = raft.prs.voters;
    const learners = raft.prs.learners;
    const outsiders = [...this.nodes.keys()].filter((id) => !voters.includes(id) && !learners.includes(id));
    const options: [ConfChangeType, NodeId][] = [];
    for (const id of outsiders) options.push([ConfChangeType.ConfChangeAddLearnerNode, id]);
    for (const id of learners) options.push([ConfChangeType.ConfChangeAddNode, id], [ConfChangeType.ConfChangeRemoveNode, id]);
    if (voters.length > 2) for (const id of voters) options.push([ConfChangeType.ConfChangeRemoveNode, id]);
    const choice = r.pick(options);
    if (!choice) return;
    try {
      leader.rn!.proposeConfChange({ type: choice[0], nodeId: choice[1], context: EMPTY_BYTES, id: 0n });
      this.trace(() => `${leader.id} propose ${ConfChangeType[choice[0]]} ${choice[1]}`);
    } catch (e) {
      if (!isRaftError(e, "ErrProposalDropped")) throw e;
    }
    this.maybeReady(leader);
  }

  // ---- driving -------------------------------------------------------------------------------------------

  /** Advances one time unit: ticks, deliveries, events, then flushes every node. */
  step(chaos: boolean): void {
    this.now++;
    for (const n of this.nodes.values()) {
      if (!n.rn && n.restartAt >= 0 && n.restartAt <= this.now && !n.removed) this.start(n);
    }
    if (this.partition && this.now >= this.partitionHealAt) {
      this.partition = undefined;
      this.trace(() => "partition healed");
    }
    for (const n of this.nodes.values()) {
      if (n.rn && (this.now + n.phase) % TICK === 0) {
        n.rn.tick();
        this.observeRole(n);
        this.maybeReady(n);
      }
    }
    const bucket = this.queue.get(this.now);
    if (bucket) {
      this.queue.delete(this.now);
      for (const env of this.rng.shuffle(bucket)) this.deliver(env);
    }
    if (chaos) this.randomEvent();
    for (const n of this.nodes.values()) this.flush(n);
  }

  /** Ends the chaos: heals the network, restarts crashed members, stops loss. */
  heal(): void {
    this.partition = undefined;
    this.lossRate = 0;
    this.dupRate = 0;
    for (const n of this.nodes.values()) {
      if (!n.up && !n.removed && this.isMember(n.id)) this.start(n);
    }
    this.trace(() => "healed");
  }

  /**
   * Liveness: after healing, a leader is elected and a final proposal is applied on every live member
   * within the budget. Throws when not.
   */
  checkLiveness(units: number): void {
    const deadline = this.now + units;
    let lastTry = -1000;
    while (this.now < deadline) {
      this.step(false);
      if (this.finalIndex === 0) {
        const leader = this.leader();
        if (leader && this.now - lastTry > 20 * TICK) {
          if (this.propose(leader, `final${this.opts.seed}-${this.now}`)) lastTry = this.now;
          this.flush(leader);
        }
        continue;
      }
      const members = [...this.nodes.values()].filter((n) => this.isMember(n.id));
      if (members.every((n) => n.up && n.applied >= this.finalIndex)) return;
    }
    const state = [...this.nodes.values()]
      .map((n) => {
        const r = n.rn?.raft;
        return `${n.id}:${r ? `${StateType[r.state]} t${r.term} commit ${r.raftLog.committed} applied ${n.applied} last ${r.raftLog.lastIndex()}` : n.removed ? "removed" : "down"}`;
      })
      .join("; ");
    throw new Error(
      `liveness: no final proposal applied on all members within ${units} units (final index ${this.finalIndex}; members ${this.globalConf.voters}/${this.globalConf.learners}; ${state})`,
    );
  }

  /** Runs the whole scenario: chaos, heal, liveness. */
  run(): SimResult {
    for (let i = 0; i < this.opts.chaosUnits; i++) this.step(true);
    this.heal();
    this.checkLiveness(this.opts.livenessUnits ?? 1000 * TICK);
    this.stats.checks = this.checker.checks;
    this.stats.proposalsCommitted = this.checker.writesApplied;
    return this.stats;
  }
}
