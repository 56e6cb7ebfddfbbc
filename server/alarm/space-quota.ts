/**
 * A member's space quota (`--quota-backend-bytes`) as etcd 3.4 enforces it: the API refuses a
 * write that would not fit and raises NOSPACE (v3rpc/quota.go quotaAlarmer), and the applier
 * checks again on every member, answering NoSpace and raising the alarm after the apply round
 * (etcdserver/server.go applyEntryNormal). The size checks themselves are ./quota.ts.
 *
 * etcd's quota counts its bbolt file only; our backend also holds the Raft log, so a request
 * that does not fit in the whole file is checked again without the Raft log's pages.
 */
import type { Database } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import {
  AlarmRequest_AlarmAction,
  AlarmRequestSchema,
  AlarmType,
  type AlarmRequest,
  type AlarmResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { Errors } from "../errors.ts";
import { backendPages, tableBytes } from "../storage/size.ts";
import { humanizeBytes } from "../../cli/go/humanize.ts";
import { effectiveQuotaBytes, MAX_QUOTA_BYTES, quotaAvailable, type QuotaRequest } from "./quota.ts";

/** What the quota reads from and does through its member. */
export interface SpaceQuotaDeps {
  /** The member's backend (only read: page counts and the Raft log's bytes). */
  db: Database;
  memberId: bigint;
  /** `--quota-backend-bytes` as given (0: 2 GiB; negative: no quota). */
  flag: number;
  /** Whether this member is a learner (it neither refuses as quota nor raises alarms). */
  isLearner(): boolean;
  /** Backend size as of the last applied batch, bytes. */
  backendSize(): number;
  /** The member's applied index (the Raft log's size is measured again when it moves). */
  appliedIndex(): number;
  /** Whether a NOSPACE alarm is raised now. */
  noSpaceRaised(): boolean;
  /** Maintenance.Alarm through the log. */
  alarm(req: AlarmRequest): Promise<AlarmResponse>;
  /** Runs `fn` after the current apply round. */
  setImmediate(fn: () => void): void;
  isClosed(): boolean;
  logger: {
    info(msg: string, fields: Record<string, unknown>): void;
    warn(msg: string, fields: Record<string, unknown>): void;
  };
}

/** The quota of one member; see the module doc. */
export class SpaceQuota {
  /** The quota, bytes (Infinity: none). */
  readonly bytes: number;
  /** A NOSPACE alarm proposal this member has in flight (one at a time). */
  private raising = false;
  private raftLogBytesAt: { applied: number; pages: number; bytes: number } | undefined;
  private pageBytesCached: number | undefined;

  constructor(private readonly deps: SpaceQuotaDeps) {
    this.bytes = effectiveQuotaBytes(deps.flag);
    this.logStart();
  }

  /** etcd's NewBackendQuota start-up line. */
  private logStart(): void {
    const { flag, logger } = this.deps;
    if (flag < 0) {
      logger.info("disabled backend quota", { "quota-name": "v3-applier", "quota-size-bytes": flag });
      return;
    }
    if (flag > MAX_QUOTA_BYTES) {
      logger.warn("quota exceeds the maximum value", { "quota-name": "v3-applier", "quota-size-bytes": flag, "quota-maximum-size-bytes": MAX_QUOTA_BYTES });
    }
    logger.info(flag === 0 ? "enabled backend quota with default value" : "enabled backend quota", {
      "quota-name": "v3-applier",
      "quota-size-bytes": this.bytes,
    });
  }

  /**
   * etcd's quotaAlarmer.check (v3rpc/quota.go): undefined when `r` fits in the quota; else a
   * promise that proposes a NOSPACE alarm for this member (its failure is ignored) and rejects
   * with NoSpace (ResourceExhausted `etcdserver: mvcc: database space exceeded`).
   */
  refusal(r: QuotaRequest): Promise<never> | undefined {
    const size = this.deps.backendSize();
    // A learner's writes are refused as such by propose (etcd's interceptor runs first).
    if (this.deps.isLearner() || quotaAvailable(r, size, this.bytes)) return undefined;
    if (quotaAvailable(r, size - this.raftLogBytes(), this.bytes)) return undefined;
    return this.deps.alarm(this.activateNoSpace()).then(
      () => Promise.reject(Errors.NoSpace()),
      () => Promise.reject(Errors.NoSpace()),
    );
  }

  /**
   * Whether the Put, Txn or LeaseGrant in `req` still fits in the quota as the backend is now,
   * checked on every member when the entry is applied (the API's check, {@link refusal}, saw an
   * older size). An entry that does not fit is applied all the same and answered NoSpace, as
   * etcd does.
   *
   * Like etcd's, the size checked first is the one measured when the backend transaction began
   * (etcd's backend.begin stores tx.Size(); ours: after the previous apply batch committed), so
   * a put far below the quota costs no `PRAGMA page_count`; only a request that would not fit in
   * that size is checked against the pages now, with and without the Raft log's.
   */
  fitsAtApply(req: InternalRaftRequest): boolean {
    const r: QuotaRequest | undefined = req.put ? { put: req.put } : req.txn ? { txn: req.txn } : req.leaseGrant ? { leaseGrant: req.leaseGrant } : undefined;
    if (!r || this.bytes === Infinity) return true;
    if (quotaAvailable(r, this.deps.backendSize(), this.bytes)) return true;
    const now = backendPages(this.deps.db) * this.pageBytes;
    return quotaAvailable(r, now, this.bytes) || quotaAvailable(r, now - this.raftLogBytes(), this.bytes);
  }

  /**
   * An applied entry exceeded the quota: unless NOSPACE is raised already, logs etcd's warning
   * and proposes NOSPACE for this member (etcdserver/server.go applyEntryNormal). A learner
   * cannot propose: the voters raise it.
   */
  raiseAfterApply(): void {
    const { deps } = this;
    if (this.raising || deps.isLearner() || deps.noSpaceRaised()) return;
    deps.logger.warn("message exceeded backend quota; raising alarm", {
      "quota-size-bytes": deps.flag,
      "quota-size": humanizeBytes(this.bytes),
      error: Errors.NoSpace().rawMessage,
    });
    this.raising = true;
    // Proposed once the apply round is over (etcd: in a goroutine of its own).
    deps.setImmediate(() => {
      if (deps.isClosed()) return;
      void deps
        .alarm(this.activateNoSpace())
        .catch((e) => deps.logger.warn("failed to raise the NOSPACE alarm", { error: String(e) }))
        .finally(() => (this.raising = false));
    });
  }

  private activateNoSpace(): AlarmRequest {
    return create(AlarmRequestSchema, { memberID: this.deps.memberId, action: AlarmRequest_AlarmAction.ACTIVATE, alarm: AlarmType.NOSPACE });
  }

  /** Bytes of the Raft log's pages, measured again only when the applied index or the file size changed. */
  private raftLogBytes(): number {
    const { db } = this.deps;
    const applied = this.deps.appliedIndex();
    const pages = backendPages(db);
    const at = this.raftLogBytesAt;
    if (at?.applied !== applied || at.pages !== pages) this.raftLogBytesAt = { applied, pages, bytes: tableBytes(db, "raft_log") };
    return this.raftLogBytesAt!.bytes;
  }

  /** Page size of the backend, bytes (fixed once the file exists). */
  private get pageBytes(): number {
    return (this.pageBytesCached ??= this.deps.db.query<{ page_size: number }, []>("PRAGMA page_size").get()?.page_size ?? 4096);
  }
}
