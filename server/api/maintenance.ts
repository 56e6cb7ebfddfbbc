/**
 * etcdserverpb.Maintenance: Status from the member; Alarm GET/DEACTIVATE answer "no alarms"
 * (this server raises none yet); Defragment succeeds without doing anything (SQLite needs no
 * bbolt-style defragmentation; etcd 3.4 answers an empty DefragmentResponse, no header).
 * MoveLeader hands leadership to another voter (only on the leader). A learner answers only
 * Status. Hash, HashKV, Snapshot and Alarm ACTIVATE answer Unimplemented for now. With auth
 * enabled, Defragment, Hash, HashKV and Snapshot are for root only (etcd's authMaintenanceServer:
 * UserEmpty, UserNotFound, PermissionDenied); Status, Alarm and MoveLeader are not checked.
 * Source: etcdserver/api/v3rpc/maintenance.go, interceptor.go.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { AlarmRequest_AlarmAction, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { requestAuth } from "./auth-context.ts";
import { unimplemented } from "./unimplemented.ts";

/** The Maintenance service implementation over `api`. */
export function maintenanceService(api: EtcdServerApi): ServiceImpl<typeof Maintenance> {
  const activate = unimplemented(Maintenance, "Alarm");
  /** etcd's isAuthenticated: the caller must have the root role (when auth is enabled). */
  const checkAdmin = async (ctx: Parameters<typeof requestAuth>[1]) => {
    const ai = await requestAuth(api, ctx);
    api.auth?.checkAdmin(ai);
  };
  const adminOnly = (method: "Hash" | "HashKV" | "Snapshot") => {
    const answer = unimplemented(Maintenance, method);
    return async (_req: unknown, ctx: Parameters<typeof requestAuth>[1]): Promise<never> => {
      await checkAdmin(ctx);
      return answer();
    };
  };
  return {
    status: () => api.status(),
    alarm: (req) => {
      api.rejectIfLearner?.();
      if (req.action === AlarmRequest_AlarmAction.ACTIVATE) activate();
      return { header: api.header(), alarms: [] };
    },
    defragment: async (_req, ctx) => {
      api.rejectIfLearner?.();
      await checkAdmin(ctx);
      return {};
    },
    hash: adminOnly("Hash"),
    hashKV: adminOnly("HashKV"),
    // eslint-disable-next-line require-yield
    snapshot: async function* (req, ctx) {
      await adminOnly("Snapshot")(req, ctx);
    },
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
