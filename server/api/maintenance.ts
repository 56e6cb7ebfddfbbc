/**
 * etcdserverpb.Maintenance: Status from the member; Alarm GET/DEACTIVATE answer "no alarms"
 * (this server raises none yet); Defragment succeeds without doing anything (SQLite needs no
 * bbolt-style defragmentation; etcd 3.4 answers an empty DefragmentResponse, no header).
 * MoveLeader hands leadership to another voter (only on the leader). A learner answers only
 * Status. Hash, HashKV, Snapshot and Alarm ACTIVATE answer Unimplemented for now. With auth
 * enabled, Defragment, Hash, HashKV and Snapshot are for root only (etcd's authMaintenanceServer,
 * which returns the auth store's own errors, so clients get Unknown `auth: permission denied`,
 * `auth: user name is empty`, `auth: user not found` or `auth: invalid auth token`); Status,
 * Alarm and MoveLeader are not checked.
 * Source: etcdserver/api/v3rpc/maintenance.go, interceptor.go.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import { AlarmRequest_AlarmAction, Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { requestAuth } from "./auth-context.ts";
import { unimplemented } from "./unimplemented.ts";

/** etcd's auth-package texts of the errors its maintenance server passes on unconverted (auth/store.go). */
const RAW_AUTH_ERRORS = new Map<string, string>([
  [Errors.PermissionDenied().rawMessage, "auth: permission denied"],
  [Errors.UserEmpty().rawMessage, "auth: user name is empty"],
  [Errors.UserNotFound().rawMessage, "auth: user not found"],
  [Errors.InvalidAuthToken().rawMessage, "auth: invalid auth token"],
]);

/** An auth refusal as etcd's authMaintenanceServer answers it: Unknown with the auth store's text. */
function rawAuthError(e: unknown): unknown {
  if (!(e instanceof ConnectError)) return e;
  const raw = RAW_AUTH_ERRORS.get(e.rawMessage);
  return raw ? new ConnectError(raw, Code.Unknown) : e;
}

/** The Maintenance service implementation over `api`. */
export function maintenanceService(api: EtcdServerApi): ServiceImpl<typeof Maintenance> {
  const activate = unimplemented(Maintenance, "Alarm");
  /** etcd's isAuthenticated: the caller must have the root role (when auth is enabled). */
  const checkAdmin = async (ctx: Parameters<typeof requestAuth>[1]) => {
    try {
      api.auth?.checkAdmin(await requestAuth(api, ctx));
    } catch (e) {
      throw rawAuthError(e);
    }
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
      // etcd's applier answers alarms without a header (apply.go Alarm): `{}` when none are raised.
      return { alarms: [] };
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
