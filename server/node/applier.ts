/**
 * Applies one committed log entry (an InternalRaftRequest) to the member's state machine.
 *
 * Mirrors etcd's `etcdserver/apply.go` dispatch: exactly one request field is set per entry.
 * The caller runs this inside the SQLite transaction that also records the applied index, so
 * an entry's effects and the applied index become durable together (crash-safe, never
 * applied twice). A request that fails (e.g. compaction of an already compacted revision)
 * yields an error outcome for its client; it must not abort the other entries of the batch.
 */
import { ConnectError } from "@connectrpc/connect";
import type { Event } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import type {
  CompactionResponse,
  DeleteRangeResponse,
  LeaseCheckpointResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutResponse,
  TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { create } from "@bufbuild/protobuf";
import { CompactionResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { MvccStore } from "../mvcc/store.ts";
import { applyLeaseCheckpoint, applyLeaseGrant, applyLeaseRevoke, trackLeaseAttachments } from "../lease/apply.ts";
import type { Lessor } from "../lease/lessor.ts";
import { applyAuthEntry, checkEntryPermission, type AuthResponse } from "../auth/apply.ts";
import type { AuthStore } from "../auth/store.ts";
import type { TokenProvider } from "../auth/tokens.ts";
import type { AlarmResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { alarmRefusal, applyAlarm, type AlarmLog } from "../alarm/apply.ts";
import type { AlarmStore } from "../alarm/store.ts";
import { applyV2, type V2Outcome } from "../v2store/apply.ts";
import type { V2Store } from "../v2store/store.ts";

/** Response message of an applied write, header still unset (the node fills it). */
export type AppliedResponse =
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | CompactionResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | LeaseCheckpointResponse
  | AlarmResponse
  | AuthResponse;

/**
 * A successful entry's outcome: the response (none for an entry without a v3 answer: member
 * attributes, a v2 request, an unknown request), the MVCC events it produced and the revision
 * after it; for a v2 request its v2 store outcome too.
 */
export interface AppliedOutcome {
  response: AppliedResponse | undefined;
  events: Event[];
  revision: number;
  v2?: V2Outcome;
}

/** Outcome of applying one entry, or an etcd error. */
export type ApplyOutcome = AppliedOutcome | ConnectError;

/** What the applier needs from the member: the MVCC store, the lessor and the auth store. */
export interface ApplyTarget {
  mvcc: MvccStore;
  /** Lease table; keys written with a lease are attached to it (server/lease/apply.ts). */
  lessor: Lessor;
  /** Users, roles and permissions; absent: no permission checks (tests of MVCC alone). */
  authStore?: AuthStore;
  /** Token provider: simple tokens are registered when Authenticate is applied. */
  tokens?: TokenProvider;
  /** Raised alarms (server/alarm/store.ts); absent: no alarms (tests of MVCC alone). */
  alarms?: AlarmStore;
  /** Logs raised and cleared alarms. */
  alarmLog?: AlarmLog;
  /** The v2 keys store; absent: v2 entries change nothing (tests of MVCC alone). */
  v2Store?: V2Store;
}

/**
 * Applies `req` (the entry at log `index`) to `target`. The sender named in its header is
 * checked first (server/auth/apply.ts). Throws only for non-etcd failures (SQLite I/O): those
 * abort the whole batch. etcd errors (ConnectError) are returned as the entry's outcome.
 */
export function applyEntry(target: ApplyTarget, req: InternalRaftRequest, index = 0): ApplyOutcome {
  const { mvcc, lessor } = target;
  // etcd applies v2 requests apart from the v3 appliers (no alarm or v3 auth check).
  if (req.v2) {
    const v2 = target.v2Store ? applyV2(target.v2Store, req.v2) : undefined;
    return { response: undefined, events: [], revision: mvcc.currentRevision, v2 };
  }
  try {
    if (target.alarms) {
      // etcd's applierV3Capped / applierV3Corrupt wrap every other applier.
      const refused = alarmRefusal(target.alarms, req);
      if (refused) return refused;
      if (req.alarm) {
        const response = applyAlarm(target.alarms, req.alarm, target.alarmLog);
        if (response) return { response, events: [], revision: mvcc.currentRevision };
      }
    }
    if (target.authStore && target.tokens) {
      checkEntryPermission(target.authStore, lessor, req);
      const response = applyAuthEntry({ authStore: target.authStore, tokens: target.tokens }, req, index);
      if (response) return { response, events: [], revision: mvcc.currentRevision };
    }
    if (req.put) return withRevision(target, mvcc.put(req.put));
    if (req.deleteRange) return withRevision(target, mvcc.deleteRange(req.deleteRange));
    if (req.txn) return withRevision(target, mvcc.txn(req.txn));
    if (req.leaseGrant) return withRevision(target, { response: applyLeaseGrant(lessor, req.leaseGrant), events: [] });
    if (req.leaseRevoke) return { ...applyLeaseRevoke(lessor, mvcc, req.leaseRevoke), revision: mvcc.currentRevision };
    if (req.leaseCheckpoint) {
      return withRevision(target, { response: applyLeaseCheckpoint(lessor, req.leaseCheckpoint), events: [] });
    }
    if (req.compaction) {
      mvcc.compact(Number(req.compaction.revision));
      return { response: create(CompactionResponseSchema), events: [], revision: mvcc.currentRevision };
    }
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  // An entry with no known request changes nothing and has no answer.
  return { response: undefined, events: [], revision: mvcc.currentRevision };
}

/** The outcome of a write: keys move between leases as its events say, then the revision is read. */
function withRevision(
  target: ApplyTarget,
  result: { response: AppliedResponse; events: Event[] },
): ApplyOutcome {
  trackLeaseAttachments(target.lessor, result.events);
  return { ...result, revision: target.mvcc.currentRevision };
}
