/**
 * The auth store: users, roles, key-range permissions, the enabled flag and the auth revision,
 * as etcd 3.4's `auth/store.go` keeps them, persisted in `auth_users`, `auth_roles` and `meta`
 * (server/storage/auth.ts). Every mutating method runs while an auth entry is applied, inside
 * the apply transaction, and is deterministic: passwords arrive already hashed (hashing happens
 * before proposing, server/auth/server.ts), tokens are derived from the entry.
 *
 * The revision starts at 1 and grows by one with every change of users, roles or permissions
 * and with AuthDisable (not with AuthEnable, nor with a grant that changes nothing), exactly
 * where etcd calls commitRevision. A request checked against a revision older than the
 * store's fails with `etcdserver: revision of auth store is old`.
 *
 * Errors are etcd's (server/errors.ts): UserEmpty, UserAlreadyExist, UserNotFound, RoleEmpty,
 * RoleAlreadyExist, RoleNotFound, RoleNotGranted, PermissionNotGranted, InvalidAuthMgmt,
 * RootUserNotExist, RootRoleNotExist, AuthNotEnabled, AuthFailed, PermissionDenied,
 * AuthOldRevision.
 */
import { create } from "@bufbuild/protobuf";
import type { Database } from "bun:sqlite";
import {
  PermissionSchema,
  RoleSchema,
  UserAddOptionsSchema,
  UserSchema,
  type Permission,
  type Role,
  type User,
} from "../../proto/gen/authpb/auth_pb.ts";
import type {
  AuthRoleGrantPermissionRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserGrantRoleRequest,
  AuthUserRevokeRoleRequest,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { AuthTables } from "../storage/auth.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import { compareBytes, isRangeOpPermitted, mergePermissions, type PermissionKind, type UnifiedRangePermissions } from "./range-perms.ts";

/** etcd's fixed names of the administrator user and role. */
export const ROOT_USER = "root";
export const ROOT_ROLE = "root";

/**
 * Who sends a request: the user name and the auth revision its credentials were checked at
 * (etcd's auth.AuthInfo). `revision` 0 means no credentials.
 */
export interface AuthInfo {
  username: string;
  revision: number;
}

/** What the store tells the token provider (server/auth/tokens.ts) when auth state changes. */
export interface TokenEvents {
  /** Auth was enabled (also at start when it is enabled). */
  enable(): void;
  /** Auth was disabled: every token becomes invalid. */
  disable(): void;
  /** `name`'s tokens become invalid (user deleted or password changed). */
  invalidateUser(name: string): void;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Name of a user or role record as a string. */
function nameOf(r: User | Role): string {
  return decoder.decode(r.name);
}

/** Lower bound of `name` in sorted `list` (Go's sort.SearchStrings). */
function searchStrings(list: string[], name: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether `user` has the root role (etcd's hasRootRole; roles are kept sorted). */
export function hasRootRole(user: User): boolean {
  const i = searchStrings(user.roles, ROOT_ROLE);
  return i < user.roles.length && user.roles[i] === ROOT_ROLE;
}

/** The auth store of one member. */
export class AuthStore {
  private readonly tables: AuthTables;
  private readonly meta: Meta;
  private users = new Map<string, User>();
  private roles = new Map<string, Role>();
  private permCache = new Map<string, UnifiedRangePermissions>();
  private enabledFlag = false;
  private rev = 0;
  /** Token provider hooks; set by the owner once the provider exists. */
  tokens: TokenEvents | undefined;

  /**
   * Loads the store from `db` (schema created). Like etcd's NewAuthStore, a store that never
   * had a revision gets revision 1 (written at once, outside any transaction of the caller).
   */
  constructor(db: Database) {
    this.tables = new AuthTables(db);
    this.meta = new Meta(db);
    this.load();
    if (this.rev === 0) this.commitRevision();
  }

  /** Re-reads everything from the tables (after a Raft snapshot replaced them; etcd's Recover). */
  reload(): void {
    const wasEnabled = this.enabledFlag;
    this.load();
    if (this.enabledFlag && !wasEnabled) this.tokens?.enable();
    if (!this.enabledFlag && wasEnabled) this.tokens?.disable();
  }

  private load(): void {
    this.users = new Map(this.tables.users().map((u) => [nameOf(u), u]));
    this.roles = new Map(this.tables.roles().map((r) => [nameOf(r), r]));
    this.enabledFlag = this.meta.getNumber(MetaKeys.authEnabled, 0) === 1;
    this.rev = this.meta.getNumber(MetaKeys.authRevision, 0);
    this.refreshRangePermCache();
  }

  /** Whether authentication is enabled. */
  get enabled(): boolean {
    return this.enabledFlag;
  }

  /** The auth revision (etcd's authStore.Revision()). */
  get revision(): number {
    return this.rev;
  }

  private commitRevision(): void {
    this.rev++;
    this.meta.setNumber(MetaKeys.authRevision, this.rev);
  }

  private refreshRangePermCache(): void {
    this.permCache = new Map();
    for (const [name, user] of this.users) {
      const perms: Permission[] = [];
      for (const roleName of user.roles) perms.push(...(this.roles.get(roleName)?.keyPermission ?? []));
      this.permCache.set(name, mergePermissions(perms));
    }
  }

  /** The user record `name` (a copy is not made: do not modify). */
  getUser(name: string): User | undefined {
    return this.users.get(name);
  }

  private putUser(user: User): void {
    this.users.set(nameOf(user), user);
    this.tables.putUser(user);
  }

  private putRole(role: Role): void {
    this.roles.set(nameOf(role), role);
    this.tables.putRole(role);
  }

  /** Every user name, in byte order. */
  private sortedUserNames(): string[] {
    return [...this.users.values()].sort((a, b) => compareBytes(a.name, b.name)).map(nameOf);
  }

  // ---- applied requests (inside the apply transaction) ----

  /**
   * AuthEnable: no-op when enabled. Errors: RootUserNotExist, RootRoleNotExist
   * (FailedPrecondition). The revision does not change (etcd's AuthEnable).
   */
  authEnable(): void {
    if (this.enabledFlag) return;
    const root = this.users.get(ROOT_USER);
    if (!root) throw Errors.RootUserNotExist();
    if (!hasRootRole(root)) throw Errors.RootRoleNotExist();
    this.meta.setNumber(MetaKeys.authEnabled, 1);
    this.enabledFlag = true;
    this.tokens?.enable();
    this.refreshRangePermCache();
  }

  /** AuthDisable: no-op when disabled; otherwise bumps the revision and drops every token. */
  authDisable(): void {
    if (!this.enabledFlag) return;
    this.meta.setNumber(MetaKeys.authEnabled, 0);
    this.commitRevision();
    this.enabledFlag = false;
    this.tokens?.disable();
  }

  /**
   * The apply-time part of Authenticate (the password was checked before proposing).
   * Errors: AuthNotEnabled (FailedPrecondition), AuthFailed (InvalidArgument) for an unknown
   * user or one without password.
   */
  checkAuthenticate(name: string): void {
    if (!this.enabledFlag) throw Errors.AuthNotEnabled();
    const user = this.users.get(name);
    if (!user || user.options?.noPassword) throw Errors.AuthFailed();
  }

  /**
   * UserAdd with the password already hashed (`req.hashedPassword`; empty for a
   * `no_password` user). Errors: UserEmpty (InvalidArgument), UserAlreadyExist.
   */
  userAdd(req: AuthUserAddRequest): void {
    if (req.name.length === 0) throw Errors.UserEmpty();
    if (this.users.has(req.name)) throw Errors.UserAlreadyExist();
    const noPassword = req.options?.noPassword ?? false;
    this.putUser(
      create(UserSchema, {
        name: encoder.encode(req.name),
        password: noPassword ? new Uint8Array(0) : encoder.encode(req.hashedPassword),
        options: create(UserAddOptionsSchema, { noPassword }),
      }),
    );
    this.commitRevision();
    this.refreshRangePermCache();
  }

  /** UserDelete. Errors: InvalidAuthMgmt for root while enabled, UserNotFound. */
  userDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_USER) throw Errors.InvalidAuthMgmt();
    if (!this.users.has(name)) throw Errors.UserNotFound();
    this.users.delete(name);
    this.tables.deleteUser(name);
    this.commitRevision();
    this.refreshRangePermCache();
    this.tokens?.invalidateUser(name);
  }

  /** UserChangePassword with the new password hashed (`req.hashedPassword`). Errors: UserNotFound. */
  userChangePassword(req: AuthUserChangePasswordRequest): void {
    const user = this.users.get(req.name);
    if (!user) throw Errors.UserNotFound();
    this.putUser(create(UserSchema, { ...user, password: encoder.encode(req.hashedPassword) }));
    this.commitRevision();
    this.refreshRangePermCache();
    this.tokens?.invalidateUser(req.name);
  }

  /**
   * UserGrantRole: granting a role the user has changes nothing (and no revision); the root
   * role may be granted without a role record. Errors: UserNotFound, RoleNotFound.
   */
  userGrantRole(req: AuthUserGrantRoleRequest): void {
    const user = this.users.get(req.user);
    if (!user) throw Errors.UserNotFound();
    if (req.role !== ROOT_ROLE && !this.roles.has(req.role)) throw Errors.RoleNotFound();
    const i = searchStrings(user.roles, req.role);
    if (i < user.roles.length && user.roles[i] === req.role) return;
    const roles = [...user.roles, req.role].sort();
    this.putUser(create(UserSchema, { ...user, roles }));
    this.commitRevision();
    this.refreshRangePermCache();
  }

  /** UserGet: the user's roles. Errors: UserNotFound. */
  userGet(name: string): string[] {
    const user = this.users.get(name);
    if (!user) throw Errors.UserNotFound();
    return [...user.roles];
  }

  /** UserList: every user name in byte order. */
  userList(): string[] {
    return this.sortedUserNames();
  }

  /** UserRevokeRole. Errors: InvalidAuthMgmt (root from root while enabled), UserNotFound, RoleNotGranted. */
  userRevokeRole(req: AuthUserRevokeRoleRequest): void {
    if (this.enabledFlag && req.name === ROOT_USER && req.role === ROOT_ROLE) throw Errors.InvalidAuthMgmt();
    const user = this.users.get(req.name);
    if (!user) throw Errors.UserNotFound();
    const roles = user.roles.filter((r) => r !== req.role);
    if (roles.length === user.roles.length) throw Errors.RoleNotGranted();
    this.putUser(create(UserSchema, { ...user, roles }));
    this.commitRevision();
    this.refreshRangePermCache();
  }

  /** RoleAdd. Errors: RoleEmpty (InvalidArgument), RoleAlreadyExist. */
  roleAdd(name: string): void {
    if (name.length === 0) throw Errors.RoleEmpty();
    if (this.roles.has(name)) throw Errors.RoleAlreadyExist();
    this.putRole(create(RoleSchema, { name: encoder.encode(name) }));
    this.commitRevision();
  }

  /** RoleGet: the role's permissions sorted by key. Errors: RoleNotFound. */
  roleGet(name: string): Permission[] {
    const role = this.roles.get(name);
    if (!role) throw Errors.RoleNotFound();
    return role.keyPermission.map((p) => create(PermissionSchema, p));
  }

  /** RoleList: every role name in byte order. */
  roleList(): string[] {
    return [...this.roles.values()].sort((a, b) => compareBytes(a.name, b.name)).map(nameOf);
  }

  /** RoleDelete: also revokes the role from every user. Errors: InvalidAuthMgmt (root while enabled), RoleNotFound. */
  roleDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_ROLE) throw Errors.InvalidAuthMgmt();
    if (!this.roles.has(name)) throw Errors.RoleNotFound();
    this.roles.delete(name);
    this.tables.deleteRole(name);
    for (const user of [...this.users.values()]) {
      const roles = user.roles.filter((r) => r !== name);
      if (roles.length !== user.roles.length) this.putUser(create(UserSchema, { ...user, roles }));
    }
    this.commitRevision();
    this.refreshRangePermCache();
  }

  /**
   * RoleGrantPermission: updates the type of a permission with the same key and range end
   * (as etcd, only the first permission whose key is >= the new key is compared), else adds
   * it, keeping permissions sorted by key. Errors: RoleNotFound.
   */
  roleGrantPermission(req: AuthRoleGrantPermissionRequest): void {
    const role = this.roles.get(req.name);
    if (!role) throw Errors.RoleNotFound();
    const perm = req.perm ?? create(PermissionSchema);
    const perms = role.keyPermission.map((p) => create(PermissionSchema, p));
    const idx = perms.findIndex((p) => compareBytes(p.key, perm.key) >= 0);
    const at = idx < 0 ? undefined : perms[idx]!;
    if (at && compareBytes(at.key, perm.key) === 0 && compareBytes(at.rangeEnd, perm.rangeEnd) === 0) {
      at.permType = perm.permType;
    } else {
      perms.push(create(PermissionSchema, { key: perm.key, rangeEnd: perm.rangeEnd, permType: perm.permType }));
      perms.sort((a, b) => compareBytes(a.key, b.key)); // stable, like Go's insertion sort on small slices
    }
    this.putRole(create(RoleSchema, { name: role.name, keyPermission: perms }));
    this.commitRevision();
    this.refreshRangePermCache();
  }

  /** RoleRevokePermission of exactly [key, range_end). Errors: RoleNotFound, PermissionNotGranted. */
  roleRevokePermission(req: AuthRoleRevokePermissionRequest): void {
    const role = this.roles.get(req.role);
    if (!role) throw Errors.RoleNotFound();
    const perms = role.keyPermission.filter((p) => compareBytes(p.key, req.key) !== 0 || compareBytes(p.rangeEnd, req.rangeEnd) !== 0);
    if (perms.length === role.keyPermission.length) throw Errors.PermissionNotGranted();
    this.putRole(create(RoleSchema, { name: role.name, keyPermission: perms }));
    this.commitRevision();
    this.refreshRangePermCache();
  }

  // ---- checks ----

  /**
   * etcd's isOpPermitted: allowed when auth is disabled, for a root-role user, or when the
   * user's permissions cover the key or range. Errors: UserEmpty (no credentials),
   * AuthOldRevision (credentials older than the store), PermissionDenied.
   */
  private isOpPermitted(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array, kind: PermissionKind): void {
    if (!this.enabledFlag) return;
    if (!ai || ai.revision === 0) throw Errors.UserEmpty();
    if (ai.revision < this.rev) throw Errors.AuthOldRevision();
    const user = this.users.get(ai.username);
    if (!user) throw Errors.PermissionDenied();
    if (hasRootRole(user)) return;
    const perms = this.permCache.get(ai.username);
    if (perms && isRangeOpPermitted(perms, key, rangeEnd, kind)) return;
    throw Errors.PermissionDenied();
  }

  /** WRITE on the single key `key`. Errors: see isOpPermitted. */
  isPutPermitted(ai: AuthInfo | undefined, key: Uint8Array): void {
    this.isOpPermitted(ai, key, new Uint8Array(0), "write");
  }

  /** READ on `key` or [key, rangeEnd). Errors: see isOpPermitted. */
  isRangePermitted(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.isOpPermitted(ai, key, rangeEnd, "read");
  }

  /** WRITE on `key` or [key, rangeEnd). Errors: see isOpPermitted. */
  isDeleteRangePermitted(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.isOpPermitted(ai, key, rangeEnd, "write");
  }

  /**
   * Whether `ai` may administer (root role). Allowed when auth is disabled. Errors: UserEmpty
   * (no credentials), UserNotFound, PermissionDenied (etcd's IsAdminPermitted).
   */
  isAdminPermitted(ai: AuthInfo | undefined): void {
    if (!this.enabledFlag) return;
    if (!ai || ai.username === "") throw Errors.UserEmpty();
    const user = this.users.get(ai.username);
    if (!user) throw Errors.UserNotFound();
    if (!hasRootRole(user)) throw Errors.PermissionDenied();
  }

  /** Whether user `name` has role `role` (etcd's HasRole; false for an unknown user). */
  hasRole(name: string, role: string): boolean {
    return this.users.get(name)?.roles.includes(role) ?? false;
  }
}
