/**
 * RaftDriver: runs one member's Raft core (server/raft RawNode) against real time, SQLite and
 * the peer transport — etcd's `etcdserver/raft.go` raftNode loop, in one event loop.
 *
 * - Time: a timer calls `tick()` every heartbeat interval (ms); the election timeout is
 *   `electionMs / heartbeatMs` ticks. Clock, timers and randomness come from the injected
 *   environment (`env`, server/node/env.ts), never from globals.
 * - Ready loop (scheduled with env.setImmediate whenever something may have produced output, so
 *   everything proposed or received in one turn of the event loop is handled together):
 *   1. a leader sends its messages first, writing its log in parallel with replication
 *      (Raft thesis §10.2.1); 2. ONE SQLite transaction appends the new entries, saves the hard
 *   state and hands the committed entries to the state machine, which applies them and writes
 *   the applied index (synchronous=FULL: one fsync per Ready, unless the Ready has no new
 *   entries, term, vote or snapshot, as etcd's MustSync: such a commit becomes durable with the
 *   next fsync, and a crash before it re-applies its entries); 3. a follower sends its messages
 *   only now, after its log is durable; 4. the state machine publishes what it applied
 *   (`applier.committed()`: answer clients, notify watchers, wake applied-index waits) and
 *   ReadIndex answers are served; 5. advance().
 * - The driver owns no applied state: the state machine (server/node/state-machine.ts) owns the
 *   applied index and skips entries at or below it (etcd's consistent index), so a crash between
 *   append and apply never applies twice.
 * - Configuration changes are validated by the state machine when applied (etcd's
 *   ValidateConfigurationChange); a refused one reaches Raft as a no-op (node ID 0), as in etcd.
 *   Each applied conf change also records a snapshot position in the same transaction, so no
 *   conf change ever lies between the snapshot index (where Raft restarts its membership from)
 *   and the applied index (entries up to which are skipped): a restart never re-applies one.
 * - A snapshot from the leader (rd.snapshot) replaces the state machine in the same transaction
 *   (server/node/snapshot-restore.ts), then the member reloads its in-memory state.
 * - Failure: anything thrown while handling a Ready (a storage write, an apply, the callbacks)
 *   leaves memory ahead of or apart from the rolled-back disk, so it is member-fatal (etcd's
 *   `lg.Fatal("failed to save Raft hard state and entries")`): the driver stops and calls
 *   `onFatal`, which ends the process; a restart rebuilds the member from disk.
 * - Bounds: one turn of the event loop applies at most one Ready's committed entries
 *   (`MAX_APPLY_BATCH_BYTES`), so clients are served between batches and a proposal sees how far
 *   apply lags commit (EtcdNode.applyLagEntries, refused past etcd's 5000); proposals waiting
 *   for a leader sit in one retry queue; linearizable reads are capped (`MAX_READ_INDEX_WAITERS`).
 */
import type { Database } from "bun:sqlite";
import type { SqliteRaftStorage } from "../storage/raft-storage.ts";
import { RawNode, SnapshotStatus, type Ready, type Status } from "../raft/node.ts";
import { RaftError } from "../raft/errors.ts";
import { StateType, None, type ConfChange, type Entry, type Message, type NodeId } from "../raft/types.ts";
import { Errors } from "../errors.ts";
import { attachSnapshotImage } from "./snapshot-restore.ts";
import { errorFields, MemberFatalError, type OnFatal } from "./fatal.ts";
import { MAX_APPLY_BATCH_BYTES, MAX_READ_INDEX_WAITERS, PROPOSAL_RETRY_MS } from "./limits.ts";
import { realEnv, type EnvTimer, type MemberEnv } from "./env.ts";

/** SQLite's `PRAGMA synchronous` level FULL (OFF 0, NORMAL 1, FULL 2, EXTRA 3). */
const SQLITE_SYNCHRONOUS_FULL = 2;

/** The connection's `PRAGMA synchronous` level now (prepared afresh: a cached statement would answer its prepare time's). */
export function syncLevel(db: Database): number {
  const st = db.prepare<{ synchronous: number }, []>("PRAGMA synchronous");
  try {
    return st.get()?.synchronous ?? 0;
  } finally {
    st.finalize();
  }
}

/** How long a ReadIndex request may stay unanswered before it is sent again, ms. */
const READ_RETRY_MS = 300;

/** A proposal waiting in the retry queue until Raft takes it. */
export interface QueuedProposal {
  /** The encoded entry. */
  data: Uint8Array;
  /** False once nobody waits for it any more (timed out, client gone): it is dropped unproposed. */
  wanted(): boolean;
  /** Raft took it (it may still be lost with its term; the caller's timeout covers that). */
  accepted(): void;
}

/**
 * Where committed entries go: the member's state machine (server/node/state-machine.ts
 * MemberStateMachine). The first two run inside the Ready transaction.
 */
export interface RaftApplier {
  /** Applied index as of the last committed transaction. */
  readonly appliedIndex: number;
  /**
   * Applies the committed entries above the applied index, writing the applied index; calls
   * `onConfChange` for each configuration change with whether it was accepted. Returns the
   * applied index after them.
   */
  applyEntries(entries: Entry[], onConfChange: (cc: ConfChange, accepted: boolean) => void): number;
  /** The image of the snapshot at `snapshotIndex` is attached: replace the state with it; returns the new applied index. */
  installSnapshot(snapshotIndex: number): number;
  /** The transaction committed: publish what was applied; returns whether anything was. */
  committed(): boolean;
}

/** What the driver needs from the member (EtcdNode) and the outside world. */
export interface RaftDriverOptions {
  db: Database;
  storage: SqliteRaftStorage;
  /** This member's Raft ID (= member ID). */
  id: NodeId;
  /** First start of a new cluster: the voters to bootstrap with (ConfChange context = member record JSON). */
  bootstrapPeers?: { id: NodeId; context: Uint8Array }[];
  /** `--heartbeat-interval`, ms. */
  heartbeatMs: number;
  /** `--election-timeout`, ms. */
  electionMs: number;
  /** Applied entries between snapshots (`--snapshot-count`). */
  snapshotCount: number;
  /** Entries kept in the log behind a snapshot so slow followers catch up without one (etcd: 5000). */
  catchUpEntries?: number;
  /** How long a proposal or ReadIndex may wait before `etcdserver: request timed out`, ms. */
  requestTimeoutMs: number;
  /** The state machine committed entries are handed to. */
  applier: RaftApplier;
  /** Hands messages to the transport (must not block). */
  send(messages: Message[]): void;
  /** Leader changes (informational). */
  onLeaderChange?(lead: NodeId, term: number): void;
  /** How long the Ready transaction took to commit (entries, hard state and applies), ms, and whether it was fsynced; for `/metrics`. */
  onCommitMs?(ms: number, synced: boolean): void;
  /** Random source for election timeouts (default: `env.random`). */
  random?: (n: number) => number;
  /** Clock, timers and randomness (default: the real ones, server/node/env.ts `realEnv`). */
  env?: MemberEnv;
  /**
   * Called once when handling a Ready failed (the driver has stopped): must end the process
   * (server/node/fatal.ts). Default: throw a MemberFatalError (uncaught, main exits on it).
   */
  onFatal?: OnFatal;
}

/** A linearizable read waiting for its ReadIndex answer (the read index). */
interface ReadWaiter {
  resolve: (index: number) => void;
  reject: (e: unknown) => void;
}

/** The running Raft loop of one member. */
export class RaftDriver {
  readonly raw: RawNode;
  private scheduled = false;
  private stopped = false;
  private readonly ticker: EnvTimer;
  private readonly env: MemberEnv;
  private readCounter = 0n;
  /** Reads not yet sent as a ReadIndex request; sent together in the next loop turn. */
  private readBatch: ReadWaiter[] = [];
  /** ReadIndex requests in flight, by request context (hex). */
  private readonly readsInFlight = new Map<string, { waiters: ReadWaiter[]; timer: EnvTimer }>();
  /** ReadIndex requests not yet answered (bounded by MAX_READ_INDEX_WAITERS). */
  private pendingReads = 0;
  /** Proposals Raft dropped, in proposal order; retried together every PROPOSAL_RETRY_MS. */
  private retryQueue: QueuedProposal[] = [];
  private retryTimer: EnvTimer | undefined;
  private lead: NodeId = None;
  private appliedSinceSnapshot = 0;
  /** Set at start: a lone voter campaigns at once (after its first Ready applied the bootstrap). */
  private campaignIfAlone = false;
  /**
   * The connection's own `PRAGMA synchronous` level, restored after a Ready that needed no fsync
   * ran with NORMAL; below FULL (the simulated disks run with OFF) commits never fsync anyway.
   */
  private readonly syncLevel: number;

  constructor(private readonly opts: RaftDriverOptions) {
    this.syncLevel = syncLevel(opts.db);
    const electionTick = Math.max(2, Math.round(opts.electionMs / opts.heartbeatMs));
    const env = (this.env = opts.env ?? realEnv);
    this.raw = new RawNode({
      id: opts.id,
      electionTick,
      heartbeatTick: 1,
      storage: opts.storage,
      // Raft takes its membership from the latest snapshot record (never older than the last
      // applied conf change) and hands out the committed entries after `applied`.
      applied: restartAppliedIndex(opts.storage, opts.applier.appliedIndex),
      maxSizePerMsg: 1024 * 1024,
      maxCommittedSizePerReady: MAX_APPLY_BATCH_BYTES,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 1 << 30,
      checkQuorum: true,
      preVote: true,
      random: opts.random ?? ((n: number) => env.random(n)),
    });
    if (opts.bootstrapPeers && opts.storage.lastIndex() === 0) this.raw.bootstrap(opts.bootstrapPeers);
    this.ticker = env.setInterval(() => {
      if (this.stopped) return;
      try {
        this.raw.tick();
      } catch (error) {
        // Raft's state may be half-changed: as fatal as a failed Ready.
        this.phase = "failed to tick Raft";
        this.die(error);
        return;
      }
      this.schedule();
    }, opts.heartbeatMs);
    this.campaignIfAlone = true;
    this.schedule();
  }

  /** Highest log index known committed (may run ahead of the state machine's applied index). */
  get committedIndex(): number {
    return this.raw.raft.raftLog.committed;
  }

  /** Index of the last entry in the log (appended, perhaps not committed). */
  get lastIndex(): number {
    return this.raw.raft.raftLog.lastIndex();
  }

  /** Known leader (None when there is none). */
  get leader(): NodeId {
    return this.lead;
  }

  /** Raft status (term, commit, role, progress when leader). */
  status(): Status {
    return this.raw.status();
  }

  /** True when this member is the leader. */
  get isLeader(): boolean {
    return this.raw.raft.state === StateType.Leader;
  }

  /**
   * Records a snapshot position at the applied index and drops the log entries no peer still
   * needs, in its own transaction between Readies; for Defragment, so that the backend gives
   * back the log's space (etcd keeps its log in a separate WAL, outside the size it reports).
   * A leader keeps the entries above its slowest peer's match index (a peer whose match is not
   * known keeps everything); a follower serves no entries and keeps none at or below its applied
   * index. A peer further behind later gets a snapshot, as after any log compaction (Raft thesis
   * §5.1). Returns the number of entries dropped.
   */
  compactLogNow(): number {
    this.assertRunning();
    const { db, storage, applier } = this.opts;
    const applied = applier.appliedIndex;
    const st = this.raw.status();
    let keepAbove = applied;
    for (const [id, p] of st.progress ?? []) if (id !== this.opts.id) keepAbove = Math.min(keepAbove, p.match);
    const before = storage.firstIndex();
    if (applied < storage.snapshotIndex() || keepAbove < before) return 0;
    db.transaction(() => storage.createSnapshot(applied, storage.term(applied), st.confState, applied - keepAbove))();
    this.appliedSinceSnapshot = 0;
    return storage.firstIndex() - before;
  }

  /**
   * Deletes one batch of compacted log rows (SqliteRaftStorage.trimLog) in its own transaction
   * between Readies; returns true while rows are left. Defragment calls it until false, a turn
   * apart, so the log's pages are free before it gives them back.
   */
  trimLogStep(): boolean {
    this.assertRunning();
    return this.opts.db.transaction(() => this.opts.storage.trimLog())();
  }

  /**
   * The highest log index this member no longer needs in memory (server/storage/raft-storage.ts
   * releaseTail): applied here and, on a leader, acknowledged by every follower (a follower
   * further behind is sent entries from SQLite, or a snapshot).
   */
  private releasableIndex(applied: number): number {
    const raft = this.raw.raft;
    if (raft.state !== StateType.Leader) return applied;
    let index = applied;
    for (const [id, pr] of raft.prs.progress) if (id !== this.opts.id) index = Math.min(index, pr.match);
    return index;
  }

  /** Current Raft term (cheap: no status snapshot). */
  get term(): number {
    return this.raw.raft.term;
  }

  /**
   * Proposes `p.data` as a normal entry, now or, while Raft drops proposals (no leader known,
   * leadership transfer), from the retry queue every PROPOSAL_RETRY_MS and at once when a leader
   * appears; order is kept. A proposal no longer `wanted()` leaves the queue unproposed. Nothing
   * here times out: the caller's wait does (etcd's blocked Propose under the request context).
   * Throws Errors.Stopped() after stop().
   */
  propose(p: QueuedProposal): void {
    this.assertRunning();
    this.retryQueue.push(p);
    // While a retry is armed Raft is dropping proposals: this one waits its turn in the queue.
    if (this.retryTimer === undefined) this.flushProposals();
  }

  /** Offers the queued proposals to Raft in order until it drops one; arms the retry timer. */
  private flushProposals(): void {
    const queue = this.retryQueue;
    let taken = 0;
    while (taken < queue.length) {
      const p = queue[taken]!;
      if (p.wanted()) {
        try {
          this.raw.propose(p.data);
        } catch {
          break;
        }
        p.accepted();
      }
      taken++;
    }
    if (taken > 0) this.schedule();
    // What stays queued is only what someone still waits for (at most MAX_PENDING_PROPOSALS).
    if (taken < queue.length) this.retryQueue = queue.slice(taken).filter((p) => p.wanted());
    else if (taken > 0) this.retryQueue = [];
    if (this.retryQueue.length === 0) {
      this.retryTimer?.cancel();
      this.retryTimer = undefined;
    } else if (this.retryTimer === undefined && !this.stopped) {
      this.retryTimer = this.env.setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped) this.flushProposals();
      }, PROPOSAL_RETRY_MS);
    }
  }

  /** Proposals waiting in the retry queue (none while a leader takes them). */
  get queuedProposals(): number {
    return this.retryQueue.length;
  }

  /** Proposes a configuration change; false when Raft refused it (no leader, one pending). */
  proposeConfChange(cc: ConfChange): boolean {
    this.assertRunning();
    try {
      this.raw.proposeConfChange(cc);
    } catch {
      return false;
    }
    this.schedule();
    return true;
  }

  /**
   * Steps a message from a peer. Throws RaftError ErrStepLocalMsg for a local-only message type
   * (the transport logs it). Any other exception is one of Raft's panics (e.g. `tocommit(n) is out
   * of range`, a peer contradicting this member's durable log): Raft's state may be half-changed,
   * so it is member-fatal like a failed Ready, never swallowed by the transport.
   */
  step(m: Message): void {
    if (this.stopped) return;
    try {
      this.raw.step(m);
    } catch (error) {
      if (error instanceof RaftError && error.code === "ErrStepLocalMsg") throw error;
      this.phase = "failed to step a Raft message";
      this.die(error);
      return;
    }
    this.schedule();
  }

  /** The transport could not reach `id`. */
  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.raw.reportUnreachable(id);
    this.schedule();
  }

  /** A snapshot to `id` was delivered or not. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.stopped) return;
    this.raw.reportSnapshot(id, ok ? SnapshotStatus.Finish : SnapshotStatus.Failure);
    this.schedule();
  }

  /** Asks the leader to hand over leadership to `id`. */
  transferLeader(id: NodeId): void {
    this.raw.transferLeader(id);
    this.schedule();
  }

  /**
   * Linearizable read point (ReadIndex, thesis §6.4): resolves with the commit index the leader
   * confirmed when the read was asked; the reader then waits until the state machine applied it
   * (MemberStateMachine.waitApplied). Reads asked in the same turn share one ReadIndex round.
   * Rejects with Errors.Timeout() after `requestTimeoutMs`, with Errors.TooManyRequests()
   * (ResourceExhausted `etcdserver: too many requests`) while MAX_READ_INDEX_WAITERS reads wait
   * for their round already, Errors.Stopped() after stop().
   */
  readIndex(): Promise<number> {
    this.assertRunning();
    if (this.pendingReads >= MAX_READ_INDEX_WAITERS) return Promise.reject(Errors.TooManyRequests());
    this.pendingReads++;
    return new Promise<number>((resolve, reject) => {
      this.readBatch.push({ resolve, reject });
      this.schedule();
    }).finally(() => this.pendingReads--);
  }

  /** Stops ticking and processing; pending reads fail with Errors.Stopped(). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker.cancel();
    this.retryTimer?.cancel();
    this.retryQueue = [];
    for (const [, r] of this.readsInFlight) {
      r.timer.cancel();
      for (const w of r.waiters) w.reject(Errors.Stopped());
    }
    this.readsInFlight.clear();
    for (const w of this.readBatch) w.reject(Errors.Stopped());
    this.readBatch = [];
  }

  private assertRunning(): void {
    if (this.stopped) throw Errors.Stopped();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.env.setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.run();
    });
  }

  /**
   * One turn of the loop: handles Readies until none is left or one applied entries (then the
   * next turn continues, after clients were served). Any exception is member-fatal.
   */
  private run(): void {
    this.phase = "failed to handle Raft Ready";
    try {
      this.flushReads();
      this.handleReadies();
      if (this.campaignIfAlone) {
        // A lone voter need not wait an election timeout, as etcd's single member does not.
        this.campaignIfAlone = false;
        const st = this.raw.status();
        if (st.confState.voters.length === 1 && st.confState.voters[0] === this.opts.id) {
          this.raw.campaign();
          this.handleReadies();
        }
      }
    } catch (error) {
      this.die(error);
    }
  }

  private handleReadies(): void {
    while (!this.stopped && this.raw.hasReady()) {
      if (this.handleReady(this.raw.ready()) && this.raw.hasReady()) {
        this.schedule();
        return;
      }
    }
  }

  /** What handleReady was doing, for the fatal log line (etcd's messages where it has them). */
  private phase = "failed to handle Raft Ready";

  /** Handling a Ready failed: stop everything, then hand over to onFatal (ends the process). */
  private die(error: unknown): void {
    const msg = this.phase;
    this.stop();
    const fields = { ...errorFields(error), "applied-index": this.opts.applier.appliedIndex, "committed-index": this.committedIndex };
    if (this.opts.onFatal) this.opts.onFatal(msg, fields);
    else throw new MemberFatalError(msg, fields);
  }

  /**
   * Sends the batched reads as one ReadIndex request. Raft drops it silently while no leader is
   * known, so it is re-sent every `READ_RETRY_MS` until answered; after the request timeout the
   * reads fail with Errors.Timeout() (etcd's linearizableReadLoop behaves alike).
   */
  private flushReads(): void {
    if (this.readBatch.length === 0) return;
    const waiters = this.readBatch;
    this.readBatch = [];
    const env = this.env;
    // Monotonic: a step of the wall clock neither fails reads early nor keeps them waiting.
    const deadline = env.monotonicMs() + this.opts.requestTimeoutMs;
    const send = () => {
      const ctx = new Uint8Array(16);
      const view = new DataView(ctx.buffer);
      view.setBigUint64(0, BigInt.asUintN(64, this.opts.id));
      view.setBigUint64(8, ++this.readCounter);
      const key = Buffer.from(ctx).toString("hex");
      const timer = env.setTimeout(() => {
        if (!this.readsInFlight.delete(key)) return;
        if (env.monotonicMs() >= deadline) for (const w of waiters) w.reject(Errors.Timeout());
        else if (!this.stopped) {
          send();
          this.schedule();
        }
      }, Math.min(READ_RETRY_MS, Math.max(1, deadline - env.monotonicMs())));
      this.readsInFlight.set(key, { waiters, timer });
      this.raw.readIndex(ctx);
    };
    send();
  }

  /** Handles one Ready (see the module docstring); returns whether it applied entries. */
  private handleReady(rd: Ready): boolean {
    this.phase = "failed to handle Raft Ready";
    if (rd.softState && rd.softState.lead !== this.lead) {
      this.lead = rd.softState.lead;
      this.opts.onLeaderChange?.(this.lead, (rd.hardState ?? this.raw.status().hardState).term);
      if (this.lead !== None && this.retryQueue.length > 0) queueMicrotask(() => !this.stopped && this.flushProposals());
    }
    const leader = (rd.softState?.raftState ?? this.raw.status().softState.raftState) === StateType.Leader;
    if (leader) this.opts.send(rd.messages);

    // Nothing to persist or apply (heartbeats and their answers): no transaction, as etcd's WAL
    // Save writes nothing for an empty Ready.
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState || rd.committedEntries.length > 0) {
      const commitStart = this.env.monotonicMs();
      const synced = this.persist(rd);
      this.opts.onCommitMs?.(this.env.monotonicMs() - commitStart, synced);
    }

    this.phase = "failed to deliver applied entries";
    if (!leader) this.opts.send(rd.messages);
    const appliedNow = this.opts.applier.committed();
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString("hex");
      const r = this.readsInFlight.get(key);
      if (!r) continue;
      this.readsInFlight.delete(key);
      r.timer.cancel();
      for (const w of r.waiters) w.resolve(rs.index);
    }
    this.raw.advance(rd);
    return appliedNow;
  }

  /**
   * Step 2 of a Ready, in ONE SQLite transaction: installs its snapshot, appends its entries,
   * saves its hard state, has the state machine apply its committed entries (with the applied
   * index) and records a snapshot position when one is due. Returns whether the commit was
   * fsynced (false: etcd's MustSync said it need not be).
   */
  private persist(rd: Ready): boolean {
    const { db, storage, applier } = this.opts;
    const image = rd.snapshot ? attachSnapshotImage(db, rd.snapshot.metadata.index) : undefined;
    // etcd's MustSync: a Ready without new entries, term or vote (only a commit index and applied
    // entries, which a restart re-applies from the log) is committed without an fsync of its own;
    // the next synced commit makes it durable with everything before it (SQLite's WAL is in order).
    // (PRAGMA synchronous takes effect when prepared: run afresh each time, never as a cached statement.)
    const relaxed = this.syncLevel >= SQLITE_SYNCHRONOUS_FULL && !rd.mustSync && !rd.snapshot;
    if (relaxed) db.run("PRAGMA synchronous = NORMAL");
    let applied = applier.appliedIndex;
    try {
      db.transaction(() => {
        let snapshotNow = false;
        let base = applier.appliedIndex;
        if (rd.snapshot) {
          this.phase = "failed to save Raft snapshot";
          base = applier.installSnapshot(rd.snapshot.metadata.index);
          storage.applySnapshot(rd.snapshot);
          this.appliedSinceSnapshot = 0;
        }
        this.phase = "failed to save Raft hard state and entries";
        storage.append(rd.entries);
        if (rd.hardState) storage.setHardState(rd.hardState);
        this.phase = "failed to apply committed entries";
        applied = applier.applyEntries(rd.committedEntries, (cc, accepted) => {
          this.raw.applyConfChange(accepted ? cc : { ...cc, nodeId: None });
          snapshotNow = true;
        });
        this.appliedSinceSnapshot += applied - base;
        if (snapshotNow || this.appliedSinceSnapshot >= this.opts.snapshotCount) {
          this.appliedSinceSnapshot = 0;
          const st = this.raw.status();
          this.phase = "failed to save Raft snapshot";
          storage.createSnapshot(applied, storage.term(applied), st.confState, this.opts.catchUpEntries ?? 5000);
        }
        storage.trimLog();
        this.phase = "failed to commit the Raft Ready transaction";
      })();
      storage.releaseTail(this.releasableIndex(applied));
    } finally {
      if (relaxed) db.run(`PRAGMA synchronous = ${this.syncLevel}`);
      image?.detach();
    }
    return !relaxed;
  }
}

/**
 * The index Raft restarts from as applied (raft Config.Applied): the state machine's applied
 * index, at most the persisted commit index (a snapshot image's applied index may be ahead of
 * it, see MemberStateMachine.installSnapshot) and at least the snapshot index. Entries between
 * the snapshot index and the applied index would only be read back from SQLite and skipped by
 * the state machine (up to `--snapshot-count` of them, whatever their size), and a campaign reads
 * every committed entry above `applied` at once to look for conf changes (raft's hup). No conf
 * change lies in between (each applied one records a snapshot position), so starting above them
 * changes no membership. etcd starts from its snapshot index and skips by consistent index, its
 * WAL entries being in memory already.
 */
function restartAppliedIndex(storage: SqliteRaftStorage, appliedIndex: number): number {
  const commit = storage.initialState().hardState.commit;
  return Math.max(storage.snapshotIndex(), Math.min(appliedIndex, commit));
}
