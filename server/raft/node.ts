/**
 * RawNode: the application's handle on a Raft node, with the Ready/Advance contract.
 *
 * Inputs: tick() (one unit of logical time), step(message from a peer), propose()/proposeConfChange(),
 * readIndex(), transferLeader(), reportSnapshot()/reportUnreachable().
 *
 * Outputs, through the Ready/Advance loop:
 *
 *   while (node.hasReady()) {
 *     const rd = node.ready();
 *     // 1. persist, in this order, atomically if you can (fsync when rd.mustSync):
 *     if (rd.snapshot) storage.applySnapshot(rd.snapshot);
 *     storage.append(rd.entries);
 *     if (rd.hardState) storage.setHardState(rd.hardState);
 *     // 2. only then send rd.messages to their peers (MsgSnap: report the outcome with reportSnapshot());
 *     // 3. apply rd.snapshot (if any) and then rd.committedEntries to the state machine, in order; for an
 *     //    EntryConfChange entry call node.applyConfChange(decodeConfChange(entry.data));
 *     // 4. serve rd.readStates once the applied index reaches each one's index;
 *     node.advance(rd);
 *   }
 *
 * Contract: call advance(rd) exactly once after handling each ready(), before the next ready(). Entries
 * handed out in rd.entries belong to stable storage from then on; rd.committedEntries are considered
 * applied at advance(). Nothing is ever sent, stored or applied by the node itself.
 * A leader (rd.softState / status() says Leader) may send rd.messages before its own write of rd.entries
 * finishes (thesis 10.2.1: it counts itself for commitment, which is safe because the commit index only
 * leaves the node in a later Ready, i.e. after this write and advance()); every other node must persist
 * first. rd.snapshot must be stored (Storage.applySnapshot) and installed in the state machine before
 * applying rd.committedEntries, which then continue from its index. After a MsgSnap is sent, report its
 * outcome with reportSnapshot() or the follower stays paused.
 *
 * Mirrors go.etcd.io/etcd/raft/rawnode.go and node.go (Ready) in behaviour.
 */
import { RaftError } from "./errors.ts";
import { type Progress, ProgressState } from "./progress.ts";
import { Raft, type RaftConfig } from "./raft.ts";
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  None,
  type ReadState,
  type Snapshot,
  type SoftState,
  StateType,
  EMPTY_BYTES,
  hardStateEqual,
  isEmptyHardState,
  isLocalMessage,
  isResponseMessage,
  makeMessage,
} from "./types.ts";
import { encodeConfChange } from "./wire.ts";

/** Everything the application must persist, send and apply; see the module docstring for the order. */
export interface Ready {
  /** Leader or role changed (informational, not persisted). */
  softState?: SoftState;
  /** Term/vote/commit changed: persist before sending messages. */
  hardState?: HardState;
  /** Answers to readIndex() requests made on this node. */
  readStates: ReadState[];
  /** Log entries to append to stable storage before sending messages. */
  entries: Entry[];
  /** Snapshot received from the leader: persist it and restore the state machine from it. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in index order (they may overlap `entries`: persist first). */
  committedEntries: Entry[];
  /** Messages to send after persisting. */
  messages: Message[];
  /** True when hardState term/vote or entries changed: the write must be fsynced. */
  mustSync: boolean;
}

/** Outcome of a snapshot transfer, reported by the transport. */
export enum SnapshotStatus {
  Finish = 1,
  Failure = 2,
}

/** Replication view of one member as seen by the leader. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  pendingSnapshot: number;
  inflight: number;
}

/** Snapshot of a node's state for monitoring and tests. */
export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Leader only: every member's progress. */
  progress?: Map<NodeId, ProgressStatus>;
}

function progressStatus(pr: Progress): ProgressStatus {
  return {
    match: pr.match,
    next: pr.next,
    state: pr.state,
    isLearner: pr.isLearner,
    recentActive: pr.recentActive,
    pendingSnapshot: pr.pendingSnapshot,
    inflight: pr.inflights.length,
  };
}

export class RawNode {
  /** The state machine (exposed for tests and invariant checks; do not mutate). */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  /**
   * Creates a node from its config; Storage supplies the persisted hard state, log and snapshot (restart),
   * or is empty (then call bootstrap(), or wait to be added by a leader).
   * Throws RaftError ErrInvalidConfig on a bad config.
   */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * First start of a new cluster: appends one committed ConfChangeAddNode entry per peer at term 1 (indexes
   * 1..n) and applies them, so the node can campaign at once. The entries come back in the first Ready
   * (entries and committedEntries); applying them again is harmless. Throws ErrInvalidConfig when Storage is
   * not empty or peers is empty.
   */
  bootstrap(peers: { id: NodeId; context?: Uint8Array }[]): void {
    if (peers.length === 0) throw new RaftError("ErrInvalidConfig", "must provide at least one peer to bootstrap");
    const r = this.raft;
    if (r.raftLog.storage.lastIndex() !== 0) throw new RaftError("ErrInvalidConfig", "can't bootstrap a nonempty Storage");
    this.prevHardState = { term: 0, vote: None, commit: 0 };
    r.becomeFollower(1, None);
    const ents: Entry[] = peers.map((p, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.EntryConfChange,
      data: encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id, context: p.context ?? EMPTY_BYTES, id: 0n }),
    }));
    r.raftLog.append(ents);
    r.raftLog.committed = ents.length;
    for (const p of peers) {
      r.applyConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id, context: EMPTY_BYTES, id: 0n });
    }
  }

  /** Advances logical time by one tick (election and heartbeat timeouts are counted in ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (subject to PreVote when enabled). */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.MsgHup }));
  }

  /**
   * Proposes `data` for appending to the log. Throws RaftError ErrProposalDropped when it cannot be accepted
   * here (no known leader, leadership transfer in progress, ...). Acceptance is not commitment: a forwarded
   * or uncommitted proposal may still be lost; watch committedEntries.
   */
  propose(data: Uint8Array): void {
    this.raft.step(
      makeMessage({
        type: MessageType.MsgProp,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data }],
      }),
    );
  }

  /**
   * Proposes a single-member configuration change. Throws ErrProposalDropped as propose() does, and also
   * when (at the leader) another conf change is still unapplied or no entry of the leader's term is
   * committed yet.
   */
  proposeConfChange(cc: ConfChange): void {
    this.raft.step(
      makeMessage({
        type: MessageType.MsgProp,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.EntryConfChange, data: encodeConfChange(cc) }],
      }),
    );
  }

  /** Applies a committed conf change (call while applying its entry); returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Steps a message received from a peer. Throws ErrStepLocalMsg for local-only message types. Responses
   * from nodes outside the configuration and proposals that cannot be accepted are dropped silently
   * (returns false), as a transport has no one to report them to.
   */
  step(m: Message): boolean {
    if (isLocalMessage(m.type)) throw new RaftError("ErrStepLocalMsg");
    if (isResponseMessage(m.type) && !this.raft.prs.progress.has(m.from)) return false;
    try {
      this.raft.step(m);
      return true;
    } catch (e) {
      if (e instanceof RaftError && e.code === "ErrProposalDropped") return false;
      throw e;
    }
  }

  /** True when ready() would return something to persist, send or apply. */
  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.unstable.snapshot) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length > 0;
  }

  /** Collects the pending outputs; messages and read states are handed over (not repeated). */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries().slice(),
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    rd.mustSync = rd.entries.length > 0 || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** Tells the node that `rd` was persisted, sent and applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    let applied = 0;
    if (rd.committedEntries.length > 0) applied = rd.committedEntries[rd.committedEntries.length - 1]!.index;
    else if (rd.snapshot) applied = rd.snapshot.metadata.index;
    if (applied > 0) r.raftLog.appliedTo(applied);
    r.reduceUncommittedSize(rd.committedEntries);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  /** Current state (with per-member progress when leader). */
  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      confState: r.prs.confState(),
    };
    if (r.state === StateType.Leader) {
      st.progress = new Map();
      r.prs.visit((id, pr) => st.progress!.set(id, progressStatus(pr)));
    }
    return st;
  }

  /** The transport failed to deliver to `id` (the leader falls back to probing it). */
  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** A MsgSnap to `id` was delivered (Finish) or not (Failure); the leader resumes replication to it. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(makeMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === SnapshotStatus.Failure }));
  }

  /**
   * Asks the leader to hand leadership to `transferee` (thesis 3.10): it catches the transferee up and
   * sends MsgTimeoutNow; proposals are dropped meanwhile; abandoned after an election timeout.
   */
  transferLeader(transferee: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Requests a linearizable read point (thesis 6.4). `ctx` must be unique per request; the answer arrives
   * as a ReadState with the same requestCtx in a later Ready. Dropped silently when no leader is known
   * (the caller retries after a timeout).
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(makeMessage({ type: MessageType.MsgReadIndex, entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data: ctx }] }));
  }
}
