/**
 * Applying an Alarm entry (etcd's etcdserver/apply.go applierV3backend.Alarm) and the write
 * refusals alarms cause (applierV3Capped for NOSPACE, applierV3Corrupt for CORRUPT).
 * Runs inside the apply transaction.
 */
import { create } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import {
  AlarmRequest_AlarmAction,
  AlarmResponseSchema,
  AlarmType,
  type AlarmRequest,
  type AlarmResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { Errors } from "../errors.ts";
import { idToHex } from "../membership/ids.ts";
import type { AlarmStore } from "./store.ts";
import { txnPutCost } from "./quota.ts";

/** Where the applier reports raised and cleared alarms (a `warn` line, as etcd logs them). */
export type AlarmLog = (msg: string, fields: Record<string, unknown>) => void;

/**
 * Applies `req`: GET answers the alarms of `req.alarm` (NONE: all); ACTIVATE raises
 * `req.alarm` for `req.memberID` and answers it (already raised: the existing one);
 * DEACTIVATE clears it and answers it (not raised: no alarms). An unknown action answers
 * undefined (etcd answers a nil response). The response has no header, as etcd's.
 */
export function applyAlarm(store: AlarmStore, req: AlarmRequest, log?: AlarmLog): AlarmResponse | undefined {
  const resp = create(AlarmResponseSchema);
  const before = store.get(req.alarm).length;
  switch (req.action) {
    case AlarmRequest_AlarmAction.GET:
      resp.alarms = store.get(req.alarm);
      return resp;
    case AlarmRequest_AlarmAction.ACTIVATE: {
      const m = store.activate(req.memberID, req.alarm);
      resp.alarms = [m];
      if (before === 0) log?.("alarm raised", { alarm: AlarmType[m.alarm], from: idToHex(m.memberID) });
      return resp;
    }
    case AlarmRequest_AlarmAction.DEACTIVATE: {
      const m = store.deactivate(req.memberID, req.alarm);
      if (!m) return resp;
      resp.alarms = [m];
      if (before > 0 && store.get(req.alarm).length === 0) log?.("alarm disarmed", { alarm: AlarmType[m.alarm], from: idToHex(m.memberID) });
      return resp;
    }
    default:
      return undefined;
  }
}

/**
 * The refusal an entry gets under the raised alarms, or undefined: with CORRUPT, Put,
 * DeleteRange, Txn, Compaction, LeaseGrant and LeaseRevoke fail with Corrupt (DataLoss
 * `etcdserver: corrupt cluster`); with NOSPACE, Put, a Txn with a put in either branch and
 * LeaseGrant fail with NoSpace (ResourceExhausted `etcdserver: mvcc: database space exceeded`).
 * Deletes, compaction, lease revokes and read-only txns still pass under NOSPACE, so space can
 * be freed. (etcd resets both appliers when either alarm is disarmed; here each alarm counts
 * while it is raised.)
 */
export function alarmRefusal(store: AlarmStore, req: InternalRaftRequest): ConnectError | undefined {
  if (store.has(AlarmType.CORRUPT)) {
    if (req.put || req.deleteRange || req.txn || req.compaction || req.leaseGrant || req.leaseRevoke) return Errors.Corrupt();
  }
  if (store.has(AlarmType.NOSPACE)) {
    if (req.put || req.leaseGrant || (req.txn && txnPutCost(req.txn) > 0)) return Errors.NoSpace();
  }
  return undefined;
}
