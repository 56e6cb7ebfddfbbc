/**
 * EtcdNode: one member's write and read pipeline, implementing `EtcdServerApi`.
 *
 * Write path (etcd's `etcdserver/v3_server.go` processInternalRaftRequest, single member):
 *   client -> propose (encode InternalRaftRequest, size check) -> group commit:
 *   one SQLite transaction appends the batch to `raft_log`, applies every entry to MVCC and
 *   records the applied index and commit index -> COMMIT (fsync, synchronous=FULL) -> each
 *   caller gets its response. A write is acknowledged only once durable; after `kill -9` the
 *   transaction either happened whole or not at all, so nothing acknowledged is lost and
 *   nothing is applied twice. The Raft issue replaces "append and commit at once" with
 *   replication, keeping the apply step (server/node/applier.ts) as it is.
 */
import { ConnectError } from "@connectrpc/connect";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { statSync } from "node:fs";
import type { Database } from "bun:sqlite";
import {
  InternalRaftRequestSchema,
  type InternalRaftRequest,
} from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { LeaseRevokeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import {
  MemberSchema,
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
import { HardStateTable } from "../storage/hard-state.ts";
import { RaftLog, type LogEntry } from "../storage/raft-log.ts";
import { MembersTable } from "../storage/members.ts";
import { LeasesTable } from "../storage/leases.ts";
import { Lessor, minLeaseTtl, type Clock } from "../lease/lessor.ts";
import { LeaseIdGenerator } from "../lease/ids.ts";
import { restoreLeaseAttachments } from "../lease/apply.ts";
import { startLeaseExpiry, type LeaseExpiryLoop } from "../lease/expiry.ts";
import { ETCD_SERVER_VERSION } from "../config.ts";
import { applyEntry, type ApplyOutcome, type AppliedResponse } from "./applier.ts";
import { GroupCommit } from "./group-commit.ts";
import { bootstrapMembership, type BootstrapConfig } from "./bootstrap.ts";
import type { EtcdServerApi } from "./types.ts";

/** Log entry type of a normal (client write) entry; Raft's EntryNormal. */
const ENTRY_NORMAL = 0;

/** The settings the node needs; `EtcdConfig` (server/config.ts) satisfies it. */
export interface NodeConfig extends BootstrapConfig {
  /** Data directory; the backend lives at `<dataDir>/member/db`. */
  dataDir: string;
  /** Largest accepted proposal, bytes (`--max-request-bytes`, default 1.5 MiB). */
  maxRequestBytes: number;
  /** Applied entries kept in `raft_log` before older ones are trimmed (`--snapshot-count`). */
  snapshotCount: number;
  /** `--heartbeat-interval`, ms (default 100); with the election timeout it sets the minimum lease TTL. */
  heartbeatIntervalMs?: number;
  /** `--election-timeout`, ms (default 1000); leases get this much extra life at start-up, as in etcd. */
  electionTimeoutMs?: number;
  /** Time source of lease expiry; default the system clock (tests inject a fake one). */
  clock?: Clock;
  /** Period of watch progress notifications, ms (etcd's `--experimental-watch-progress-notify-interval`, default 10 min). */
  watchProgressNotifyIntervalMs?: number;
}

/** Minimal structured logger (server/log.ts provides one). */
export interface NodeLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** A proposal waiting for group commit. */
interface Proposal {
  req: InternalRaftRequest;
  data: Uint8Array;
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
  private readonly meta: Meta;
  private readonly log: RaftLog;
  private readonly hardState: HardStateTable;
  private readonly membersTable: MembersTable;
  private readonly commit: GroupCommit<Proposal, ApplyOutcome>;
  private readonly term: number;
  private lastIndex: number;
  private appliedIndex: number;
  private nextProposalId = 1n;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly cfg: NodeConfig,
    private readonly logger: NodeLogger,
  ) {
    this.meta = new Meta(db);
    this.log = new RaftLog(db);
    this.hardState = new HardStateTable(db);
    this.membersTable = new MembersTable(db);
    const ids = bootstrapMembership(db, this.meta, this.membersTable, cfg);
    this.clusterId = ids.clusterId;
    this.memberId = ids.memberId;
    const heartbeatMs = cfg.heartbeatIntervalMs ?? 100;
    const electionMs = cfg.electionTimeoutMs ?? 1000;
    this.lessor = new Lessor({
      minTtl: minLeaseTtl(heartbeatMs, electionMs),
      store: new LeasesTable(db),
      clock: cfg.clock,
    });
    this.leaseIds = new LeaseIdGenerator(this.memberId);
    this.mvcc = new MvccStore(db, { leaseExists: (id) => this.lessor.has(id) });
    restoreLeaseAttachments(this.lessor, this.mvcc.leaseAttachmentsAtOpen());
    this.watchHub = new WatchHub(this.mvcc, new HistoryReader(db));

    // A single member wins an election at every start: the term grows by one, as in etcd
    // (a fresh member is at term 2 after bootstrap's term 1).
    const hs = this.hardState.load();
    this.term = Math.max(hs.term + 1, 2);
    this.lastIndex = this.log.lastIndex();
    this.appliedIndex = this.meta.getNumber(MetaKeys.appliedIndex, 0);
    this.hardState.save({ term: this.term, vote: this.memberId, commit: Math.max(hs.commit, this.lastIndex) });
    this.replayUnapplied();
    this.commit = new GroupCommit((batch) => this.appendAndApply(batch));
    // The single member holds the leases from the start: every lease gets its full TTL plus
    // one election timeout (etcd's Promote on becoming leader), then expires through the log.
    this.lessor.promote(electionMs);
    this.leaseExpiry = startLeaseExpiry(this.lessor, (id) => this.leaseRevoke(create(LeaseRevokeRequestSchema, { ID: id })));
  }

  header(): ResponseHeader {
    return create(ResponseHeaderSchema, {
      clusterId: this.clusterId,
      memberId: this.memberId,
      revision: BigInt(this.mvcc.currentRevision),
      raftTerm: BigInt(this.term),
    });
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    this.assertOpen();
    // Single member: every acknowledged write is applied, so reading now is linearizable.
    const response = this.mvcc.range(req);
    response.header = this.header();
    return response;
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.propose({ put: req }) as Promise<PutResponse>;
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.propose({ deleteRange: req }) as Promise<DeleteRangeResponse>;
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    if (isTxnReadOnly(req)) {
      // etcd serves read-only txns without a proposal (v3_server.go Txn); they change nothing.
      this.assertOpen();
      const { response } = this.mvcc.txn(req);
      response.header = this.header();
      return response;
    }
    return this.propose({ txn: req }) as Promise<TxnResponse>;
  }

  compact(req: CompactionRequest): Promise<CompactionResponse> {
    return this.propose({ compaction: req }) as Promise<CompactionResponse>;
  }

  leaseGrant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    let ID = req.ID;
    // etcd picks a positive ID from the member's request-ID generator when none is given.
    while (ID === 0n || (req.ID === 0n && this.lessor.has(ID))) ID = this.leaseIds.next();
    return this.propose({ leaseGrant: { ...req, ID } }) as Promise<LeaseGrantResponse>;
  }

  leaseRevoke(req: LeaseRevokeRequest): Promise<LeaseRevokeResponse> {
    return this.propose({ leaseRevoke: req }) as Promise<LeaseRevokeResponse>;
  }

  async leaseRenew(id: bigint): Promise<bigint> {
    this.assertOpen();
    return BigInt(await this.lessor.renew(id));
  }

  async leaseTimeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    this.assertOpen();
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

  members(): Member[] {
    return this.membersTable.all().map((m) =>
      create(MemberSchema, {
        ID: m.id,
        name: m.name,
        peerURLs: m.peerURLs,
        clientURLs: m.clientURLs,
        isLearner: m.isLearner,
      }),
    );
  }

  status(): StatusResponse {
    const dbSize = fileSize(backendPath(this.cfg.dataDir));
    return create(StatusResponseSchema, {
      header: this.header(),
      version: ETCD_SERVER_VERSION,
      dbSize: BigInt(dbSize),
      dbSizeInUse: BigInt(dbSize),
      leader: this.memberId,
      raftIndex: BigInt(this.lastIndex),
      raftTerm: BigInt(this.term),
      raftAppliedIndex: BigInt(this.appliedIndex),
      isLearner: false,
    });
  }

  openWatchStream(): WatchStream {
    this.assertOpen();
    return new WatchStream({
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
    this.leaseExpiry.stop();
    this.watchHub.close();
    while (this.commit.pending > 0) await new Promise((r) => setImmediate(r));
    this.db.close();
  }

  /**
   * Encodes and queues a write. Errors: RequestTooLarge (InvalidArgument) when the encoded
   * request exceeds `--max-request-bytes`; Stopped (Unavailable) after close().
   */
  private async propose(fields: Partial<InternalRaftRequest>): Promise<AppliedResponse> {
    this.assertOpen();
    const id = this.nextProposalId++;
    const req = create(InternalRaftRequestSchema, { ...fields, ID: id });
    const data = toBinary(InternalRaftRequestSchema, req);
    if (data.length > this.cfg.maxRequestBytes) throw Errors.RequestTooLarge();
    const outcome = await this.commit.submit({ req, data });
    if (outcome instanceof ConnectError) throw outcome;
    outcome.response.header = this.header();
    outcome.response.header.revision = BigInt(outcome.revision);
    return outcome.response;
  }

  /** One group-commit batch: append + apply + applied index in one SQLite transaction. */
  private appendAndApply(batch: Proposal[]): (ApplyOutcome | Error)[] {
    const outcomes: ApplyOutcome[] = [];
    const first = this.lastIndex + 1;
    this.db.transaction(() => {
      const entries: LogEntry[] = batch.map((p, i) => ({
        index: first + i,
        term: this.term,
        type: ENTRY_NORMAL,
        data: p.data,
      }));
      this.log.append(entries);
      for (const p of batch) outcomes.push(this.applyOne(p.req));
      const last = first + batch.length - 1;
      this.meta.setNumber(MetaKeys.appliedIndex, last);
      this.hardState.save({ term: this.term, vote: this.memberId, commit: last });
    })();
    this.lastIndex = first + batch.length - 1;
    this.appliedIndex = this.lastIndex;
    // Durable now: watchers see each entry's events, in revision order.
    for (const o of outcomes) if (!(o instanceof ConnectError) && o.events.length > 0) this.watchHub.notify(o.revision, o.events);
    this.trimLog();
    return outcomes;
  }

  /** Applies one entry inside a savepoint, so a failed request leaves no partial writes. */
  private applyOne(req: InternalRaftRequest): ApplyOutcome {
    try {
      return this.db.transaction(() => {
        const outcome = applyEntry(this, req);
        if (outcome instanceof ConnectError) throw outcome;
        return outcome;
      })();
    } catch (error) {
      if (error instanceof ConnectError) return error;
      throw error;
    }
  }

  /** Applies entries that are in the log but not yet applied (crash between append and apply). */
  private replayUnapplied(): void {
    if (this.appliedIndex >= this.lastIndex) return;
    const entries = this.log.entries(this.appliedIndex + 1, this.lastIndex + 1);
    this.db.transaction(() => {
      for (const e of entries) {
        if (e.type === ENTRY_NORMAL && e.data.length > 0) {
          this.applyOne(fromBinary(InternalRaftRequestSchema, e.data));
        }
      }
      this.meta.setNumber(MetaKeys.appliedIndex, this.lastIndex);
    })();
    this.logger.info("replayed unapplied log entries", {
      from: this.appliedIndex + 1,
      to: this.lastIndex,
    });
    this.appliedIndex = this.lastIndex;
  }

  /** Keeps at most `snapshotCount` applied entries in the log (all state is in MVCC already). */
  private trimLog(): void {
    const keep = Math.max(this.cfg.snapshotCount, 1);
    if (this.appliedIndex - this.log.firstIndex() > keep + 1000) {
      this.log.compactBefore(this.appliedIndex - keep);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw Errors.Stopped();
  }
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
 * holds it), bootstraps or restores membership, and returns the running member.
 */
export async function startEtcdNode(cfg: NodeConfig, logger: NodeLogger): Promise<EtcdNode> {
  const db = openBackend(cfg.dataDir);
  try {
    return new EtcdNode(db, cfg, logger);
  } catch (error) {
    db.close();
    throw error;
  }
}
