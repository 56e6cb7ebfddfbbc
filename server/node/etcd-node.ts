/**
 * EtcdNode: one member's client-facing server, implementing `EtcdServerApi`: requests come in,
 * writes are proposed and waited for, answers go out. What committed entries do (apply, the
 * applied index and its waits, the waiters' outcomes, watch events, membership facts, compaction
 * batches) lives in the state machine (server/node/state-machine.ts); the Raft loop, which only
 * persists, sends and hands committed entries over, in server/node/raft-driver.ts; the peers come
 * in at construction (NodeConfig `peers`, server/node/peer-link.ts).
 *
 * Write path (etcd's `etcdserver/v3_server.go` processInternalRaftRequest): client ->
 * propose (encode InternalRaftRequest with a unique ID, size check) -> Raft (RaftDriver:
 * replicated, persisted with fsync, committed by a quorum) -> applied to MVCC in the same
 * SQLite transaction as the applied index -> after that transaction committed, the waiting
 * caller gets its response and watchers their events. A write is acknowledged only once
 * durable on a quorum; an entry at or below the stored applied index is never applied again.
 * Linearizable reads wait for a ReadIndex round (thesis §6.4); serializable reads are local.
 *
 * Back-pressure (server/node/limits.ts): a write is refused with `etcdserver: too many requests`
 * while apply lags commit by more than 5000 entries (etcd's v3_server.go) or too many proposals
 * wait; a write whose client went away (its Cancellation) is not proposed and its waiter dropped.
 * A failure of the Ready loop (storage write, apply) is member-fatal (server/node/fatal.ts): the
 * member stops serving at once and `onFatal` ends the process.
 */
import { peerClientTls, type PeerClientTls } from "../transport/peer-tls.ts";
import type { TlsInfo } from "../tls/tls-info.ts";
import { ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { statSync } from "node:fs";
import type { Database } from "bun:sqlite";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import {
  AlarmType,
  CompactionRequestSchema,
  LeaseRevokeRequestSchema,
  type AlarmMember,
  type AlarmRequest,
  type AlarmResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { AlarmStore, alarmString } from "../alarm/store.ts";
import { SpaceQuota } from "../alarm/space-quota.ts";
import { parseCompactionRetention, startCompactor, type CompactionMode, type Compactor } from "../compactor/compactor.ts";
import {
  RangeRequestSchema,
  ResponseHeaderSchema,
  StatusResponseSchema,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  LeaseLeasesResponseSchema,
  LeaseStatusSchema,
  LeaseTimeToLiveResponseSchema,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type Member,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type StatusResponse,
  type TxnRequest,
  type TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { MvccStore, isTxnReadOnly } from "../mvcc/store.ts";
import { keyToBytes } from "../mvcc/keys.ts";
import { HistoryReader } from "../mvcc/watch/history.ts";
import { WatchHub } from "../mvcc/watch/hub.ts";
import { WatchStream } from "../mvcc/watch/stream.ts";
import { backendPath, openBackend } from "../storage/sqlite.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import { backendSize } from "../storage/size.ts";
import { defragment } from "../storage/defrag.ts";
import { hashBackend, hashKV, type KvHash } from "../mvcc/hash.ts";
import { SqliteRaftStorage } from "../storage/raft-storage.ts";
import { MembersTable, memberIdToHex, type MemberRecord } from "../storage/members.ts";
import { LeasesTable } from "../storage/leases.ts";
import { Lessor, minLeaseTtl, type Clock } from "../lease/lessor.ts";
import { AuthStore, ROOT_USER, type AuthInfo } from "../auth/store.ts";
import { AuthServer, BCRYPT_DEFAULT_COST, BCRYPT_MAX_COST, BCRYPT_MIN_COST, isValidBcryptCost } from "../auth/server.ts";
import { checkTxnAuth } from "../auth/apply.ts";
import { createTokenProvider, type TokenProvider } from "../auth/tokens.ts";
import type { WallClock } from "../auth/jwt-token.ts";
import { LeaseIdGenerator } from "../lease/ids.ts";
import { restoreLeaseAttachments } from "../lease/apply.ts";
import { forwardLeaseRenew, forwardLeaseTimeToLive } from "../lease/forward.ts";
import { startLeaseExpiry, type LeaseExpiryLoop } from "../lease/expiry.ts";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../config.ts";
import { humanizeBytes as humanBytes } from "../../cli/go/humanize.ts";
import { removeSnapshotLeftovers, snapshotChunks, type SnapshotChunk } from "../snapshot/stream.ts";
import { incomingImage, outgoingImage } from "./raft-snapshot-image.ts";
import type { IncomingSnapshot, OutgoingSnapshot } from "../transport/snapshot-data.ts";
import type { AppliedResponse } from "./applier.ts";
import { MemberStateMachine } from "./state-machine.ts";
import { V2Server } from "./v2-server.ts";
import type { V2Store } from "../v2store/store.ts";
import type { V2HttpDeps } from "../http/v2/mount.ts";
import { AppendStats } from "../v2stats/append-stats.ts";
import { RaftDriver } from "./raft-driver.ts";
import { Proposer } from "./proposer.ts";
import { encodeMemberContext } from "../membership/apply.ts";
import { joinExistingCluster, type JoinInfo } from "../membership/join.ts";
import { MessageType, StateType, type Message, type NodeId } from "../raft/types.ts";
import type { NodePeers } from "./peer-link.ts";
import { bootstrapMembership, type BootstrapConfig } from "./bootstrap.ts";
import { forceNewCluster } from "../recovery/force-new-cluster.ts";
import { ClusterAdmin, toMember } from "./cluster-admin.ts";
import type { Cancellation, EtcdServerApi } from "./types.ts";
import { exitOnFatal, type OnFatal } from "./fatal.ts";
import { idToHex } from "../membership/ids.ts";
import { realEnv, type MemberEnv } from "./env.ts";
import { countTxn, MemberCounters } from "../metrics/member-counters.ts";
import { applyErrorText, DEFAULT_WARNING_APPLY_DURATION_MS, READ_ONLY_PREFIX, SlowApplyWarner } from "../metrics/slow-apply.ts";
import { loggableReadOnlyTxnResponse, loggableResponseSize, loggableTxn } from "../metrics/loggable-request.ts";
import { compactText } from "../../cli/go/proto-text.ts";
import { HeartbeatTimeoutDetector, LATE_HEARTBEAT_WARNING } from "../metrics/heartbeat-detector.ts";
import type { MemberMetricsSource } from "../metrics/registry.ts";
import { MAX_READ_INDEX_WAITERS, MAX_WATCH_STREAMS, PROPOSAL_RETRY_MS } from "./limits.ts";

/** The settings the node needs; `EtcdConfig` (server/config.ts) satisfies it. */
export interface NodeConfig extends BootstrapConfig {
  /** `--force-new-cluster`: rewrite the stored cluster state for a one-member restart first (server/recovery/force-new-cluster.ts). */
  forceNewCluster?: boolean;
  /** Data directory; the backend lives at `<dataDir>/member/db`. */
  dataDir: string;
  /** Largest accepted proposal, bytes (`--max-request-bytes`, default 1.5 MiB). */
  maxRequestBytes: number;
  /** Applied entries between Raft snapshots (`--snapshot-count`). */
  snapshotCount: number;
  /** `--initial-cluster-state`: only a `new` cluster bootstraps its Raft log from `--initial-cluster`. */
  initialClusterState?: "new" | "existing";
  /** `--heartbeat-interval`, ms (default 100); with the election timeout it sets the minimum lease TTL. */
  heartbeatIntervalMs?: number;
  /** `--election-timeout`, ms (default 1000); leases get this much extra life at start-up, as in etcd. */
  electionTimeoutMs?: number;
  /** Time source of lease expiry; default `env.monotonicMs` (tests inject a fake one). */
  clock?: Clock;
  /**
   * Clocks, timers and randomness of the member (RaftDriver, request timeouts, lease expiry
   * loop, membership changes); default the real ones (server/node/env.ts `realEnv`).
   */
  env?: MemberEnv;
  /** Period of watch progress notifications, ms (etcd's `--experimental-watch-progress-notify-interval`, default 10 min). */
  watchProgressNotifyIntervalMs?: number;
  /** `--strict-reconfig-check` (default true): refuse membership changes that could cost the quorum. */
  strictReconfigCheck?: boolean;
  /** Log entries kept behind a snapshot (default: 5000 as etcd, or `snapshotCount` when smaller). */
  catchUpEntries?: number;
  /** How long a request may wait for Raft, ms (default etcd's: 5 s + 2 election timeouts; tests shorten it). */
  requestTimeoutMs?: number;
  /**
   * Called once on a member-fatal error (server/node/fatal.ts); default: log a fatal line and exit
   * the process with code 1. Tests inject one that records the call; the member has then stopped.
   */
  onFatal?: OnFatal;
  /**
   * The member's peers: where Raft messages go, told of membership changes, stopped first by
   * close() (server/node/peer-link.ts). None: messages are dropped (a lone member in tests).
   */
  peers?: NodePeers;
  /** Peer TLS (`--peer-cert-file` ...): used to reach other members' `https://` peer URLs when joining and forwarding. */
  peerTls?: TlsInfo;
  /** `--auto-compaction-mode` (default periodic; server/compactor/). */
  autoCompactionMode?: CompactionMode;
  /** `--auto-compaction-retention` (default "0": no auto-compaction). */
  autoCompactionRetention?: string;
  /** `--auth-token`: `simple` (default) or `jwt,priv-key=...,pub-key=...,sign-method=...,ttl=...`. */
  authToken?: string;
  /** `--auth-token-ttl`: life of a simple token after its last use, seconds (default 300). */
  authTokenTtl?: number;
  /** `--bcrypt-cost` for password hashes (default 10; out of [4, 31] means 10). */
  bcryptCost?: number;
  /** Wall-clock time of JWT expiry, epoch ms (default the system clock; tests inject one). */
  wallClock?: WallClock;
  /** `--quota-backend-bytes`: backend size that raises NOSPACE, bytes (0 or absent: 2 GiB; negative: none). */
  quotaBackendBytes?: number;
  /** `--enable-v2`: the v2 HTTP API is served (the v2 store is kept and applied either way, as etcd's). */
  enableV2?: boolean;
  /** `--experimental-compaction-batch-limit`: compacted rows deleted per event-loop turn (0 or absent: COMPACTION_BATCH_ROWS). */
  compactionBatchLimit?: number;
  /** `--experimental-warning-apply-duration`, ms (absent: 100): slower requests are logged and counted (server/metrics/slow-apply.ts). */
  warningApplyDurationMs?: number;
}

/** Minimal structured logger (server/log.ts provides one). */
export interface NodeLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** A `"level":"fatal"` line (falls back to warn when absent). */
  fatal?(msg: string, fields?: Record<string, unknown>): void;
}


/** A running member. `close()` stops accepting writes, waits for the last batch and closes SQLite. */
export class EtcdNode implements EtcdServerApi {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly mvcc: MvccStore;
  /** Watchers of this member, fed after each committed batch (server/mvcc/watch/hub.ts). */
  readonly watchHub: WatchHub;
  private lastWatchHeader: ResponseHeader | undefined;
  /** The lease table; this member is its primary (lease holder). */
  readonly lessor: Lessor;
  private readonly leaseIds: LeaseIdGenerator;
  private readonly leaseExpiry: LeaseExpiryLoop;
  /** Users, roles and permissions (server/auth/store.ts); checked when entries are applied. */
  readonly authStore: AuthStore;
  /** This member's token provider (`--auth-token`). */
  readonly tokens: TokenProvider;
  /** The Auth API (server/auth/server.ts). */
  readonly auth: AuthServer;
  /** Raised alarms (server/alarm/store.ts), changed by applied Alarm entries. */
  readonly alarms: AlarmStore;
  /** How the applier logs raised and cleared alarms. */
  readonly alarmLog: (msg: string, fields: Record<string, unknown>) => void;
  /** The space quota (`--quota-backend-bytes`) and NOSPACE raising (server/alarm/space-quota.ts). */
  private readonly quota: SpaceQuota;
  private readonly meta: Meta;
  private readonly membersTable: MembersTable;
  private readonly raftStorage: SqliteRaftStorage;
  /** The Raft loop of this member. */
  readonly raft: RaftDriver;
  private readonly env: MemberEnv;
  /** Apply, the proposal waiters and the events of the batch being applied (server/node/state-machine.ts). */
  private readonly sm: MemberStateMachine;
  private readonly requestIds: LeaseIdGenerator;
  /** The write path: limits, encoding, waiters, Raft, timeouts (server/node/proposer.ts). */
  private readonly proposer: Proposer;
  /** MemberAdd/Remove/Update/Promote and MoveLeader (server/node/cluster-admin.ts). */
  readonly cluster: ClusterAdmin;
  /** The cluster's members when this member joined it (`--initial-cluster-state existing`, first start). */
  readonly joinedMembers: MemberRecord[] | undefined;
  /** When this member started, epoch ms (`startTime` of /v2/stats/self). */
  private readonly startedAtMs: number;
  /** When a leader was last elected (epoch ms; etcd's leadElectedTime). */
  private leaderElectedAt = 0;
  private removalHandled = false;
  /**
   * Resolves once this member has been removed from the cluster (its own removal applied, or a
   * peer refused it as removed), a second after it noticed: the process should stop, as etcd does.
   */
  readonly removed: Promise<void>;
  private markRemoved!: () => void;
  private readonly requestTimeoutMs: number;
  /** How to dial `https://` peer URLs for forwarded calls. */
  private readonly peerTls: PeerClientTls | undefined;
  /** The peers (NodeConfig `peers`); undefined for a member built without a transport (tests). */
  private readonly peers: NodePeers | undefined;
  private attributesPublished = false;
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private closed = false;
  /** Watch streams open now (bounded by MAX_WATCH_STREAMS). */
  private watchStreams = 0;
  /** A member-fatal error happened: nothing is served any more. */
  private failed = false;
  private readonly onFatal: OnFatal;
  /** Plain-number counters read by `/metrics` at scrape time (server/metrics/member-counters.ts). */
  readonly counters = new MemberCounters();
  /** Auto-compaction (`--auto-compaction-*`), paused while this member does not lead. */
  private readonly compactor: Compactor | undefined;
  /** Late heartbeats (`etcd_server_heartbeat_send_failures_total`). */
  private readonly heartbeats: HeartbeatTimeoutDetector;
  /** Logs and counts slow and failed requests (`--experimental-warning-apply-duration`). */
  private readonly slowApply: SlowApplyWarner;
  /** MsgApp sent and received, for `/v2/stats/self` (server/v2stats/append-stats.ts). */
  private readonly appendStats = new AppendStats();
  /** The v2 keys store and its request path (server/node/v2-server.ts); served with `--enable-v2`. */
  readonly v2: V2Server;
  /** Leader last seen (for `etcd_server_leader_changes_seen_total`). */
  private lastLeader: NodeId = 0n;

  /** `join`: what {@link joinExistingCluster} learned, for a first start with `--initial-cluster-state existing`. */
  constructor(
    private readonly db: Database,
    private readonly cfg: NodeConfig,
    private readonly logger: NodeLogger,
    join?: JoinInfo,
  ) {
    const env = (this.env = cfg.env ?? realEnv);
    this.peers = cfg.peers;
    this.startedAtMs = env.now();
    // Checked first: a bad retention fails the start before any loop runs (etcd: StartEtcd fails).
    const compactionMode = cfg.autoCompactionMode ?? "periodic";
    const compactionRetention = parseCompactionRetention(compactionMode, cfg.autoCompactionRetention ?? "0");
    this.meta = new Meta(db);
    this.membersTable = new MembersTable(db);
    const ids = bootstrapMembership(db, this.meta, this.membersTable, cfg, join);
    this.clusterId = ids.clusterId;
    this.memberId = ids.memberId;
    this.joinedMembers = join?.members;
    this.onFatal = cfg.onFatal ?? exitOnFatal({ fatal: (msg, fields) => (logger.fatal ?? logger.warn).call(logger, msg, fields) });
    const heartbeatMs = cfg.heartbeatIntervalMs ?? 100;
    const electionMs = cfg.electionTimeoutMs ?? 1000;
    // etcd's ReqTimeout: 5 s plus two election timeouts (etcdserver/config.go).
    this.requestTimeoutMs = cfg.requestTimeoutMs ?? 5000 + 2 * electionMs;
    this.slowApply = new SlowApplyWarner(cfg.warningApplyDurationMs ?? DEFAULT_WARNING_APPLY_DURATION_MS, logger, this.counters);
    this.heartbeats = new HeartbeatTimeoutDetector(heartbeatMs, () => env.monotonicMs());
    this.peerTls = peerClientTls(cfg.peerTls);
    this.lessor = new Lessor({
      minTtl: minLeaseTtl(heartbeatMs, electionMs),
      store: new LeasesTable(db),
      clock: cfg.clock ?? { now: () => env.monotonicMs() },
    });
    this.leaseIds = new LeaseIdGenerator(this.memberId, env.now());
    this.requestIds = new LeaseIdGenerator(this.memberId, env.now());
    this.mvcc = new MvccStore(db, { leaseExists: (id) => this.lessor.has(id), deferCompaction: true });
    this.authStore = new AuthStore(db);
    this.alarms = new AlarmStore(db);
    this.alarmLog = (msg, fields) => logger.warn(msg, fields);
    this.quota = new SpaceQuota({
      db,
      memberId: this.memberId,
      flag: cfg.quotaBackendBytes ?? 0,
      isLearner: () => this.sm.isLearner,
      backendSize: () => this.sm.backendSize,
      appliedIndex: () => this.sm.appliedIndex,
      noSpaceRaised: () => this.alarms.get(AlarmType.NOSPACE).length > 0,
      alarm: (req) => this.alarm(req),
      setImmediate: (fn) => env.setImmediate(fn),
      isClosed: () => this.closed,
      logger,
    });
    this.tokens = createTokenProvider(cfg.authToken ?? "simple", (cfg.authTokenTtl ?? 300) * 1000, {
      monotonic: cfg.clock ?? { now: () => env.monotonicMs() },
      wall: cfg.wallClock ?? { now: () => env.now() },
    });
    restoreLeaseAttachments(this.lessor, this.mvcc.leaseAttachmentsAtOpen());
    this.watchHub = new WatchHub(this.mvcc, new HistoryReader(db), { timers: env });

    this.readyPromise = new Promise((resolve) => (this.markReady = resolve));
    this.removed = new Promise((resolve) => (this.markRemoved = resolve));
    // Before the Raft loop, which may apply entries (v2 ones, membership records) at once.
    this.v2 = new V2Server({
      db,
      env,
      propose: (fields, signal) => this.proposer.proposeEntry(fields, undefined, signal),
      isLeader: () => this.raft.isLeader,
      // The driver's getters: a status() snapshot (with the leader's progress map) per answer
      // was about 1% of a v2-set-loaded member's samples.
      raftIndexTerm: () => ({ index: this.raft.committedIndex, term: this.raft.term }),
      warn: (msg, fields) => logger.warn(msg, fields),
    });
    this.sm = new MemberStateMachine({
      db,
      meta: this.meta,
      memberId: this.memberId,
      members: this.membersTable,
      mvcc: this.mvcc,
      lessor: this.lessor,
      authStore: this.authStore,
      tokens: this.tokens,
      alarms: this.alarms,
      alarmLog: this.alarmLog,
      watchHub: this.watchHub,
      v2: this.v2,
      slowApply: this.slowApply,
      header: () => this.header(),
      fitsQuota: (req) => this.quota.fitsAtApply(req),
      onOverQuota: () => this.quota.raiseAfterApply(),
      counters: this.counters,
      env,
      logger,
      compactionBatchLimit: cfg.compactionBatchLimit,
      onMembersChanged: () => this.peers?.membersChanged?.(),
      onRemovedSelf: () => this.stopRemoved(),
      onSnapshotRestored: () => (this.lastWatchHeader = undefined),
      onFatal: (msg, fields) => this.memberFatal(msg, fields),
      isClosed: () => this.closed,
    });
    this.raftStorage = new SqliteRaftStorage(db, this.meta);
    // etcd replaces --snapshot-count 0 with its default (etcdserver/server.go).
    const snapshotCount = cfg.snapshotCount || 100_000;
    const fresh = this.raftStorage.lastIndex() === 0 && !join && (cfg.initialClusterState ?? "new") === "new";
    this.raft = new RaftDriver({
      db,
      storage: this.raftStorage,
      id: this.memberId,
      bootstrapPeers: fresh
        ? this.membersTable.all().map((m) => ({ id: m.id, context: encodeMemberContext(m) }))
        : undefined,
      heartbeatMs,
      electionMs,
      snapshotCount,
      // etcd keeps 5000 entries behind a snapshot; with a smaller --snapshot-count (tests) keep
      // that many, so that a member more than two snapshot counts behind catches up by snapshot.
      catchUpEntries: cfg.catchUpEntries ?? Math.min(5000, snapshotCount),
      requestTimeoutMs: this.requestTimeoutMs,
      applier: this.sm,
      send: (messages) => {
        this.checkHeartbeats(messages);
        for (const m of messages) if (m.type === MessageType.MsgApp) this.appendStats.sent(env.now(), messageBytes(m));
        this.peers?.send(messages);
      },
      onLeaderChange: (lead) => this.leaderChanged(lead, electionMs),
      onFatal: (msg, fields) => this.memberFatal(msg, fields),
      onCommitMs: (ms, synced) => this.counters.observeCommit(ms, synced),
      env,
    });
    this.proposer = new Proposer({
      memberId: this.memberId,
      sm: this.sm,
      raft: this.raft,
      counters: this.counters,
      env,
      nextRequestId: () => this.requestIds.next(),
      maxRequestBytes: cfg.maxRequestBytes,
      requestTimeoutMs: this.requestTimeoutMs,
      electionMs,
      applyLagEntries: () => this.applyLagEntries,
      leaderElectedAt: () => this.leaderElectedAt,
      activeSince: this.peers ? (id) => this.peers?.activeSince?.(id) : undefined,
      members: () => this.membersTable.all(),
      assertOpen: () => this.assertOpen(),
      isClosed: () => this.closed,
      header: () => this.header(),
    });
    // Expiry revokes as root, as etcd's lessor does (authStore.WithRoot), so keys are checked alike.
    this.leaseExpiry = startLeaseExpiry(
      this.lessor,
      (id) => {
        this.counters.leaseExpired++;
        return this.propose({ leaseRevoke: create(LeaseRevokeRequestSchema, { ID: id }) }, { username: ROOT_USER, revision: this.authStore.revision });
      },
      undefined,
      env,
    );
    // etcd's start-up warnings (auth/store.go NewAuthStore, NewTokenProvider).
    if (cfg.bcryptCost !== undefined && !isValidBcryptCost(cfg.bcryptCost)) {
      logger.warn("use default bcrypt cost instead of the invalid given cost", {
        "min-cost": BCRYPT_MIN_COST,
        "max-cost": BCRYPT_MAX_COST,
        "default-cost": BCRYPT_DEFAULT_COST,
        "given-cost": cfg.bcryptCost,
      });
    }
    if (this.tokens.kind === "simple") logger.warn("simple token is not cryptographically signed");
    this.auth = new AuthServer({
      store: this.authStore,
      tokens: this.tokens,
      bcryptCost: cfg.bcryptCost ?? 10,
      propose: (fields, ai) => this.clientPropose(fields, ai),
      linearizableReadNotify: () => this.linearizableReadNotify(),
      waitApplied: (index) => this.sm.waitAppliedFor(index, this.requestTimeoutMs),
      header: () => this.header(),
    });
    this.cluster = new ClusterAdmin({
      memberId: this.memberId,
      raft: this.raft,
      members: () => this.membersTable.all(),
      confWaiters: this.sm.confWaiters,
      nextRequestId: () => this.requestIds.next(),
      requestTimeoutMs: this.requestTimeoutMs,
      heartbeatMs,
      electionMs,
      strictReconfigCheck: cfg.strictReconfigCheck ?? true,
      activeSince: (id) => this.peers?.activeSince?.(id),
      timeoutError: (start, accepted) => this.proposer.timeoutError(start, accepted),
      isClosed: () => this.closed,
      env,
      peerTls: this.peerTls,
    });
    // Rows of a compaction a restart interrupted.
    this.sm.scheduleCompaction();
    this.compactor = startCompactor(compactionMode, compactionRetention, {
      env,
      log: logger,
      rev: () => this.mvcc.currentRevision,
      compact: (revision) => this.propose({ compaction: create(CompactionRequestSchema, { revision: BigInt(revision) }) }),
    });
  }

  /** The v2 store entries are applied to (server/node/applier.ts ApplyTarget). */
  get v2Store(): V2Store {
    return this.v2.store;
  }

  /** What the v2 HTTP routes use (server/http/v2/mount.ts); undefined without `--enable-v2`. */
  v2Http(): V2HttpDeps | undefined {
    if (!this.cfg.enableV2) return undefined;
    const states = ["StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"];
    return {
      clusterId: this.clusterId,
      memberId: this.memberId,
      name: this.cfg.name,
      v2: this.v2,
      nowMs: () => this.env.now(),
      httpCounters: this.counters.v2Http,
      members: () => this.membersTable.all().map(toMember),
      leader: () => this.raft.leader,
      cluster: this.cluster,
      isIdRemoved: (id) => this.membersTable.isRemoved(id),
      state: () => states[this.raft.status().softState.raftState] ?? "StateFollower",
      startMs: this.startedAtMs,
      leaderSinceMs: () => this.leaderElectedAt,
      peers: () => this.membersTable.all().filter((m) => m.id !== this.memberId).map((m) => m.id),
      followerStats: (id) => this.peers?.followerStats?.(id),
      storeStats: () => this.v2.store.statsJson(),
      appendStatsJson: () => this.appendStats.jsonFields(this.env.now()),
    };
  }

  rejectIfLearner(): void {
    if (this.sm.isLearner) throw Errors.NotSupportedForLearner();
  }

  /**
   * Maintenance.Alarm through the log (etcd's EtcdServer.Alarm): GET, ACTIVATE or DEACTIVATE
   * as applied by server/alarm/apply.ts on every member. The response has no header, as etcd's.
   * Errors: NotSupportedForLearner on a learner; Timeout and the other proposal errors.
   */
  async alarm(req: AlarmRequest): Promise<AlarmResponse> {
    this.rejectIfLearner();
    const resp = (await this.propose({ alarm: req })) as AlarmResponse;
    resp.header = undefined;
    return resp;
  }

  /** Every alarm raised (as applied on this member), by type then member ID. */
  alarmList(): AlarmMember[] {
    return this.alarms.get(AlarmType.NONE);
  }

  /**
   * Maintenance.HashKV on this member (server/mvcc/hash.ts): the history up to `revision`
   * (0: current), read in pages over event-loop turns; `forPeer`: asked over the peer port by
   * the leader's corruption check (a learner answers too). Errors: Compacted, FutureRev (OutOfRange),
   * NotSupportedForLearner, Stopped.
   */
  async hashKV(revision: number, forPeer = false): Promise<KvHash> {
    this.assertOpen();
    if (!forPeer) this.rejectIfLearner();
    return hashKV(this.mvcc, revision, (fn) => this.env.setImmediate(fn));
  }

  /** Maintenance.Hash: a hash of the state-machine tables (server/mvcc/hash.ts hashBackend). */
  hash(): number {
    this.assertOpen();
    this.rejectIfLearner();
    return hashBackend(this.db);
  }

  /** The Defragment running now, shared by concurrent callers. */
  private defragRunning: Promise<void> | undefined;

  /**
   * Maintenance.Defragment (etcd's EtcdServer.Defragment): first drops the Raft log entries no
   * peer needs (RaftDriver.compactLogNow), then gives free pages back to the file system in
   * bounded steps while the member keeps serving (server/storage/defrag.ts). A call
   * while one runs waits for that one. Errors: Stopped after close(); SQLite errors as Unknown.
   */
  defragment(): Promise<void> {
    this.assertOpen();
    this.defragRunning ??= (async () => {
      const path = backendPath(this.cfg.dataDir);
      const before = fileSize(path);
      this.logger.info("defragmenting", { path, "current-db-size-bytes": before });
      const start = this.env.monotonicMs();
      try {
        const droppedEntries = this.raft.compactLogNow();
        while (this.raft.trimLogStep()) await new Promise<void>((resolve) => this.env.setImmediate(resolve));
        const r = await defragment(this.db, {
          nextTurn: (fn) => this.env.setImmediate(fn),
          onFullVacuum: () => this.logger.warn("converting the backend to incremental vacuum with one full VACUUM", { path }),
        });
        this.sm.measureBackend();
        this.logger.info("defragmented", {
          path,
          "current-db-size-bytes-diff": fileSize(path) - before,
          "current-db-size-bytes": fileSize(path),
          "freed-pages": r.freedPages,
          "compacted-raft-log-entries": droppedEntries,
          took: `${Math.round(this.env.monotonicMs() - start)}ms`,
        });
      } finally {
        this.defragRunning = undefined;
      }
    })();
    return this.defragRunning;
  }

  /** Backend size used by the quota and Status, bytes (as of the last applied batch). */
  get backendSize(): number {
    return this.sm.backendSize;
  }

  async linearizableReadNotify(): Promise<void> {
    this.assertOpen();
    await this.readIndex();
  }

  header(): ResponseHeader {
    return create(ResponseHeaderSchema, {
      clusterId: this.clusterId,
      memberId: this.memberId,
      revision: BigInt(this.mvcc.currentRevision),
      raftTerm: BigInt(this.raft.term),
    });
  }

  range(req: RangeRequest, ai?: AuthInfo, signal?: Cancellation): Promise<RangeResponse> {
    return this.timedRead(
      () => this.serveRange(req, ai, signal),
      () => compactText(RangeRequestSchema, req),
      (r) => `range_response_count:${r.kvs.length} ${loggableResponseSize(r, this.header())}`,
    );
  }

  /**
   * Serves a read-only request and hands it to the slow-request warner, timed from the request to
   * its answer, ReadIndex included (etcd's warnOfExpensiveReadOnlyRangeRequest /
   * warnOfExpensiveReadOnlyTxnRequest in Range and Txn); the texts are built only when logged.
   */
  private async timedRead<T>(serve: () => Promise<T>, request: () => string, response: (r: T) => string): Promise<T> {
    const startMs = this.env.monotonicMs();
    let answer: T | undefined;
    let error: unknown;
    try {
      return (answer = await serve());
    } catch (e) {
      throw (error = e);
    } finally {
      const tookMs = this.env.monotonicMs() - startMs;
      if (this.slowApply.wants(tookMs, error !== undefined)) {
        this.slowApply.finished({
          tookMs,
          prefix: READ_ONLY_PREFIX,
          request,
          response: () => (answer === undefined ? "" : response(answer)),
          error: error instanceof ConnectError ? applyErrorText(error) : undefined,
        });
      }
    }
  }

  private async serveRange(req: RangeRequest, ai?: AuthInfo, signal?: Cancellation): Promise<RangeResponse> {
    this.assertOpen();
    if (signal?.aborted) throw Errors.Canceled();
    if (!req.serializable) {
      this.rejectIfLearner();
      await this.readIndex();
      if (signal?.aborted) throw Errors.Canceled();
    }
    // etcd's doSerialize: READ checked before the read, the auth revision after it.
    this.authStore.isRangePermitted(ai, req.key, req.rangeEnd);
    const response = this.mvcc.range(req);
    this.checkAuthRevision(ai);
    this.counters.range++;
    response.header = this.header();
    return response;
  }

  /** etcd's doSerialize tail: credentials checked at a revision the store has since left are stale. */
  private checkAuthRevision(ai: AuthInfo | undefined): void {
    if (ai && ai.revision !== 0 && ai.revision !== this.authStore.revision) throw Errors.AuthOldRevision();
  }

  put(req: PutRequest, ai?: AuthInfo, signal?: Cancellation): Promise<PutResponse> {
    return this.quota.refusal({ put: req }) ?? (this.clientPropose({ put: req }, ai, signal) as Promise<PutResponse>);
  }

  deleteRange(req: DeleteRangeRequest, ai?: AuthInfo, signal?: Cancellation): Promise<DeleteRangeResponse> {
    return this.clientPropose({ deleteRange: req }, ai, signal) as Promise<DeleteRangeResponse>;
  }

  async txn(req: TxnRequest, ai?: AuthInfo, signal?: Cancellation): Promise<TxnResponse> {
    this.rejectIfLearner();
    if (isTxnReadOnly(req)) {
      return this.timedRead(
        () => this.serveReadOnlyTxn(req, ai, signal),
        () => loggableTxn(req),
        (r) => loggableReadOnlyTxnResponse(r, this.header()),
      );
    }
    return this.quota.refusal({ txn: req }) ?? (this.propose({ txn: req }, ai, signal) as Promise<TxnResponse>);
  }

  /** etcd serves read-only txns without a proposal (v3_server.go Txn); they change nothing. */
  private async serveReadOnlyTxn(req: TxnRequest, ai?: AuthInfo, signal?: Cancellation): Promise<TxnResponse> {
    this.assertOpen();
    if (!isTxnSerializable(req)) await this.readIndex();
    if (signal?.aborted) throw Errors.Canceled();
    if (this.authStore.enabled) checkTxnAuth(this.authStore, ai, req);
    const { response } = this.mvcc.txn(req);
    this.checkAuthRevision(ai);
    countTxn(this.counters, response);
    response.header = this.header();
    return response;
  }

  /** Compaction through the log; with `physical`, answered once the freed rows are deleted (as etcd's). */
  async compact(req: CompactionRequest, ai?: AuthInfo, signal?: Cancellation): Promise<CompactionResponse> {
    const resp = (await this.clientPropose({ compaction: req }, ai, signal)) as CompactionResponse;
    if (req.physical) await this.sm.compactionDone();
    return resp;
  }

  async leaseGrant(req: LeaseGrantRequest, ai?: AuthInfo): Promise<LeaseGrantResponse> {
    this.rejectIfLearner();
    let ID = req.ID;
    // etcd picks a positive ID from the member's request-ID generator when none is given.
    while (ID === 0n || (req.ID === 0n && this.lessor.has(ID))) ID = this.leaseIds.next();
    const refused = this.quota.refusal({ leaseGrant: req });
    if (refused) return refused;
    return this.propose({ leaseGrant: { ...req, ID } }, ai) as Promise<LeaseGrantResponse>;
  }

  leaseRevoke(req: LeaseRevokeRequest, ai?: AuthInfo): Promise<LeaseRevokeResponse> {
    return this.clientPropose({ leaseRevoke: req }, ai) as Promise<LeaseRevokeResponse>;
  }

  /**
   * Keep-alive of lease `id`; resolves with its TTL (s). The leader renews it; a follower
   * forwards to the leader's peer port (`localOnly` answers NotLeader instead: for calls that
   * were forwarded already). Errors: LeaseNotFound, NotLeader, Timeout.
   */
  async leaseRenew(id: bigint, localOnly = false): Promise<bigint> {
    this.assertOpen();
    if (!localOnly) this.rejectIfLearner();
    if (this.lessor.isPrimary || localOnly) {
      try {
        return BigInt(await this.lessor.renew(id));
      } catch (e) {
        // Demoted while waiting for an expired lease's revocation: ask the new leader, as etcd's
        // LeaseRenew does on ErrNotPrimary.
        if (localOnly || !(e instanceof ConnectError) || e.rawMessage !== Errors.NotLeader().rawMessage) throw e;
      }
    }
    return forwardLeaseRenew(this.leaderPeerUrls(), id, this.requestTimeoutMs, this.peerTls);
  }

  /** Peer URLs of the current leader (empty when none is known). */
  private leaderPeerUrls(): string[] {
    const lead = this.raft.leader;
    return lead === 0n ? [] : (this.membersTable.get(lead)?.peerURLs ?? []);
  }

  /** LeaseTimeToLive, answered by the leader (a follower forwards unless `localOnly`). */
  async leaseTimeToLive(req: LeaseTimeToLiveRequest, localOnly = false): Promise<LeaseTimeToLiveResponse> {
    this.assertOpen();
    if (!localOnly) this.rejectIfLearner();
    if (!this.lessor.isPrimary && !localOnly) {
      const res = await forwardLeaseTimeToLive(this.leaderPeerUrls(), req, this.requestTimeoutMs, this.peerTls);
      res.header = this.header();
      return res;
    }
    const t = this.lessor.timeToLive(req.ID, req.keys);
    return create(LeaseTimeToLiveResponseSchema, {
      ID: req.ID,
      TTL: BigInt(t.ttl),
      grantedTTL: BigInt(t.grantedTtl),
      keys: t.keys.map(keyToBytes),
    });
  }

  async leaseLeases(): Promise<LeaseLeasesResponse> {
    this.assertOpen();
    this.rejectIfLearner();
    const leases = this.lessor.leases().map((l) => create(LeaseStatusSchema, { ID: l.id }));
    return create(LeaseLeasesResponseSchema, { header: this.header(), leases });
  }

  /**
   * Proposes a LeaseRevoke for each expired lease now (what the expiry timer does every
   * 500 ms); returns how many were proposed. Tests with a fake clock call it directly.
   */
  expireLeases(): number {
    return this.leaseExpiry.tick();
  }

  /** The member records as applied (voters and learners), sorted by ID. */
  memberRecords(): MemberRecord[] {
    return this.membersTable.all();
  }

  members(): Member[] {
    this.rejectIfLearner();
    return this.membersTable.all().map(toMember);
  }

  /** Whether `id` belongs to a member removed from the cluster (its peer requests are refused). */
  isIdRemoved(id: bigint): boolean {
    return this.membersTable.isRemoved(id);
  }

  /** See EtcdServerApi.leaderId. */
  leaderId(): bigint {
    return this.raft.leader;
  }

  status(): StatusResponse {
    // The file lags behind the pages still in the WAL: report the larger (etcd: the bbolt file size).
    const size = backendSize(this.db);
    const dbSize = Math.max(fileSize(backendPath(this.cfg.dataDir)), size.totalBytes);
    const st = this.raft.status();
    return create(StatusResponseSchema, {
      header: this.header(),
      version: ETCD_SERVER_VERSION,
      dbSize: BigInt(dbSize),
      dbSizeInUse: BigInt(size.inUseBytes),
      leader: st.softState.lead,
      raftIndex: BigInt(st.hardState.commit),
      raftTerm: BigInt(st.hardState.term),
      raftAppliedIndex: BigInt(this.sm.appliedIndex),
      isLearner: this.sm.isLearner,
      // etcd lists "etcdserver: no leader" (and raised alarms) in errors (v3rpc/maintenance.go).
      errors: [...(st.softState.lead === 0n ? [Errors.NoLeader().rawMessage] : []), ...this.alarmList().map(alarmString)],
    });
  }

  /** See EtcdServerApi.snapshot; logs etcd's lines around the transfer (maintenance.go). */
  snapshot(signal?: AbortSignal): AsyncIterable<SnapshotChunk> {
    this.assertOpen();
    const logger = this.logger;
    return snapshotChunks(this.db, ETCD_CLUSTER_VERSION, {
      sending: (total) => logger.info("sending database snapshot to client", { "total-bytes": total, size: humanBytes(total) }),
      sent: (total) => {
        logger.info("sending database sha256 checksum to client", { "total-bytes": total, "checksum-size": 32 });
        logger.info("successfully sent database snapshot to client", { "total-bytes": total, size: humanBytes(total) });
      },
    }, signal);
  }

  /**
   * Opens a watch stream (see EtcdServerApi). Errors: Stopped, NotSupportedForLearner,
   * TooManyRequests (ResourceExhausted `etcdserver: too many requests`) while MAX_WATCH_STREAMS
   * streams are open.
   */
  openWatchStream(): WatchStream {
    this.assertOpen();
    this.rejectIfLearner();
    if (this.watchStreams >= MAX_WATCH_STREAMS) throw Errors.TooManyRequests();
    this.watchStreams++;
    return new WatchStream({
      onClose: () => this.watchStreams--,
      hub: this.watchHub,
      header: (revision) => this.watchHeader(revision),
      prevKv: (key, revision) => {
        try {
          return this.mvcc.range(create(RangeRequestSchema, { key, revision: BigInt(revision) })).kvs[0];
        } catch {
          return undefined; // compacted meanwhile: no prev_kv, as in etcd
        }
      },
      // etcd fragments at --max-request-bytes + grpcOverheadBytes (512 KiB), v3rpc/watch.go.
      maxResponseBytes: this.cfg.maxRequestBytes + 512 * 1024,
      progressIntervalMs: this.cfg.watchProgressNotifyIntervalMs,
      env: this.env,
    });
  }

  /** Header of watch responses at `revision`, shared by all responses of that revision (read-only). */
  private watchHeader(revision: number): ResponseHeader {
    const cached = this.lastWatchHeader;
    if (cached && cached.revision === BigInt(revision)) return cached;
    const h = this.header();
    h.revision = BigInt(revision);
    this.lastWatchHeader = h;
    return h;
  }

  /** Stops accepting proposals, lets queued ones finish, and closes the backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.peers?.close?.();
    } finally {
      this.shutdown();
    }
  }

  /** Stops every loop, fails every waiting caller with Stopped and closes the backend. */
  private shutdown(): void {
    this.compactor?.stop();
    this.leaseExpiry.stop();
    this.v2.stop();
    this.watchHub.close();
    this.raft.stop();
    this.sm.stop();
    this.db.close();
  }

  /**
   * Resolves once this member has joined its cluster's Raft group and published its name and
   * client URLs through the log (etcd's ReadyNotify); clients are served only from then on.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The image to send with a MsgSnap: a copy of the backend file (server/node/raft-snapshot-image.ts). */
  raftSnapshotImage(): Promise<OutgoingSnapshot> {
    this.assertOpen();
    return outgoingImage(this.db);
  }

  /** Where the image of an incoming MsgSnap `m` is written, for the apply loop to install. */
  receiveRaftSnapshotImage(m: Message): IncomingSnapshot {
    this.assertOpen();
    return incomingImage(this.db.filename, m);
  }

  /** Steps a Raft message from a peer (the transport calls this). */
  step(m: Message): void {
    if (this.closed) return;
    if (m.type === MessageType.MsgApp) this.appendStats.received(this.env.now(), messageBytes(m));
    this.raft.step(m);
  }

  /** {@link Proposer.propose}. */
  private propose(fields: Partial<InternalRaftRequest>, ai?: AuthInfo, signal?: Cancellation): Promise<AppliedResponse> {
    return this.proposer.propose(fields, ai, signal);
  }

  /** A client's write: refused on a learner, else {@link propose}. */
  private async clientPropose(fields: Partial<InternalRaftRequest>, ai?: AuthInfo, signal?: Cancellation): Promise<AppliedResponse> {
    this.rejectIfLearner();
    return this.propose(fields, ai, signal);
  }

  /**
   * The Ready loop failed (server/node/raft-driver.ts has stopped): memory may hold state the
   * disk does not, so nothing more is served or answered; `onFatal` ends the process (in tests
   * it returns, and the member is closed).
   */
  private memberFatal(msg: string, fields: Record<string, unknown>): void {
    if (this.failed) return;
    this.failed = true;
    const wasClosed = this.closed;
    this.closed = true;
    try {
      this.onFatal(msg, { ...fields, "local-member-id": idToHex(this.memberId) });
    } finally {
      if (!wasClosed) this.shutdown();
    }
  }

  /**
   * This member was removed from the cluster: like etcd, log it and resolve {@link removed}
   * after a second (so the leader's commit reaches the others first).
   */
  stopRemoved(): void {
    if (this.removalHandled || this.closed) return;
    this.removalHandled = true;
    this.logger.warn("the member has been permanently removed from the cluster");
    this.logger.warn("the data-dir used by this member must be removed");
    this.env.setTimeout(() => this.markRemoved(), 1000);
  }

  /** Leases are kept by the leader only (etcd's lessor Promote/Demote); publish attributes once. */
  private leaderChanged(lead: NodeId, electionMs: number): void {
    this.heartbeats.reset();
    if (lead !== 0n && lead !== this.lastLeader) this.counters.leaderChanges++;
    if (lead !== 0n) this.lastLeader = lead;
    if (lead !== 0n) this.leaderElectedAt = this.env.now();
    const leading = this.raft.status().softState.raftState === StateType.Leader;
    if (leading) this.lessor.promote(electionMs);
    else if (this.lessor.isPrimary) this.lessor.demote();
    // Only the leader compacts (etcd's updateLeadership pauses and resumes the compactor).
    if (leading) this.compactor?.resume();
    else this.compactor?.pause();
    if (lead !== 0n && !this.attributesPublished) {
      this.attributesPublished = true;
      this.publishAttributes();
    }
  }

  /**
   * Proposes this member's name and client URLs; the member is ready once they are applied. A
   * failed attempt (e.g. `request timed out`) is retried until it succeeds or the member closes,
   * as etcd's publish loops: waiting for the next leader change instead could leave a member that
   * joined under a stable leader never ready.
   */
  private publishAttributes(): void {
    if (this.closed) return;
    const self = this.membersTable.get(this.memberId);
    this.proposer.proposeEntry({
      memberAttributes: { ID: this.memberId, name: this.cfg.name, clientURLs: this.cfg.advertiseClientUrls },
    } as Partial<InternalRaftRequest>).then(
      () => this.markReady(),
      (e) => {
        this.logger.warn("failed to publish local member attributes", { error: String(e), member: self?.name });
        this.env.setTimeout(() => this.publishAttributes(), PROPOSAL_RETRY_MS);
      },
    );
  }

  /**
   * A ReadIndex round, then the wait until this member applied the read index; a failed round is
   * counted in `etcd_server_read_indexes_failed_total` (etcd's linearizableReadLoop). At most
   * MAX_READ_INDEX_WAITERS reads are in either step at once; one more is refused with
   * Errors.TooManyRequests().
   */
  private async readIndex(): Promise<void> {
    if (this.readsWaiting >= MAX_READ_INDEX_WAITERS) throw Errors.TooManyRequests();
    this.readsWaiting++;
    try {
      let index: number;
      try {
        index = await this.raft.readIndex();
      } catch (e) {
        this.counters.readIndexFailed++;
        throw e;
      }
      await this.sm.waitApplied(index);
    } finally {
      this.readsWaiting--;
    }
  }
  /** Linearizable reads in their ReadIndex round or waiting for apply to reach its index. */
  private readsWaiting = 0;

  /** Applied index: the last log entry this member applied (durably, with its effects). */
  get appliedIndex(): number {
    return this.sm.appliedIndex;
  }

  /**
   * Entries in the log not yet applied: etcd's committed minus applied index, plus the entries
   * appended but not yet committed. etcd's Raft goroutine commits proposals while requests keep
   * arriving; ours runs between turns of the event loop, so a burst proposed within one turn
   * would otherwise all pass the check before any of it is committed.
   */
  get applyLagEntries(): number {
    return Math.max(0, this.raft.lastIndex - this.sm.appliedIndex);
  }

  /** Counts and logs heartbeats sent later than two heartbeat intervals after the previous one (etcd's raft.go). */
  private checkHeartbeats(messages: Message[]): void {
    for (const m of messages) {
      if (m.type !== MessageType.MsgHeartbeat) continue;
      const exceedMs = this.heartbeats.observe(m.to);
      if (exceedMs > 0) {
        this.counters.heartbeatSendFailures++;
        this.logger.warn(LATE_HEARTBEAT_WARNING, this.heartbeats.warningFields(m.to, exceedMs));
      }
    }
  }

  /** What `/metrics` reads from this member at scrape time (server/metrics/registry.ts). */
  metricsSource(): MemberMetricsSource {
    return {
      memberId: this.memberId,
      counters: this.counters,
      hasLeader: () => this.raft.leader !== 0n,
      isLeader: () => this.raft.leader === this.memberId,
      isLearner: () => this.sm.isLearner,
      committedIndex: () => this.raft.committedIndex,
      appliedIndex: () => this.sm.appliedIndex,
      pendingProposals: () => this.sm.waiters.size,
      backendBytes: () => {
        if (this.closed) return { total: 0, inUse: 0 };
        // As Status reports them (dbSize, dbSizeInUse).
        const size = backendSize(this.db);
        return { total: Math.max(fileSize(backendPath(this.cfg.dataDir)), size.totalBytes), inUse: size.inUseBytes };
      },
      liveKeys: () => this.mvcc.liveKeys,
      watchers: () => this.watchHub.watcherCount,
      watchStreams: () => this.watchStreams,
      currentRevision: () => this.mvcc.currentRevision,
      compactRevision: () => this.mvcc.compactRevision,
      v2Store: () => ({ ...this.v2.store.metrics, watchers: this.v2.store.hub.count }),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw Errors.Stopped();
  }

  /** True once a member-fatal error stopped this member (tests; production has exited). */
  get hasFailed(): boolean {
    return this.failed;
  }
}

/** Approximate size of a Raft message for the append rates, bytes: its entries' payloads plus a header each. */
function messageBytes(m: Message): number {
  let bytes = 32;
  for (const e of m.entries) bytes += 16 + (e.data?.length ?? 0);
  return bytes;
}

/** True when every range of the txn (nested ones included) is serializable: no ReadIndex needed. */
function isTxnSerializable(req: TxnRequest): boolean {
  return [...req.success, ...req.failure].every((op) => {
    if (op.request.case === "requestRange") return op.request.value.serializable;
    if (op.request.case === "requestTxn") return isTxnSerializable(op.request.value);
    return true;
  });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Opens the backend under `cfg.dataDir` (failing with DataDirLockedError if another process
 * holds it), bootstraps, joins (`--initial-cluster-state existing` on a first start: asks the
 * peers of `--initial-cluster` for the membership; fails with `cannot fetch cluster info from
 * peer urls: ...` or `error validating peerURLs ...`) or restores membership, and returns the
 * running member.
 */
export async function startEtcdNode(cfg: NodeConfig, logger: NodeLogger): Promise<EtcdNode> {
  const db = openBackend(cfg.dataDir);
  try {
    // Files of a snapshot transfer cut short by a crash (we hold the data dir, so none is in use).
    removeSnapshotLeftovers(db.filename);
    if (cfg.forceNewCluster) {
      const forced = forceNewCluster(db, cfg);
      if (forced) {
        logger.info("forcing restart member", {
          "cluster-id": memberIdToHex(forced.clusterId),
          "local-member-id": memberIdToHex(forced.memberId),
          "commit-index": forced.commitIndex,
        });
      }
    }
    let join: JoinInfo | undefined;
    if (cfg.initialClusterState === "existing" && new Meta(db).getBigint(MetaKeys.memberId) === undefined) {
      join = await joinExistingCluster(cfg.initialCluster, cfg.name, undefined, peerClientTls(cfg.peerTls));
    }
    return new EtcdNode(db, cfg, logger, join);
  } catch (error) {
    db.close();
    throw error;
  }
}
