/**
 * The auth side of applying a committed entry (etcd's etcdserver/apply_auth.go authApplierV3
 * and the auth cases of apply.go): the sender named in the entry's RequestHeader (user name
 * and the auth revision its credentials were checked at) must be allowed to do what the entry
 * asks, checked when the entry is applied, so every member decides the same.
 *
 * - auth administration (everything but Authenticate, UserGet, RoleGet): root role;
 * - UserGet: root, or the user asking about itself; RoleGet: root, or a user having the role;
 * - Put: WRITE on the key, READ too with prev_kv, and WRITE on every key already attached to
 *   the lease it names; DeleteRange: WRITE on the range, READ too with prev_kv;
 * - Txn: READ on every compare's range and, in both branches, what each op needs (as etcd's
 *   checkTxnReqsPermission; nested txns are checked too, which etcd 3.4 forgets);
 * - LeaseRevoke: WRITE on every key attached to the lease.
 * Compaction, LeaseGrant, LeaseCheckpoint and member attributes need nothing, as in etcd.
 */
import { create } from "@bufbuild/protobuf";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import {
  AuthDisableResponseSchema,
  AuthEnableResponseSchema,
  AuthenticateResponseSchema,
  AuthRoleAddResponseSchema,
  AuthRoleDeleteResponseSchema,
  AuthRoleGetResponseSchema,
  AuthRoleGrantPermissionResponseSchema,
  AuthRoleListResponseSchema,
  AuthRoleRevokePermissionResponseSchema,
  AuthUserAddResponseSchema,
  AuthUserChangePasswordResponseSchema,
  AuthUserDeleteResponseSchema,
  AuthUserGetResponseSchema,
  AuthUserGrantRoleResponseSchema,
  AuthUserListResponseSchema,
  AuthUserRevokeRoleResponseSchema,
  type AuthDisableResponse,
  type AuthEnableResponse,
  type AuthenticateResponse,
  type AuthRoleAddResponse,
  type AuthRoleDeleteResponse,
  type AuthRoleGetResponse,
  type AuthRoleGrantPermissionResponse,
  type AuthRoleListResponse,
  type AuthRoleRevokePermissionResponse,
  type AuthUserAddResponse,
  type AuthUserChangePasswordResponse,
  type AuthUserDeleteResponse,
  type AuthUserGetResponse,
  type AuthUserGrantRoleResponse,
  type AuthUserListResponse,
  type AuthUserRevokeRoleResponse,
  type RequestOp,
  type TxnRequest,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { keyToBytes } from "../mvcc/keys.ts";
import type { Lessor } from "../lease/lessor.ts";
import type { AuthInfo, AuthStore } from "./store.ts";
import type { TokenProvider } from "./tokens.ts";

/** Response of an applied auth request (header unset). */
export type AuthResponse =
  | AuthEnableResponse
  | AuthDisableResponse
  | AuthenticateResponse
  | AuthUserAddResponse
  | AuthUserDeleteResponse
  | AuthUserChangePasswordResponse
  | AuthUserGrantRoleResponse
  | AuthUserGetResponse
  | AuthUserListResponse
  | AuthUserRevokeRoleResponse
  | AuthRoleAddResponse
  | AuthRoleGetResponse
  | AuthRoleListResponse
  | AuthRoleDeleteResponse
  | AuthRoleGrantPermissionResponse
  | AuthRoleRevokePermissionResponse;

/** What applying needs: the store and the member's token provider. */
export interface AuthApplyTarget {
  authStore: AuthStore;
  tokens: TokenProvider;
}

/** The sender of an entry as its header names it (no header: no credentials). */
export function entryAuthInfo(req: InternalRaftRequest): AuthInfo {
  return { username: req.header?.username ?? "", revision: Number(req.header?.authRevision ?? 0n) };
}

/** Whether the entry administers auth (etcd's needAdminPermission). */
function needsAdmin(req: InternalRaftRequest): boolean {
  return !!(
    req.authEnable ||
    req.authDisable ||
    req.authUserAdd ||
    req.authUserDelete ||
    req.authUserChangePassword ||
    req.authUserGrantRole ||
    req.authUserRevokeRole ||
    req.authRoleAdd ||
    req.authRoleGrantPermission ||
    req.authRoleRevokePermission ||
    req.authRoleDelete ||
    req.authUserList ||
    req.authRoleList
  );
}

/** WRITE on every key attached to lease `id` (etcd's checkLeasePuts; unknown leases pass). */
function checkLeasePuts(store: AuthStore, lessor: Lessor, ai: AuthInfo, id: bigint): void {
  const lease = id === 0n ? undefined : lessor.lookup(id);
  if (!lease) return;
  for (const key of lease.keys) store.isPutPermitted(ai, keyToBytes(key));
}

/** What each op of a txn branch needs (etcd's checkTxnReqsPermission). */
function checkTxnOps(store: AuthStore, ai: AuthInfo, ops: RequestOp[]): void {
  for (const op of ops) {
    const r = op.request;
    if (r.case === "requestRange") store.isRangePermitted(ai, r.value.key, r.value.rangeEnd);
    else if (r.case === "requestPut") store.isPutPermitted(ai, r.value.key);
    else if (r.case === "requestDeleteRange") {
      if (r.value.prevKv) store.isRangePermitted(ai, r.value.key, r.value.rangeEnd);
      store.isDeleteRangePermitted(ai, r.value.key, r.value.rangeEnd);
    } else if (r.case === "requestTxn") checkTxnAuth(store, ai, r.value);
  }
}

/**
 * Whether `ai` may run `txn`: READ on every compare, then each op of both branches (etcd's
 * checkTxnAuth; also used for read-only txns served without the log). Errors: UserEmpty,
 * AuthOldRevision (InvalidArgument), PermissionDenied.
 */
export function checkTxnAuth(store: AuthStore, ai: AuthInfo | undefined, txn: TxnRequest): void {
  const who = ai ?? { username: "", revision: 0 };
  for (const c of txn.compare) store.isRangePermitted(who, c.key, c.rangeEnd);
  checkTxnOps(store, who, txn.success);
  checkTxnOps(store, who, txn.failure);
}

/**
 * Checks the sender of a KV or lease entry (module doc). Throws etcd's error when refused:
 * UserEmpty, AuthOldRevision (InvalidArgument), PermissionDenied, or for administration
 * UserNotFound.
 */
export function checkEntryPermission(store: AuthStore, lessor: Lessor, req: InternalRaftRequest): void {
  if (!store.enabled) return;
  const ai = entryAuthInfo(req);
  if (needsAdmin(req)) store.isAdminPermitted(ai);
  if (req.put) {
    store.isPutPermitted(ai, req.put.key);
    checkLeasePuts(store, lessor, ai, req.put.lease);
    if (req.put.prevKv) store.isRangePermitted(ai, req.put.key, new Uint8Array(0));
  } else if (req.deleteRange) {
    store.isDeleteRangePermitted(ai, req.deleteRange.key, req.deleteRange.rangeEnd);
    if (req.deleteRange.prevKv) store.isRangePermitted(ai, req.deleteRange.key, req.deleteRange.rangeEnd);
  } else if (req.txn) {
    checkTxnAuth(store, ai, req.txn);
  } else if (req.leaseRevoke) {
    checkLeasePuts(store, lessor, ai, req.leaseRevoke.ID);
  }
}

/**
 * Applies an auth entry and returns its response, or undefined when `req` is no auth entry.
 * `index` is the entry's log index (simple tokens are `<prefix>.<index>`). Errors: the store's
 * (server/auth/store.ts) and, for UserGet/RoleGet by a non-root user, isAdminPermitted's.
 */
export function applyAuthEntry(target: AuthApplyTarget, req: InternalRaftRequest, index: number): AuthResponse | undefined {
  const { authStore: store, tokens } = target;
  const ai = entryAuthInfo(req);
  if (req.authEnable) {
    store.authEnable();
    return create(AuthEnableResponseSchema);
  }
  if (req.authDisable) {
    store.authDisable();
    return create(AuthDisableResponseSchema);
  }
  if (req.authenticate) {
    const { name, simpleToken } = req.authenticate;
    store.checkAuthenticate(name);
    // A JWT is signed by the member that proposed the entry once it is applied (signing is async).
    const token = tokens.kind === "simple" ? tokens.assign(name, simpleToken, index) : "";
    return create(AuthenticateResponseSchema, { token });
  }
  if (req.authUserAdd) {
    store.userAdd(req.authUserAdd);
    return create(AuthUserAddResponseSchema);
  }
  if (req.authUserDelete) {
    store.userDelete(req.authUserDelete.name);
    return create(AuthUserDeleteResponseSchema);
  }
  if (req.authUserChangePassword) {
    store.userChangePassword(req.authUserChangePassword);
    return create(AuthUserChangePasswordResponseSchema);
  }
  if (req.authUserGrantRole) {
    store.userGrantRole(req.authUserGrantRole);
    return create(AuthUserGrantRoleResponseSchema);
  }
  if (req.authUserGet) {
    if (store.enabled && req.authUserGet.name !== ai.username) store.isAdminPermitted(ai);
    return create(AuthUserGetResponseSchema, { roles: store.userGet(req.authUserGet.name) });
  }
  if (req.authUserList) return create(AuthUserListResponseSchema, { users: store.userList() });
  if (req.authUserRevokeRole) {
    store.userRevokeRole(req.authUserRevokeRole);
    return create(AuthUserRevokeRoleResponseSchema);
  }
  if (req.authRoleAdd) {
    store.roleAdd(req.authRoleAdd.name);
    return create(AuthRoleAddResponseSchema);
  }
  if (req.authRoleGet) {
    if (store.enabled && !store.hasRole(ai.username, req.authRoleGet.role)) store.isAdminPermitted(ai);
    return create(AuthRoleGetResponseSchema, { perm: store.roleGet(req.authRoleGet.role) });
  }
  if (req.authRoleList) return create(AuthRoleListResponseSchema, { roles: store.roleList() });
  if (req.authRoleDelete) {
    store.roleDelete(req.authRoleDelete.role);
    return create(AuthRoleDeleteResponseSchema);
  }
  if (req.authRoleGrantPermission) {
    store.roleGrantPermission(req.authRoleGrantPermission);
    return create(AuthRoleGrantPermissionResponseSchema);
  }
  if (req.authRoleRevokePermission) {
    store.roleRevokePermission(req.authRoleRevokePermission);
    return create(AuthRoleRevokePermissionResponseSchema);
  }
  return undefined;
}
