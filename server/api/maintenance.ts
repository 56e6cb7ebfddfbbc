/**
 * etcdserverpb.Maintenance: Status from the member; Alarm GET/DEACTIVATE answer "no alarms"
 * (this server raises none yet); Defragment succeeds without doing anything (SQLite needs no
 * bbolt-style defragmentation; etcd 3.4 answers an empty DefragmentResponse, no header).
 * MoveLeader hands leadership to another voter (only on the leader). A learner answers only
 * Status. Hash, HashKV, Snapshot and Alarm ACTIVATE answer Unimplemented for now.
 * Source: etcdserver/api/v3rpc/maintenance.go, interceptor.go.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { AlarmRequest_AlarmAction, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { unimplemented } from "./unimplemented.ts";

/** The Maintenance service implementation over `api`. */
export function maintenanceService(api: EtcdServerApi): ServiceImpl<typeof Maintenance> {
  const activate = unimplemented(Maintenance, "Alarm");
  return {
    status: () => api.status(),
    alarm: (req) => {
      api.rejectIfLearner?.();
      if (req.action === AlarmRequest_AlarmAction.ACTIVATE) activate();
      // etcd's applier answers alarms without a header (apply.go Alarm): `{}` when none are raised.
      return { alarms: [] };
    },
    defragment: () => {
      api.rejectIfLearner?.();
      return {};
    },
    hash: unimplemented(Maintenance, "Hash"),
    hashKV: unimplemented(Maintenance, "HashKV"),
    snapshot: unimplemented(Maintenance, "Snapshot"),
    // etcd answers an empty MoveLeaderResponse (no header). Errors: NotLeader, BadLeaderTransferee,
    // TimeoutLeaderTransfer (server/node/cluster-admin.ts).
    moveLeader: async (req) => {
      api.rejectIfLearner?.();
      if (!api.cluster) unimplemented(Maintenance, "MoveLeader")();
      await api.cluster!.moveLeader(req.targetID);
      return {};
    },
  };
}
