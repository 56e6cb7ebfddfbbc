/**
 * etcdserverpb.Maintenance: Status from the member; Alarm GET/ACTIVATE/DEACTIVATE through the
 * log (server/alarm/, an AlarmResponse without header as etcd's); Defragment gives free pages
 * back in steps while the member serves (server/storage/defrag.ts; etcd 3.4 answers an empty
 * DefragmentResponse, no header).
 * MoveLeader hands leadership to another voter (only on the leader). A learner answers only
 * Status. Hash and HashKV hash this member's backend and history (server/mvcc/hash.ts);
 * Snapshot answers Unimplemented for now. With auth
 * enabled, Defragment, Hash, HashKV and Snapshot are for root only (etcd's authMaintenanceServer,
 * which returns the auth store's own errors, so clients get Unknown `auth: permission denied`,
 * `auth: user name is empty`, `auth: user not found` or `auth: invalid auth token`); Status,
 * Alarm and MoveLeader are not checked.
 * Source: etcdserver/api/v3rpc/maintenance.go, interceptor.go.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import { Maintenance } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
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
    alarm: async (req) => {
      api.rejectIfLearner?.();
      if (!api.alarm) return { alarms: [] };
      return api.alarm(req);
    },
    defragment: async (_req, ctx) => {
      api.rejectIfLearner?.();
      await checkAdmin(ctx);
      await api.defragment?.();
      return {};
    },
    // etcd fills the header after hashing: revision = the store revision when it started.
    hash: async (req, ctx) => {
      api.rejectIfLearner?.();
      if (!api.hash) return adminOnly("Hash")(req, ctx);
      await checkAdmin(ctx);
      const hash = api.hash();
      return { header: api.header(), hash };
    },
    hashKV: async (req, ctx) => {
      api.rejectIfLearner?.();
      if (!api.hashKV) return adminOnly("HashKV")(req, ctx);
      await checkAdmin(ctx);
      const r = await api.hashKV(Number(req.revision));
      const header = api.header();
      header.revision = BigInt(r.revision);
      return { header, hash: r.hash, compactRevision: BigInt(r.compactRevision) };
    },
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
