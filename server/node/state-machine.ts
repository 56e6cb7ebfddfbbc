/**
 * The member's state machine: everything a committed entry changes and who hears about it.
 * The RaftDriver (server/node/raft-driver.ts) persists the log and hands committed entries over,
 * inside its Ready transaction; this applies them and writes the applied index in that same
 * transaction (etcd's consistent index), skipping every entry at or below it, so a restart never
 * applies an entry twice; an entry whose request ID was applied already is skipped too
 * (./applied-requests.ts). It installs snapshots, and after each transaction committed publishes
 * the applied index, hands watchers their events, proposers their outcomes and wakes the waits
 * for the applied index, in that order; then it deletes compacted rows in bounded batches. It
 * owns the applied index, the proposal and applied-index waiters, the events of the transaction
 * in progress and the membership facts apply decides (learner, removed).
 * The client-facing side (server/node/etcd-node.ts) proposes, waits and answers.
 * Mirrors etcd's `etcdserver/apply.go` + the apply half of `server.go` (applyAll, applyEntries,
 * applyConfChange, applySnapshot) and `wait.Wait`.
 */
import { ConnectError } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { decodeRequestEntry } from "./request-entry.ts";
import type { Database } from "bun:sqlite";
import { InternalRaftRequestSchema, type InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import type { ResponseHeader, TxnResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Event } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { AlarmLog } from "../alarm/apply.ts";
import type { AlarmStore } from "../alarm/store.ts";
import type { AuthStore } from "../auth/store.ts";
import type { TokenProvider } from "../auth/tokens.ts";
import { restoreLeaseAttachments } from "../lease/apply.ts";
import type { Lessor } from "../lease/lessor.ts";
import { applyMemberAttributes, applyMemberConfChange, decodeMemberContext, validateConfChange } from "../membership/apply.ts";
import { countTxn, type MemberCounters } from "../metrics/member-counters.ts";
import type { MvccStore } from "../mvcc/store.ts";
import type { WatchHub } from "../mvcc/watch/hub.ts";
import { ConfChangeType, EntryType, type ConfChange, type Entry } from "../raft/types.ts";
import { decodeConfChange } from "../raft/wire.ts";
import { MetaKeys, type Meta } from "../storage/meta.ts";
import { copyStateFromImage } from "./snapshot-restore.ts";
import { AppliedWaiters } from "./applied-waiters.ts";
import { AppliedRequests } from "./applied-requests.ts";
import type { MembersTable } from "../storage/members.ts";
import { backendPages, pageBytes } from "../storage/size.ts";
import { applyEntry, type ApplyOutcome, type AppliedResponse, type ApplyTarget } from "./applier.ts";
import type { ConfChangeOutcome } from "./cluster-admin.ts";
import type { MemberEnv } from "./env.ts";
import { COMPACTION_BATCH_PAUSE_MS, COMPACTION_BATCH_ROWS, MAX_READ_INDEX_WAITERS, MAX_TOKEN_INDEX_WAITERS } from "./limits.ts";
import type { V2Store } from "../v2store/store.ts";
import type { V2Server } from "./v2-server.ts";
import { applyErrorText, type SlowApplyWarner } from "../metrics/slow-apply.ts";
import { loggableRaftRequest, loggableResponseSize } from "../metrics/loggable-request.ts";
import { ProposalWaiters } from "./proposals.ts";

/** What the state machine works on and whom it tells. */
export interface StateMachineOptions {
  db: Database;
  /** The `meta` table (the applied index is written there). */
  meta: Meta;
  memberId: bigint;
  members: MembersTable;
  mvcc: MvccStore;
  lessor: Lessor;
  authStore: AuthStore;
  tokens: TokenProvider;
  alarms: AlarmStore;
  alarmLog: AlarmLog;
  watchHub: WatchHub;
  /** The v2 keys store's server: v2 entries and etcd's membership records go to its store. */
  v2: V2Server;
  /** Logs applies slower than `--experimental-warning-apply-duration` (etcd's "apply request took too long"). */
  slowApply: SlowApplyWarner;
  /** A response header as of now (for the slow-apply log line). */
  header(): ResponseHeader;
  /** Whether a Put, Txn or LeaseGrant still fits in the space quota as the backend is now (etcd's quotaApplierV3). */
  fitsQuota(req: InternalRaftRequest): boolean;
  /** An entry was applied over the quota (answered NoSpace): raise the NOSPACE alarm. */
  onOverQuota(): void;
  counters: MemberCounters;
  env: MemberEnv;
  logger: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
  /** Compacted rows deleted per event-loop turn (`--experimental-compaction-batch-limit`; 0: COMPACTION_BATCH_ROWS). */
  compactionBatchLimit?: number;
  /** After a committed membership change or snapshot (the transport follows the membership). */
  onMembersChanged(): void;
  /** This member's own removal was applied (after its transaction committed). */
  onRemovedSelf(): void;
  /** A snapshot replaced the state (after its transaction committed). */
  onSnapshotRestored(): void;
  /** Deleting compacted rows failed: member-fatal (server/node/fatal.ts). */
  onFatal(msg: string, fields: Record<string, unknown>): void;
  /** True once the member stopped: no more compaction batches. */
  isClosed(): boolean;
}

/** See the module doc. */
export class MemberStateMachine implements ApplyTarget {
  /** Proposers waiting for their entries, by request ID. */
  readonly waiters: ProposalWaiters;
  /** Proposers of membership changes, by ConfChange ID. */
  readonly confWaiters: ProposalWaiters<ConfChangeOutcome>;
  readonly mvcc: MvccStore;
  readonly lessor: Lessor;
  readonly authStore: AuthStore;
  readonly tokens: TokenProvider;
  readonly alarms: AlarmStore;
  readonly alarmLog: AlarmLog;
  readonly v2Store: V2Store;
  /** Watch events of entries applied in the current transaction, delivered once it committed. */
  private appliedEvents: [number, Event[]][] = [];
  /** A snapshot was installed in the transaction being applied. */
  private snapshotRestored = false;
  private removedSelf = false;
  private learner: boolean;
  /** Backend size as of the last apply batch, bytes (etcd's backend.Size(), updated at commit). */
  private backendBytes: number;
  /** The backend's page size, bytes (read again with the size after a defragmentation). */
  private pageBytes: number;
  private compactionScheduled = false;
  /** Callers waiting until a compaction's rows are all deleted (physical compactions). */
  private compactionWaiters: (() => void)[] = [];
  /** Applied index as of the last committed apply transaction. */
  private applied: number;
  /** Applied index within the transaction in progress (equal to {@link applied} outside one). */
  private applying: number;
  /** Callers waiting for the applied index to reach theirs (linearizable reads, simple tokens). */
  private readonly appliedWaiters: AppliedWaiters;
  /** Request IDs of the latest applied entries (duplicates are skipped). */
  private readonly requests: AppliedRequests;

  /**
   * Requests this member proposed, by their encoded entry data (the very bytes Raft hands back
   * committed), so that applying them skips decoding; entries from elsewhere are decoded.
   */
  readonly proposed = new WeakMap<Uint8Array, InternalRaftRequest>();
  /**
   * applyEntry in a savepoint (bun:sqlite's nested transaction), throwing an etcd error so that
   * it rolls back; the wrapper is built once (building one per entry cost more than the savepoint).
   */
  private readonly applyInSavepoint: (req: InternalRaftRequest, index: number) => ApplyOutcome;

  constructor(private readonly o: StateMachineOptions) {
    this.applied = this.applying = o.meta.getNumber(MetaKeys.appliedIndex, 0);
    this.appliedWaiters = new AppliedWaiters(o.env);
    this.requests = new AppliedRequests(o.db);
    this.applyInSavepoint = o.db.transaction((req: InternalRaftRequest, index: number) => {
      const outcome = applyEntry(this, req, index);
      if (outcome instanceof ConnectError) throw outcome;
      return outcome;
    });
    this.waiters = new ProposalWaiters(o.env);
    this.confWaiters = new ProposalWaiters<ConfChangeOutcome>(o.env);
    this.mvcc = o.mvcc;
    this.lessor = o.lessor;
    this.authStore = o.authStore;
    this.tokens = o.tokens;
    this.alarms = o.alarms;
    this.alarmLog = o.alarmLog;
    this.v2Store = o.v2.store;
    this.learner = o.members.get(o.memberId)?.isLearner ?? false;
    this.pageBytes = pageBytes(o.db);
    this.backendBytes = backendPages(o.db) * this.pageBytes;
  }

  /** Applied index: the last log entry applied, as of the last committed apply transaction. */
  get appliedIndex(): number {
    return this.applied;
  }

  /**
   * Inside the Ready transaction: applies the committed `entries` above the applied index (the
   * others were applied before a restart or came with a snapshot) and writes the new applied
   * index. Each configuration change is validated and applied to the membership, then passed to
   * `onConfChange` with whether it was accepted (Raft takes a refused one as a no-op). Returns the
   * applied index after them; it is published by {@link committed} once the transaction committed.
   */
  applyEntries(entries: Entry[], onConfChange: (cc: ConfChange, accepted: boolean) => void): number {
    const base = this.applying;
    let applied = base;
    for (const e of entries) {
      if (e.index <= applied) continue;
      if (e.type === EntryType.EntryConfChange) {
        const cc = decodeConfChange(e.data);
        onConfChange(cc, this.applyConfChange(cc, e.index));
      } else if (e.data.length > 0) {
        this.applyCommitted(e);
      }
      applied = e.index;
    }
    this.v2Store.flush();
    if (applied !== base) {
      this.o.meta.setNumber(MetaKeys.appliedIndex, applied);
      this.requests.trim(applied);
      this.applying = applied;
    }
    return applied;
  }

  /**
   * Inside the Ready transaction: the image of the snapshot at Raft index `snapshotIndex` is
   * attached (server/node/snapshot-restore.ts); its state tables replace ours and the in-memory
   * state is rebuilt from them. Returns the new applied index: the image's own, which may be
   * ahead of `snapshotIndex` (the image is the leader's backend as of sending; the entries up to
   * it arrive again and are skipped).
   */
  installSnapshot(snapshotIndex: number): number {
    const applied = Math.max(copyStateFromImage(this.o.db), snapshotIndex);
    this.o.meta.setNumber(MetaKeys.appliedIndex, applied);
    this.applying = applied;
    this.restoreSnapshot();
    return applied;
  }

  /**
   * The Ready transaction committed: publishes the applied index, then (if it moved) delivers
   * the events and outcomes ({@link afterApply}) and wakes the waits it satisfies. Returns
   * whether anything was applied.
   */
  committed(): boolean {
    if (this.applying === this.applied) return false;
    this.applied = this.applying;
    this.afterApply(this.applied);
    this.appliedWaiters.release(this.applied);
    return true;
  }

  /** Resolves once the applied index is at least `index`; rejects with Errors.Stopped() after stop(). */
  async waitApplied(index: number): Promise<void> {
    await this.waitAppliedFor(index);
  }

  /**
   * Resolves `true` once the applied index is at least `index`, `false` if `timeoutMs` passed
   * first (no bound when absent); rejects with Errors.Stopped() after stop(), with
   * Errors.TooManyRequests() when a bounded wait finds MAX_TOKEN_INDEX_WAITERS waiting beyond the
   * reads. Waits share one list and one timer (server/node/applied-waiters.ts).
   */
  waitAppliedFor(index: number, timeoutMs?: number): Promise<boolean> {
    if (this.applied >= index) return Promise.resolve(true);
    if (this.o.isClosed()) return Promise.reject(Errors.Stopped());
    // Unbounded waits come from reads, already bounded by MAX_READ_INDEX_WAITERS.
    if (timeoutMs !== undefined && this.appliedWaiters.size >= MAX_READ_INDEX_WAITERS + MAX_TOKEN_INDEX_WAITERS) {
      return Promise.reject(Errors.TooManyRequests());
    }
    return this.appliedWaiters.wait(index, this.applied, timeoutMs);
  }

  /** The member stopped: every waiting caller fails with Errors.Stopped(). */
  stop(): void {
    const stopped = Errors.Stopped();
    this.waiters.failAll(stopped);
    this.confWaiters.failAll(stopped);
    this.appliedWaiters.failAll(stopped);
  }

  /** Whether this member is a learner, as applied (cached: checked on every client request). */
  get isLearner(): boolean {
    return this.learner;
  }

  /** Backend size as of the last applied batch, bytes (the quota and Status use it). */
  get backendSize(): number {
    return this.backendBytes;
  }

  /** Re-reads the backend size (after a defragmentation). */
  measureBackend(): void {
    this.pageBytes = pageBytes(this.o.db);
    this.backendBytes = backendPages(this.o.db) * this.pageBytes;
  }

  /**
   * Applies one committed normal entry (inside the apply transaction). Its proposer, if waiting
   * here, gets the outcome once the transaction committed; an entry without a response (member
   * attributes, an unknown request) resolves it with none.
   */
  private applyCommitted(e: Entry): void {
    // The proposer's own request when this member proposed it (the same bytes, not decoded again).
    // Forgotten once applied: the entry's bytes stay in the Raft log's in-memory tail for a
    // while, and would keep the decoded request alive with them.
    const mine = this.proposed.get(e.data);
    if (mine) this.proposed.delete(e.data);
    const req = mine ?? decodeRequestEntry(e.data) ?? fromBinary(InternalRaftRequestSchema, e.data);
    if (!this.requests.firstTime(req.ID, e.index)) {
      this.o.logger.info("skipped an entry whose request was applied already", { index: e.index, "request-id": req.ID.toString(16) });
      return;
    }
    const members = this.o.members;
    if (req.memberAttributes) {
      const a = req.memberAttributes;
      // etcd writes the attributes of a known member to its v2 store (skipped for a removed one).
      if (members.get(a.ID)) this.v2Store.recordInternal("attributes", "set");
      applyMemberAttributes(members, a.ID, a.name, a.clientURLs);
      if (members.all().every((m) => m.name !== "")) this.v2Store.recordClusterVersion();
      this.waiters.record(req.ID, { response: undefined, events: [], revision: this.mvcc.currentRevision });
      return;
    }
    const env = this.o.env;
    const startMs = env.monotonicMs();
    const fits = this.o.fitsQuota(req);
    const outcome = this.applyOne(req, e.index);
    const tookMs = env.monotonicMs() - startMs;
    const failed = outcome instanceof ConnectError;
    if (this.o.slowApply.wants(tookMs, failed)) {
      this.o.slowApply.finished({
        tookMs,
        prefix: "",
        request: () => loggableRaftRequest(req),
        response: () => (outcome instanceof ConnectError || !outcome.response ? "" : loggableResponseSize(outcome.response, this.o.header())),
        error: outcome instanceof ConnectError ? applyErrorText(outcome) : undefined,
      });
    }
    if (!(outcome instanceof ConnectError)) {
      if (outcome.response) this.countApplied(req, outcome.response);
      if (outcome.events.length > 0) this.appliedEvents.push([outcome.revision, outcome.events]);
      if (!fits) {
        // Applied all the same and answered NoSpace, as etcd does.
        this.waiters.record(req.ID, Errors.NoSpace());
        this.o.onOverQuota();
        return;
      }
    }
    this.waiters.record(req.ID, outcome);
  }

  /**
   * Applies one entry inside a savepoint, so a failed request leaves no partial writes. A v2
   * request needs none: the v2 store returns its errors instead of throwing them
   * (server/v2store/apply.ts), so nothing would roll back; nor would a savepoint undo changes to
   * its in-memory tree.
   */
  private applyOne(req: InternalRaftRequest, index: number): ApplyOutcome {
    if (req.v2) return applyEntry(this, req, index);
    try {
      return this.applyInSavepoint(req, index);
    } catch (error) {
      if (error instanceof ConnectError) return error;
      throw error;
    }
  }


  /**
   * Validates and applies a committed membership change (inside the apply transaction); its
   * proposer gets the membership after it or the refusal. A change whose ID was applied already
   * (proposed twice) is refused without an answer. Returns whether it was applied.
   */
  private applyConfChange(cc: ConfChange, index: number): boolean {
    const members = this.o.members;
    if (!this.requests.firstTime(cc.id, index)) {
      this.o.logger.info("skipped a configuration change applied already", { index, "request-id": cc.id.toString(16) });
      return false;
    }
    if (isAlreadyApplied(members, cc)) {
      // The bootstrap entries of a new cluster: bootstrapMembership stored these voters already
      // (etcd's v2 store records each all the same).
      this.v2Store.recordInternal("member", "create");
      this.confWaiters.record(cc.id, members.all());
      return true;
    }
    const refused = validateConfChange(members, cc);
    if (refused) {
      this.o.logger.warn("rejected a configuration change", { "raft-conf-change": ConfChangeType[cc.type], error: refused.rawMessage });
      this.confWaiters.record(cc.id, refused);
      return false;
    }
    const existed = members.get(cc.nodeId) !== undefined;
    applyMemberConfChange(members, cc);
    recordMemberChange(this.v2Store, cc.type, existed);
    this.learner = members.get(this.o.memberId)?.isLearner ?? false;
    if (cc.type === ConfChangeType.ConfChangeRemoveNode && cc.nodeId === this.o.memberId) this.removedSelf = true;
    this.confWaiters.record(cc.id, members.all());
    queueMicrotask(() => this.o.onMembersChanged());
    return true;
  }

  /**
   * A snapshot's tables were copied in (inside the apply transaction): rebuild the MVCC index
   * and the lease table from them (etcd's applySnapshot: kv.Restore, lessor.Recover).
   */
  private restoreSnapshot(): void {
    this.mvcc.reload();
    this.lessor.reload();
    this.authStore.reload();
    this.alarms.reload();
    this.o.v2.reload();
    this.requests.reload();
    restoreLeaseAttachments(this.lessor, this.mvcc.leaseAttachmentsAtOpen());
    this.learner = this.o.members.get(this.o.memberId)?.isLearner ?? false;
    if (this.o.members.isRemoved(this.o.memberId)) this.removedSelf = true;
    this.snapshotRestored = true;
  }

  /**
   * After an apply transaction committed (up to `appliedIndex`): watchers get their events,
   * proposers their outcomes, then compacted rows are scheduled for deletion.
   */
  private afterApply(appliedIndex: number): void {
    // One PRAGMA per batch: the page count (the free pages and page size are not needed here).
    this.backendBytes = backendPages(this.o.db) * this.pageBytes;
    this.scheduleCompaction();
    if (this.snapshotRestored) {
      this.snapshotRestored = false;
      this.appliedEvents = [];
      this.o.watchHub.restore();
      this.o.onSnapshotRestored();
      this.o.onMembersChanged();
      this.o.logger.info("applied snapshot", { "applied-index": appliedIndex });
    }
    const events = this.appliedEvents;
    this.appliedEvents = [];
    for (const [revision, evs] of events) this.o.watchHub.notify(revision, evs);
    this.waiters.flush();
    this.confWaiters.flush();
    if (this.removedSelf) this.o.onRemovedSelf();
  }

  /**
   * Deletes the rows compactions freed, COMPACTION_BATCH_ROWS (or `--experimental-compaction-batch-limit`)
   * per event-loop turn in their own transaction, COMPACTION_BATCH_PAUSE_MS apart, so compacting
   * millions of revisions never holds the loop long enough to delay heartbeats (etcd's
   * scheduleCompaction: batches with pauses).
   */
  scheduleCompaction(pauseMs = 0): void {
    if (this.compactionScheduled || this.o.isClosed()) return;
    if (this.mvcc.pendingCompactionRows === 0) {
      for (const done of this.compactionWaiters.splice(0)) done();
      return;
    }
    this.compactionScheduled = true;
    const step = () => {
      this.compactionScheduled = false;
      if (this.o.isClosed()) return;
      const db = this.o.db;
      if (!db.inTransaction) {
        try {
          const limit = this.o.compactionBatchLimit ?? 0;
          db.transaction(() => this.mvcc.compactStep(limit > 0 ? limit : COMPACTION_BATCH_ROWS))();
        } catch (e) {
          this.o.onFatal("failed to delete compacted revisions", { error: e instanceof Error ? e.message : String(e) });
          return;
        }
      }
      this.scheduleCompaction(COMPACTION_BATCH_PAUSE_MS);
    };
    if (pauseMs > 0) this.o.env.setTimeout(step, pauseMs);
    else this.o.env.setImmediate(step);
  }

  /** Resolves once no compacted rows wait for deletion. */
  compactionDone(): Promise<void> {
    if (this.mvcc.pendingCompactionRows === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.compactionWaiters.push(resolve);
      this.scheduleCompaction();
    });
  }

  /** Bumps the MVCC counters for an applied write (etcd counts them in mvcc/metrics_txn.go). */
  private countApplied(req: InternalRaftRequest, response: AppliedResponse): void {
    const counters = this.o.counters;
    if (req.put) counters.put++;
    else if (req.deleteRange) counters.deleteRange++;
    else if (req.txn) countTxn(counters, response as TxnResponse);
  }
}

/**
 * The records etcd's membership code writes to its v2 store for an applied change: an added
 * member's `raftAttributes` (create), an updated or promoted one's (update: `existed`), a removed
 * member's directory (delete) and its `removed_members` entry (create).
 */
function recordMemberChange(store: V2Store, type: ConfChangeType, existed: boolean): void {
  if (type === ConfChangeType.ConfChangeRemoveNode) {
    store.recordInternal("member", "delete");
    store.recordInternal("removed_member", "create");
  } else if (type === ConfChangeType.ConfChangeUpdateNode || existed) {
    store.recordInternal("member", "update");
  } else {
    store.recordInternal("member", "create");
  }
}

/** True for an AddNode of a voter the members table already holds with the same peer URLs. */
function isAlreadyApplied(members: MembersTable, cc: ConfChange): boolean {
  if (cc.type !== ConfChangeType.ConfChangeAddNode) return false;
  const existing = members.get(cc.nodeId);
  const ctx = decodeMemberContext(cc.context);
  return !!existing && !existing.isLearner && !!ctx && ctx.peerURLs.join(",") === existing.peerURLs.join(",");
}
