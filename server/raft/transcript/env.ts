/**
 * The world a transcript drives: RawNodes on MemoryStorage, a message queue between them that is
 * delivered only when a command says so, and a network that can isolate nodes. Every command
 * returns the lines it printed: the Raft logger's lines (`INFO …`, `WARN …`), each Ready handled
 * (server/raft/transcript/describe.ts) and each message delivered or dropped.
 *
 * Commands (node IDs are small numbers; options are `key=value`):
 * - `add-nodes <n> [prevote=true] [checkquorum=true] [read-only=lease] [join=true]`: n new nodes with
 *   the next IDs; they bootstrap one cluster of themselves as voters (their bootstrap Ready is
 *   handled silently), or with `join=true` start empty, to be added by a conf change.
 * - `campaign <id>`, `propose <id> <text>`, `read-index <id> <ctx>`, `transfer-leader <from> <to>`,
 *   `propose-conf-change <id> add|add-learner|remove <node>`
 * - `tick <id> [n]`, `tick-heartbeat <id>`, `tick-election <id>` (exactly the node's randomized
 *   election timeout).
 * - `process-ready <id>…`: persist, apply and queue the messages of one Ready per node.
 * - `deliver-msgs <id>…`: step every queued message addressed to these nodes, in send order; a
 *   delivered MsgSnap is reported to its sender as finished, a dropped one as failed.
 * - `stabilize [id…]`: process-ready and deliver-msgs until nothing is left to do.
 * - `isolate <id>` (messages from and to it are lost), `heal`.
 * - `status <id>`, `raft-log <id>`, `compact <id> <index>` (snapshot at index, then drop the log up
 *   to it).
 *
 * Deterministic: election timeouts come from each node's default PRNG seeded by its ID.
 */
import { RawNode, SnapshotStatus } from "../node.ts";
import { MemoryStorage } from "../memory-storage.ts";
import { ProgressState } from "../progress.ts";
import type { RaftLogger } from "../raft.ts";
import { ReadOnlyOption } from "../read-only.ts";
import { ConfChangeType, EMPTY_BYTES, EntryType, type Message, MessageType, StateType } from "../types.ts";
import { decodeConfChange } from "../wire.ts";
import { describeConfState, describeEntry, describeMessage, describeReady } from "./describe.ts";
import type { ParsedCommand } from "./format.ts";

/** Election timeout of transcript nodes, ticks (randomized in [3, 6)). */
const ELECTION_TICK = 3;
/** Heartbeat interval of transcript nodes, ticks. */
const HEARTBEAT_TICK = 1;
/** Rounds of `stabilize` before it gives up: a transcript that never settles is a bug. */
const MAX_STABILIZE_ROUNDS = 1000;

const encoder = new TextEncoder();

const CONF_CHANGE_TYPES: Record<string, ConfChangeType> = {
  add: ConfChangeType.ConfChangeAddNode,
  "add-learner": ConfChangeType.ConfChangeAddLearnerNode,
  remove: ConfChangeType.ConfChangeRemoveNode,
};

interface TranscriptNode {
  node: RawNode;
  storage: MemoryStorage;
}

/** One transcript's nodes, queue and network; `run` executes one command. */
export class TranscriptEnv {
  private readonly nodes = new Map<number, TranscriptNode>();
  private queue: Message[] = [];
  private readonly isolated = new Set<number>();
  private out: string[] = [];
  private readonly logger: RaftLogger = {
    debug: () => {},
    info: (msg) => this.out.push(`INFO ${msg}`),
    warn: (msg) => this.out.push(`WARN ${msg}`),
  };

  /** Runs one command; returns its output lines (`ok` when it printed nothing). Throws on a bad command. */
  run(cmd: ParsedCommand): string[] {
    this.out = [];
    const ids = () => cmd.words.map(Number);
    const one = () => this.get(Number(cmd.words[0]));
    switch (cmd.name) {
      case "add-nodes":
        this.addNodes(Number(cmd.words[0]), cmd.options);
        break;
      case "campaign":
        one().node.campaign();
        break;
      case "propose":
        this.dropped(() => one().node.propose(encoder.encode(cmd.words[1] ?? "")));
        break;
      case "propose-conf-change": {
        const type = CONF_CHANGE_TYPES[cmd.words[1] ?? ""];
        if (type === undefined) throw new Error(`unknown conf change "${cmd.words[1]}"`);
        this.dropped(() => one().node.proposeConfChange({ type, nodeId: BigInt(cmd.words[2]!), context: EMPTY_BYTES, id: 0n }));
        break;
      }
      case "read-index":
        one().node.readIndex(encoder.encode(cmd.words[1] ?? ""));
        break;
      case "transfer-leader":
        one().node.transferLeader(BigInt(cmd.words[1]!));
        break;
      case "tick":
        for (let i = 0; i < Number(cmd.words[1] ?? 1); i++) one().node.tick();
        break;
      case "tick-heartbeat":
        for (let i = 0; i < HEARTBEAT_TICK; i++) one().node.tick();
        break;
      case "tick-election": {
        const n = one().node;
        for (let i = n.raft.randomizedElectionTimeout; i > 0; i--) n.tick();
        break;
      }
      case "process-ready":
        for (const id of ids()) this.processReady(id);
        break;
      case "deliver-msgs":
        for (const id of ids()) this.deliver(id);
        break;
      case "stabilize":
        this.stabilize(cmd.words.length > 0 ? ids() : [...this.nodes.keys()]);
        break;
      case "isolate":
        this.isolated.add(Number(cmd.words[0]));
        break;
      case "heal":
        this.isolated.clear();
        break;
      case "status":
        this.status(Number(cmd.words[0]));
        break;
      case "raft-log":
        this.raftLog(Number(cmd.words[0]));
        break;
      case "compact":
        this.compact(Number(cmd.words[0]), Number(cmd.words[1]));
        break;
      default:
        throw new Error(`unknown command "${cmd.name}"`);
    }
    return this.out.length > 0 ? this.out : ["ok"];
  }

  private get(id: number): TranscriptNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Runs a proposal; a dropped one is printed, as an application would see the error. */
  private dropped(propose: () => void): void {
    try {
      propose();
    } catch (e) {
      this.out.push(`error: ${(e as Error).message || (e as { code?: string }).code}`);
    }
  }

  private addNodes(count: number, options: Map<string, string>): void {
    const first = this.nodes.size + 1;
    const ids = Array.from({ length: count }, (_, i) => first + i);
    for (const id of ids) {
      const storage = new MemoryStorage();
      const node = new RawNode({
        id: BigInt(id),
        electionTick: ELECTION_TICK,
        heartbeatTick: HEARTBEAT_TICK,
        storage,
        preVote: options.get("prevote") === "true",
        checkQuorum: options.get("checkquorum") === "true",
        readOnlyOption: options.get("read-only") === "lease" ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        logger: this.logger,
      });
      this.nodes.set(id, { node, storage });
      if (options.get("join") === "true") continue;
      node.bootstrap(ids.map((p) => ({ id: BigInt(p) })));
      const rd = node.ready();
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      node.advance(rd);
    }
  }

  /** Handles one Ready of node `id`: persist, apply, queue its messages (the order of node.ts). */
  private processReady(id: number): void {
    const { node, storage } = this.get(id);
    if (!node.hasReady()) return;
    const rd = node.ready();
    this.out.push(`> ${id} handling Ready`, ...describeReady(rd));
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) {
      if (e.type !== EntryType.EntryConfChange) continue;
      const cs = node.applyConfChange(decodeConfChange(e.data));
      this.out.push(`  applied ${describeEntry(e)}: ${describeConfState(cs)}`);
    }
    // A partition loses what is sent across it: an isolated node's messages never leave it, and
    // messages to one are lost (also those queued before the isolation, at delivery).
    if (this.isolated.has(id) && rd.messages.length > 0) {
      this.out.push(`  dropped: these ${rd.messages.length} messages (${id} is isolated)`);
      for (const m of rd.messages) if (m.type === MessageType.MsgSnap) node.reportSnapshot(m.to, SnapshotStatus.Failure);
    } else {
      for (const m of rd.messages) {
        if (this.isolated.has(Number(m.to))) this.drop(m);
        else this.queue.push(m);
      }
    }
    node.advance(rd);
  }

  /** Steps every queued message addressed to `id`, oldest first. */
  private deliver(id: number): void {
    const mine = this.queue.filter((m) => Number(m.to) === id);
    if (mine.length === 0) return;
    this.queue = this.queue.filter((m) => Number(m.to) !== id);
    this.out.push(`> ${id} receiving messages`);
    for (const m of mine) {
      if (this.isolated.has(id) || this.isolated.has(Number(m.from)) || !this.nodes.has(id)) {
        this.drop(m);
        continue;
      }
      this.out.push(`  ${describeMessage(m)}`);
      this.get(id).node.step(m);
      if (m.type === MessageType.MsgSnap) this.nodes.get(Number(m.from))?.node.reportSnapshot(m.to, SnapshotStatus.Finish);
    }
  }

  /** Prints a lost message; a lost snapshot is reported to its sender as failed, as a transport does. */
  private drop(m: Message): void {
    this.out.push(`  dropped: ${describeMessage(m)}`);
    if (m.type === MessageType.MsgSnap) this.nodes.get(Number(m.from))?.node.reportSnapshot(m.to, SnapshotStatus.Failure);
  }

  private stabilize(ids: number[]): void {
    for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
      let busy = false;
      for (const id of ids) {
        if (this.get(id).node.hasReady()) {
          this.processReady(id);
          busy = true;
        }
      }
      for (const id of ids) {
        if (this.queue.some((m) => Number(m.to) === id)) {
          this.deliver(id);
          busy = true;
        }
      }
      if (!busy) return;
    }
    throw new Error(`stabilize did not settle in ${MAX_STABILIZE_ROUNDS} rounds`);
  }

  private status(id: number): void {
    const st = this.get(id).node.status();
    const hs = st.hardState;
    this.out.push(`${id}: ${StateType[st.softState.raftState]} term=${hs.term} vote=${hs.vote} lead=${st.softState.lead} commit=${hs.commit} applied=${st.applied} ${describeConfState(st.confState)}`);
    const progress = [...(st.progress ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [peer, pr] of progress) {
      const flags = [pr.isLearner ? " learner" : "", pr.pendingSnapshot ? ` pendingSnapshot=${pr.pendingSnapshot}` : "", pr.inflight ? ` inflight=${pr.inflight}` : ""].join("");
      this.out.push(`  ${peer}: ${ProgressState[pr.state]} match=${pr.match} next=${pr.next}${flags}`);
    }
  }

  private raftLog(id: number): void {
    const { storage } = this.get(id);
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last < first) {
      this.out.push(`log empty (snapshot at ${storage.snapshot().metadata.index})`);
      return;
    }
    for (const e of storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) this.out.push(describeEntry(e));
  }

  private compact(id: number, index: number): void {
    const { node, storage } = this.get(id);
    const st = node.status();
    if (index > st.applied) throw new Error(`compact ${index}: node ${id} applied only ${st.applied}`);
    storage.createSnapshot(index, st.confState, EMPTY_BYTES);
    storage.compact(index);
    this.out.push(`snapshot at ${index}; log now starts at ${storage.firstIndex()}`);
  }
}
