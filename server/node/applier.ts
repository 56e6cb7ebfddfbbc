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
  PutResponse,
  TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { create } from "@bufbuild/protobuf";
import { CompactionResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { MvccStore } from "../mvcc/store.ts";

/** Response message of an applied write, header still unset (the node fills it). */
export type AppliedResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse;

/** Outcome of applying one entry: the response and the MVCC events it produced, or an etcd error. */
export type ApplyOutcome = { response: AppliedResponse; events: Event[]; revision: number } | ConnectError;

/** What the applier needs from the member: today the MVCC store; leases and auth join later. */
export interface ApplyTarget {
  mvcc: MvccStore;
}

/**
 * Applies `req` to `target`. Throws only for non-etcd failures (SQLite I/O): those abort the
 * whole batch. etcd errors (ConnectError) are returned as the entry's outcome.
 */
export function applyEntry(target: ApplyTarget, req: InternalRaftRequest): ApplyOutcome {
  const { mvcc } = target;
  try {
    if (req.put) return withRevision(mvcc, mvcc.put(req.put));
    if (req.deleteRange) return withRevision(mvcc, mvcc.deleteRange(req.deleteRange));
    if (req.txn) return withRevision(mvcc, mvcc.txn(req.txn));
    if (req.compaction) {
      mvcc.compact(Number(req.compaction.revision));
      return { response: create(CompactionResponseSchema), events: [], revision: mvcc.currentRevision };
    }
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  // An entry with no known request (e.g. an empty leader entry) changes nothing.
  return { response: create(CompactionResponseSchema), events: [], revision: mvcc.currentRevision };
}

function withRevision(
  mvcc: MvccStore,
  result: { response: AppliedResponse; events: Event[] },
): ApplyOutcome {
  return { ...result, revision: mvcc.currentRevision };
}
