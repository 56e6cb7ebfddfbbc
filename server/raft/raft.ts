/**
 * Raft: the consensus state machine (roles, step, tick) of one node. Pure: no I/O, no timers, no
 * ambient randomness. Time advances only through tick(); randomness (election timeout jitter) comes from
 * the injected Config.random. Outputs accumulate in `msgs`, `readStates` and the log's unstable part, and
 * are drained by RawNode (node.ts) as a Ready.
 *
 * Implements (Raft paper + Ongaro's thesis): leader election with randomized timeouts (paper 5.2), PreVote
 * (thesis 9.6), CheckQuorum / leader lease (thesis 6.2, 9.6), log replication with the consistency check and
 * fast back-off (paper 5.3), flow control (Progress probe/replicate/snapshot + inflight window), commitment
 * of current-term entries only (paper 5.4.2), ReadIndex (thesis 6.4), leadership transfer (thesis 3.10),
 * learners (thesis 4.2.1), single-member configuration changes applied from the log (thesis 4.1), snapshots
 * and InstallSnapshot (paper 7).
 *
 * Mirrors go.etcd.io/etcd/raft/raft.go in behaviour and naming.
 */
import { applySimpleChange, restoreConfState } from "./confchange.ts";
import { RaftError, isRaftError } from "./errors.ts";
import { RaftLog } from "./log.ts";
import { Prng } from "./prng.ts";
import { Progress, ProgressState } from "./progress.ts";
import { VoteResult } from "./quorum.ts";
import { ReadOnly, ReadOnlyOption } from "./read-only.ts";
import type { Storage } from "./storage.ts";
import { ProgressTracker } from "./tracker.ts";
import {
  type ConfChange,
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
  isEmptyHardState,
  isEmptySnapshot,
  makeMessage,
  payloadSize,
} from "./types.ts";

/** Minimal logger; every method optional in spirit (default: silent). */
export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {} };

/**
 * Source of randomness: returns an integer in [0, n). Must be deterministic for replayable tests; see
 * prng.ts for a seeded one.
 */
export type RandomInt = (n: number) => number;

/** Parameters of a Raft node. Units: ticks for timeouts, bytes for sizes. */
export interface RaftConfig {
  /** This node's ID (non-zero). */
  id: NodeId;
  /** Ticks without hearing from a leader before campaigning; randomized in [electionTick, 2*electionTick). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  /** Persisted log, hard state and snapshot (read-only for Raft). */
  storage: Storage;
  /** Last applied index when restarting (entries <= applied are not handed out again). Default 0. */
  applied?: number;
  /** Max bytes of entries per MsgApp (at least one entry is always sent). Default 1 MiB; 0 = one entry. */
  maxSizePerMsg?: number;
  /** Max bytes of committed entries per Ready. Default maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Max bytes of uncommitted payload in a leader's log before proposals are dropped. Default Infinity. */
  maxUncommittedEntriesSize?: number;
  /** Max in-flight MsgApps per follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Leader steps down when it did not hear from a quorum within an election timeout. Default false. */
  checkQuorum?: boolean;
  /** Run a PreVote round before incrementing the term. Default false. */
  preVote?: boolean;
  /** ReadIndex confirmation mode. Default Safe. */
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  disableProposalForwarding?: boolean;
  /** Randomness for election timeouts. Default: a PRNG seeded from `id` (deterministic). */
  random?: RandomInt;
  logger?: RaftLogger;
  /**
   * Tests only: initial voters/learners when Storage has no membership yet (etcd's unexported `peers`).
   * Production code bootstraps through RawNode.bootstrap().
   */
  peers?: NodeId[];
  learners?: NodeId[];
}

/** Kinds of campaign: PreVote phase, real election, or forced by a leadership transfer. */
export enum CampaignType {
  PreElection = "CampaignPreElection",
  Election = "CampaignElection",
  Transfer = "CampaignTransfer",
}

const TRANSFER_CONTEXT = new TextEncoder().encode(CampaignType.Transfer);

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

function voteRespType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new Error(`not a vote message: ${MessageType[t]}`);
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = None;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  prs: ProgressTracker;
  state: StateType = StateType.Follower;
  /** This node is a learner in the current configuration. */
  isLearner = false;
  /** Messages to send (drained by RawNode.ready()). */
  msgs: Message[] = [];
  /** Current leader, None when unknown. */
  lead: NodeId = None;
  /** Target of a leadership transfer in progress (thesis 3.10), None otherwise. */
  leadTransferee: NodeId = None;
  /** A conf change may be pending up to this index; new ones are refused until applied passes it. */
  pendingConfIndex = 0;
  /** Payload bytes of the uncommitted tail (leader only). */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Ticks since the last election timeout (or, for followers, since hearing from the leader). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Current randomized election timeout in [electionTimeout, 2*electionTimeout). */
  randomizedElectionTimeout = 0;
  private readonly disableProposalForwarding: boolean;
  private readonly random: RandomInt;
  private readonly logger: RaftLogger;
  /** ReadIndex requests held until the leader commits an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];

  constructor(c: RaftConfig) {
    if (c.id === None) throw new RaftError("ErrInvalidConfig", "cannot use none as id");
    if (!(c.heartbeatTick > 0)) throw new RaftError("ErrInvalidConfig", "heartbeat tick must be greater than 0");
    if (!(c.electionTick > c.heartbeatTick)) {
      throw new RaftError("ErrInvalidConfig", "election tick must be greater than heartbeat tick");
    }
    const maxInflight = c.maxInflightMsgs ?? 256;
    if (!(maxInflight > 0)) throw new RaftError("ErrInvalidConfig", "max inflight messages must be greater than 0");
    const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe;
    if (readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
      throw new RaftError("ErrInvalidConfig", "CheckQuorum must be enabled when ReadOnlyOption is LeaseBased");
    }
    this.id = c.id;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || Infinity;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady || this.maxMsgSize || Infinity);
    this.prs = new ProgressTracker(maxInflight);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.readOnly = new ReadOnly(readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.random = c.random ?? new Prng(Number(c.id & 0xffffffffn)).int;
    this.logger = c.logger ?? silentLogger;

    const { hardState, confState } = c.storage.initialState();
    let cs = confState;
    if ((c.peers?.length ?? 0) > 0 || (c.learners?.length ?? 0) > 0) {
      if (cs.voters.length > 0 || cs.learners.length > 0) {
        throw new RaftError("ErrInvalidConfig", "cannot specify both peers/learners and a stored ConfState");
      }
      cs = { voters: c.peers ?? [], learners: c.learners ?? [] };
    }
    restoreConfState(this.prs, cs, this.raftLog.lastIndex());
    this.afterConfigSwitch();
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, None);
  }

  hasLeader(): boolean {
    return this.lead !== None;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  // ---- sending -------------------------------------------------------------------------------------------

  /** Queues a message, stamping `from` and (for non-vote messages other than MsgProp/MsgReadIndex) the term. */
  private send(m: Message): void {
    // A forwarded transfer request keeps its transferee in `from`; everything else is from us.
    if (m.type !== MessageType.MsgTransferLeader || m.from === None) m.from = this.id;
    const t = m.type;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      if (m.term === 0) throw new Error(`term should be set when sending ${MessageType[t]}`);
    } else {
      if (m.term !== 0) throw new Error(`term should not be set when sending ${MessageType[t]} (was ${m.term})`);
      // Proposals and read requests are forwarded as if they were local: no term attached.
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (or snapshot) to `to`, even without new entries (carries the commit index). */
  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends entries from pr.next (at most maxSizePerMsg bytes) unless flow control pauses the follower; falls
   * back to a snapshot when pr.next-1 is compacted. Returns true when a message was queued.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const term = this.raftLog.term(pr.next - 1);
    const ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    if ((ents === undefined || ents.length === 0) && !sendIfEmpty) return false;

    if (term === undefined || ents === undefined) {
      // The entries are compacted: send a snapshot instead.
      if (!pr.recentActive) {
        this.logger.debug(`${this.id} ignore sending snapshot to ${to} since it is not recently active`);
        return false;
      }
      let snapshot: Snapshot;
      try {
        snapshot = this.raftLog.snapshot();
      } catch (e) {
        if (isRaftError(e, "ErrSnapshotTemporarilyUnavailable")) {
          this.logger.debug(`${this.id} failed to send snapshot to ${to}: temporarily unavailable`);
          return false;
        }
        throw e;
      }
      if (isEmptySnapshot(snapshot)) throw new Error("need non-empty snapshot");
      pr.becomeSnapshot(snapshot.metadata.index);
      this.send(makeMessage({ type: MessageType.MsgSnap, to, snapshot }));
      return true;
    }

    const m = makeMessage({
      type: MessageType.MsgApp,
      to,
      index: pr.next - 1,
      logTerm: term,
      entries: ents,
      commit: this.raftLog.committed,
    });
    if (ents.length > 0) {
      if (pr.state === ProgressState.Replicate) {
        const last = ents[ents.length - 1]!.index;
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else if (pr.state === ProgressState.Probe) {
        pr.probeSent = true;
      } else {
        throw new Error(`${this.id} is sending append in unhandled state ${pr.state}`);
      }
    }
    this.send(m);
    return true;
  }

  /** Heartbeat carrying min(match, committed): never advance a follower's commit past what it matched. */
  private sendHeartbeat(to: NodeId, ctx: Uint8Array): void {
    const commit = Math.min(this.prs.progress.get(to)!.match, this.raftLog.committed);
    this.send(makeMessage({ type: MessageType.MsgHeartbeat, to, commit, context: ctx }));
  }

  /** Sends appends to every other member. */
  bcastAppend(): void {
    this.prs.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  /** Heartbeats to every other member, piggybacking the newest pending ReadIndex context. */
  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES);
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    this.prs.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---- state transitions ---------------------------------------------------------------------------------

  /** Tries to advance the commit index from the voters' match indexes; true when it moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, old] of [...this.prs.progress]) {
      const pr = new Progress(last + 1, this.prs.maxInflight, old.isLearner);
      if (id === this.id) pr.match = last;
      this.prs.progress.set(id, pr);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  /** Appends proposals to the leader's log; false when the uncommitted-size limit drops them. */
  private appendEntry(es: Entry[]): boolean {
    // Fresh entry objects: the proposal's own objects may be shared (e.g. a duplicated message).
    const li = this.raftLog.lastIndex();
    es = es.map((e, i) => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    if (!this.increaseUncommittedSize(es)) {
      this.logger.debug(`${this.id} appending new entries would exceed uncommitted size limit; dropping proposal`);
      return false;
    }
    const newLast = this.raftLog.append(es);
    this.prs.progress.get(this.id)?.maybeUpdate(newLast);
    this.maybeCommit();
    return true;
  }

  /** Advances time by one tick (followers/candidates: election timer; leader: heartbeat + quorum check). */
  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new Error("invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new Error("invalid transition [leader -> pre-candidate]");
    // Neither the term nor the vote changes in the PreVote phase.
    this.prs.resetVotes();
    this.lead = None;
    this.state = StateType.PreCandidate;
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new Error("invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Conservatively treat everything in the log as a possibly pending conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const noop: Entry = { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES };
    if (!this.appendEntry([noop])) throw new Error("empty entry was dropped");
    // The no-op does not count against the uncommitted quota (it has no payload anyway).
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  /** Starts an election (MsgHup), unless committed-but-unapplied conf changes are pending. */
  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.raftLog.committed > this.raftLog.applied) {
      const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, Infinity) ?? [];
      if (ents.some((e) => e.type === EntryType.EntryConfChange)) {
        this.logger.warn(`${this.id} cannot campaign at term ${this.term}: pending configuration changes to apply`);
        return;
      }
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // PreVotes are sent for the next term without incrementing ours.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespType(voteMsg), true) === VoteResult.Won) {
      // Single voter: won already.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.prs.voters) {
      if (id === this.id) continue;
      this.send(
        makeMessage({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? TRANSFER_CONTEXT : EMPTY_BYTES,
        }),
      );
    }
  }

  private poll(id: NodeId, t: MessageType, granted: boolean): VoteResult {
    this.logger.info(`${this.id} received ${MessageType[t]}${granted ? "" : " rejection"} from ${id} at term ${this.term}`);
    this.prs.recordVote(id, granted);
    return this.prs.tallyVotes().result;
  }

  // ---- step ----------------------------------------------------------------------------------------------

  /**
   * Feeds one message (from a peer, or a local one such as MsgHup/MsgProp) into the state machine.
   * Throws RaftError ErrProposalDropped when a proposal cannot be accepted (no leader, leadership transfer
   * in progress, forwarding disabled, uncommitted limit, node removed, or a conf change refused).
   */
  step(m: Message): void {
    // Term handling (paper 5.1): newer terms demote us, older ones are mostly ignored.
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = isTransferContext(m.context);
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Thesis 4.2.3: while we hear from a current leader, ignore disruptive vote requests.
          this.logger.info(`${this.id} ignored ${MessageType[m.type]} from ${m.from} at term ${this.term}: lease is not expired`);
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a PreVote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term we asked for; the term moves when we win.
      } else {
        const leaderMsg = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
        this.becomeFollower(m.term, leaderMsg ? m.from : None);
      }
    } else if (m.term < this.term) {
      if (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp) {
        // A stale leader (or one cut off while we moved on): tell it our term so it steps down (paper 5.1:
        // a stale request is rejected with the current term). etcd answers only with CheckQuorum/PreVote,
        // which can leave a leader unaware of a member stuck at a higher term that does not know the leader
        // is a voter (it then never sends it a vote request); the simulation found that livelock.
        this.send(makeMessage({ type: MessageType.MsgAppResp, to: m.from }));
      } else if (m.type === MessageType.MsgPreVote || m.type === MessageType.MsgVote) {
        // Reject with our term so the candidate catches up (paper 5.1). etcd stays silent for MsgVote; the
        // simulation found that two candidates with different configurations then never converge on a term.
        this.send(makeMessage({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
      } else {
        this.logger.debug(`${this.id} [term: ${this.term}] ignored a ${MessageType[m.type]} with lower term from ${m.from} [term: ${m.term}]`);
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        const canVote =
          // a repeat of a vote we already cast,
          this.vote === m.from ||
          // or we have not voted and know no leader in this term,
          (this.vote === None && this.lead === None) ||
          // or a PreVote for a future term.
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        // Learners vote too: a promotion may be committed before the learner learns about it.
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // Answer with the request's term so that a pre-candidate does not ignore the answer.
          this.send(makeMessage({ type: voteRespType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(makeMessage({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        if (this.state === StateType.Leader) this.stepLeader(m);
        else if (this.state === StateType.Follower) this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum: {
        const self = this.prs.progress.get(this.id);
        if (self) self.recentActive = true;
        if (!this.prs.quorumActive()) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, None);
        }
        this.prs.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      }
      case MessageType.MsgProp:
        this.leaderPropose(m);
        return;
      case MessageType.MsgReadIndex:
        // Thesis 6.4 step 1: the leader must have committed an entry of its term to know the commit index.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendReadIndexResponse(m);
        return;
    }

    const pr = this.prs.progress.get(m.from);
    if (!pr) {
      this.logger.debug(`${this.id} no progress available for ${m.from}`);
      return;
    }
    switch (m.type) {
      case MessageType.MsgAppResp:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.MsgHeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) {
          // Failed: forget the snapshot index so probing restarts from match.
          pr.pendingSnapshot = 0;
        }
        pr.becomeProbe();
        // Finished: wait for the follower's MsgAppResp; failed: wait a heartbeat before retrying.
        pr.probeSent = true;
        return;
      case MessageType.MsgUnreachable:
        // In replicate state a message was probably lost: fall back to probing.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) {
          this.logger.debug(`${this.id} ignored transferring leadership to learner ${m.from}`);
          return;
        }
        const transferee = m.from;
        if (this.leadTransferee !== None) {
          if (this.leadTransferee === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        // The transfer must finish within one election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return;
      }
    }
  }

  private leaderPropose(m: Message): void {
    if (m.entries.length === 0) throw new Error(`${this.id} stepped empty MsgProp`);
    if (!this.prs.progress.has(this.id)) {
      // We were removed from the configuration while leading.
      throw new RaftError("ErrProposalDropped", "leader is not in the configuration");
    }
    if (this.leadTransferee !== None) {
      throw new RaftError("ErrProposalDropped", `leadership transfer to ${this.leadTransferee} in progress`);
    }
    for (let i = 0; i < m.entries.length; i++) {
      if (m.entries[i]!.type !== EntryType.EntryConfChange) continue;
      let refused: string | undefined;
      if (this.pendingConfIndex > this.raftLog.applied) {
        refused = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
      } else if (!this.committedEntryInCurrentTerm()) {
        // Ongaro's fix for single-server changes: first commit an entry of this term.
        refused = "leader has not committed an entry in its term yet";
      }
      if (refused) throw new RaftError("ErrProposalDropped", `conf change refused: ${refused}`);
      this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
    }
    if (!this.appendEntry(m.entries)) throw new RaftError("ErrProposalDropped", "uncommitted size limit");
    this.bcastAppend();
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast back-off: skip every entry of a term the follower cannot have (thesis 5.3 "conflict term").
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      // The follower may have missed the latest commit index while paused.
      this.sendAppend(m.from);
    }
    // Pipeline: send as many size-limited messages as the window allows.
    while (this.maybeSendAppend(m.from, false)) {
      // keep filling the inflight window
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // Free one slot so a full window can make progress.
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);

    if (this.readOnly.option !== ReadOnlyOption.Safe || m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks || !this.prs.quorumReached(acks)) return;
    for (const rs of this.readOnly.advance(m.context)) this.answerReadIndex(rs.req, rs.index);
    // Requests that arrived during this round share the next one.
    const next = this.readOnly.lastPendingRequestCtx();
    if (next) this.bcastHeartbeatWithCtx(next);
  }

  private stepCandidate(m: Message): void {
    // Only count answers to our own kind of campaign (stale PreVote answers may arrive as a candidate).
    const myVoteRespType = this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        throw new RaftError("ErrProposalDropped", `no leader at term ${this.term}`);
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const res = this.poll(m.from, m.type, !m.reject);
        if (res === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (res === VoteResult.Lost) {
          // A rejected PreVote carries the rejecter's (maybe higher) term; keep ours.
          this.becomeFollower(this.term, None);
        }
        return;
      }
      case MessageType.MsgTimeoutNow:
        this.logger.debug(`${this.id} ignored MsgTimeoutNow from ${m.from} as ${StateType[this.state]}`);
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === None) throw new RaftError("ErrProposalDropped", `no leader at term ${this.term}`);
        if (this.disableProposalForwarding) throw new RaftError("ErrProposalDropped", "proposal forwarding disabled");
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === None) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgTimeoutNow:
        // A transfer needs no PreVote round: we know the leader wants us to take over.
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === None) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping index reading msg`);
          return;
        }
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  /** Follower side of AppendEntries with the consistency check and a conflict hint on rejection. */
  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send(makeMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(makeMessage({ type: MessageType.MsgAppResp, to: m.from, index: lastNew }));
      return;
    }
    // Rejected: hint the highest index whose term is <= the leader's term at m.index, so the leader can
    // skip whole terms instead of one entry per round trip.
    let hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    hintIndex = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    const hintTerm = this.raftLog.termOrZero(hintIndex);
    this.send(
      makeMessage({ type: MessageType.MsgAppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(makeMessage({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
      this.send(makeMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.send(makeMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /**
   * Installs a snapshot from the leader: resets the log and membership to it. Returns false when the
   * snapshot is not newer than our commit index, when our log already has its last entry (then only the
   * commit index moves), or when we are not in its membership.
   */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Defense in depth: never install a snapshot as leader/candidate.
      this.logger.warn(`${this.id} attempted to restore snapshot as ${StateType[this.state]}; should never happen`);
      this.becomeFollower(this.term + 1, None);
      return false;
    }
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState`);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // Our log already contains the snapshot's last entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.prs = new ProgressTracker(this.prs.maxInflight);
    restoreConfState(this.prs, cs, this.raftLog.lastIndex());
    this.afterConfigSwitch();
    return true;
  }

  /** Voters (not learners) that are in the configuration may campaign. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner;
  }

  /**
   * Applies a committed conf change entry's change (call when the application applies it) and returns the
   * new membership. A refused change leaves the membership unchanged.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const refused = applySimpleChange(this.prs, cc, this.raftLog.lastIndex());
    if (refused) this.logger.warn(`${this.id} ignored conf change: ${refused}`);
    this.afterConfigSwitch();
    return this.prs.confState();
  }

  /** Reacts to a new membership: our learner flag, newly committable entries, new members to probe. */
  private afterConfigSwitch(): void {
    const pr = this.prs.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === StateType.Leader) {
      // Removed (or demoted) leader: keep replicating what it has until others take over.
      return;
    }
    if (this.state !== StateType.Leader || this.prs.voters.length === 0) return;
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      this.prs.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== None && !this.prs.progress.has(this.leadTransferee)) this.abortLeaderTransfer();
  }

  /** Restores persisted term, vote and commit at start-up. */
  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random(this.electionTimeout);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(makeMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  /** The entry at the commit index is from our current term. */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  private answerReadIndex(req: Message, index: number): void {
    if (req.from === None || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.entries[0]!.data });
    } else {
      this.send(makeMessage({ type: MessageType.MsgReadIndexResp, to: req.from, index, entries: req.entries }));
    }
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexResponse(m);
  }

  private sendReadIndexResponse(m: Message): void {
    const index = this.raftLog.committed;
    if (this.prs.isSingleton() || this.readOnly.option === ReadOnlyOption.LeaseBased) {
      // Sole voter, or trusting the lease: the commit index is current.
      this.answerReadIndex(m, index);
      return;
    }
    if (!this.readOnly.addRequest(index, m)) return;
    const acks = this.readOnly.recvAck(this.id, m.entries[0]!.data)!;
    if (!this.prs.isVoter(this.id)) acks.delete(this.id);
    // Start a heartbeat round unless one is in flight: later requests share the next round.
    if (this.readOnly.pendingCount === 1) this.bcastHeartbeatWithCtx(m.entries[0]!.data);
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadSize(ents);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Committed entries were handed to the application: they no longer count as uncommitted. */
  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    const s = payloadSize(ents);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}
