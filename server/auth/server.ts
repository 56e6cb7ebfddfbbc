/**
 * The member's side of etcd's Auth API (etcdserver/v3_server.go Auth* methods and
 * AuthInfoFromCtx): turns a request's credentials into an {@link AuthInfo}, and turns each
 * Auth RPC into an entry proposed through Raft, answered once applied (server/auth/apply.ts).
 *
 * Passwords are hashed with bcrypt (`--bcrypt-cost`, default 10) BEFORE proposing, as etcd
 * 3.5 does, so the log carries only the hash and every member stores the same bytes.
 * Authenticate checks the password on the member asked (after a linearizable read), proposes
 * the entry without it, and retries if the auth store changed meanwhile (etcd's loop).
 * UserGet/UserList/RoleGet/RoleList go through the log as in etcd 3.4.
 */
import { create } from "@bufbuild/protobuf";
import type { InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import {
  AuthStatusResponseSchema,
  type AuthDisableResponse,
  type AuthEnableResponse,
  type AuthenticateRequest,
  type AuthenticateResponse,
  type AuthRoleAddRequest,
  type AuthRoleAddResponse,
  type AuthRoleDeleteRequest,
  type AuthRoleDeleteResponse,
  type AuthRoleGetRequest,
  type AuthRoleGetResponse,
  type AuthRoleGrantPermissionRequest,
  type AuthRoleGrantPermissionResponse,
  type AuthRoleListResponse,
  type AuthRoleRevokePermissionRequest,
  type AuthRoleRevokePermissionResponse,
  type AuthStatusResponse,
  type AuthUserAddRequest,
  type AuthUserAddResponse,
  type AuthUserChangePasswordRequest,
  type AuthUserChangePasswordResponse,
  type AuthUserDeleteRequest,
  type AuthUserDeleteResponse,
  type AuthUserGetRequest,
  type AuthUserGetResponse,
  type AuthUserGrantRoleRequest,
  type AuthUserGrantRoleResponse,
  type AuthUserListResponse,
  type AuthUserRevokeRoleRequest,
  type AuthUserRevokeRoleResponse,
  type ResponseHeader,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { SimpleTokens } from "./simple-token.ts";
import type { AuthInfo, AuthStore } from "./store.ts";
import type { TokenProvider } from "./tokens.ts";

/** bcrypt's cost bounds (golang.org/x/crypto/bcrypt MinCost, MaxCost, DefaultCost). */
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;
export const BCRYPT_DEFAULT_COST = 10;

/** Whether `cost` is a bcrypt cost etcd accepts (else it uses 10 and warns). */
export function isValidBcryptCost(cost: number): boolean {
  return Number.isInteger(cost) && cost >= BCRYPT_MIN_COST && cost <= BCRYPT_MAX_COST;
}

/** Most Authenticate rounds when the auth store keeps changing under the password check. */
const MAX_AUTHENTICATE_ROUNDS = 16;

/** What the auth server needs from its member. */
export interface AuthServerDeps {
  store: AuthStore;
  tokens: TokenProvider;
  /** `--bcrypt-cost`; out of [4, 31] means 10, as etcd. */
  bcryptCost: number;
  /**
   * Proposes an entry with `fields` (and `ai` in its header) and resolves with the applied
   * response, header filled; rejects with the entry's etcd error or Timeout/Stopped.
   */
  propose(fields: Partial<InternalRaftRequest>, ai: AuthInfo | undefined): Promise<unknown>;
  /** Resolves once this member applied everything committed now (ReadIndex). */
  linearizableReadNotify(): Promise<void>;
  /**
   * Resolves `true` once this member applied the entry at `index`, `false` if that did not
   * happen within the request timeout (etcd's applyWait bounded by the request's context).
   */
  waitApplied(index: number): Promise<boolean>;
  /** Header of a response produced now. */
  header(): ResponseHeader;
}

/** The Auth API of one member; every method checks permissions as etcd does. */
export class AuthServer {
  readonly store: AuthStore;
  readonly tokens: TokenProvider;
  private readonly bcryptCost: number;

  constructor(private readonly deps: AuthServerDeps) {
    this.store = deps.store;
    this.tokens = deps.tokens;
    this.bcryptCost = isValidBcryptCost(deps.bcryptCost) ? deps.bcryptCost : BCRYPT_DEFAULT_COST;
    this.store.tokens = deps.tokens;
    if (this.store.enabled) deps.tokens.enable();
  }

  /**
   * The sender of a request (etcd's AuthInfoFromCtx + AuthInfoFromTLS): with a `token`, the
   * token's user (simple tokens at the store's current revision, JWTs at theirs); without,
   * the verified client certificate's common name when there is one; else undefined (no
   * credentials). A simple token naming an entry this member has not applied yet waits for it,
   * up to the request timeout (etcd's isValidSimpleToken). Errors: InvalidAuthToken
   * (Unauthenticated `etcdserver: invalid auth token`) for a token that is malformed, unknown,
   * expired, sent while auth is disabled, or names an entry not applied here in time;
   * TooManyRequests when too many such waits are pending.
   */
  async authInfo(token: string | undefined, commonName?: string): Promise<AuthInfo | undefined> {
    if (token === undefined) {
      return commonName ? { username: commonName, revision: this.store.revision } : undefined;
    }
    const tokens = this.tokens;
    if (tokens.kind === "simple") {
      const index = SimpleTokens.indexOf(token);
      if (index === undefined) throw Errors.InvalidAuthToken();
      // A token made by an entry this member has not applied yet: wait for it (etcd's indexWaiter).
      if (!(await this.deps.waitApplied(index))) throw Errors.InvalidAuthToken();
      const username = tokens.username(token);
      if (username === undefined) throw Errors.InvalidAuthToken();
      return { username, revision: this.store.revision };
    }
    const claims = await tokens.verify(token);
    if (!claims) throw Errors.InvalidAuthToken();
    return { username: claims.username, revision: claims.revision };
  }

  /** Root only (etcd's IsAdminPermitted): member changes, Defragment, Hash, HashKV, Snapshot. */
  checkAdmin(ai: AuthInfo | undefined): void {
    this.store.isAdminPermitted(ai);
  }

  private async propose<T>(fields: Partial<InternalRaftRequest>, ai: AuthInfo | undefined): Promise<T> {
    return (await this.deps.propose(fields, ai)) as T;
  }

  private hash(password: string): Promise<string> {
    return hashPassword(password, this.bcryptCost);
  }

  authEnable(ai: AuthInfo | undefined): Promise<AuthEnableResponse> {
    return this.propose({ authEnable: {} as never }, ai);
  }

  authDisable(ai: AuthInfo | undefined): Promise<AuthDisableResponse> {
    return this.propose({ authDisable: {} as never }, ai);
  }

  /** AuthStatus (etcd 3.5): enabled flag and auth revision, from this member. */
  authStatus(): AuthStatusResponse {
    return create(AuthStatusResponseSchema, {
      header: this.deps.header(),
      enabled: this.store.enabled,
      authRevision: BigInt(this.store.revision),
    });
  }

  /**
   * Checks a password as etcd's CheckPassword: resolves with the auth revision it was checked
   * at. Errors: AuthNotEnabled, AuthFailed, NoPasswordUser (Unknown).
   */
  async checkPassword(name: string, password: string): Promise<number> {
    if (!this.store.enabled) throw Errors.AuthNotEnabled();
    const user = this.store.getUser(name);
    if (!user) throw Errors.AuthFailed();
    if (user.options?.noPassword) throw Errors.NoPasswordUser();
    const revision = this.store.revision;
    if (!(await verifyPassword(password, new TextDecoder().decode(user.password)))) throw Errors.AuthFailed();
    return revision;
  }

  /**
   * Authenticate (v3_server.go): linearizable read, password check, then the entry; a JWT is
   * signed once the entry is applied. Errors: AuthNotEnabled, AuthFailed, NoPasswordUser,
   * Timeout.
   */
  async authenticate(req: AuthenticateRequest): Promise<AuthenticateResponse> {
    await this.deps.linearizableReadNotify();
    for (let round = 0; ; round++) {
      const checked = await this.checkPassword(req.name, req.password);
      const prefix = this.tokens.kind === "simple" ? this.tokens.genTokenPrefix() : "";
      const resp = await this.propose<AuthenticateResponse>({ authenticate: { name: req.name, simpleToken: prefix } as never }, undefined);
      if (checked === this.store.revision || round >= MAX_AUTHENTICATE_ROUNDS) {
        if (this.tokens.kind === "jwt") resp.token = await this.tokens.sign(req.name, this.store.revision);
        return resp;
      }
    }
  }

  /** UserAdd; the password is hashed here unless `options.no_password`. */
  async userAdd(req: AuthUserAddRequest, ai: AuthInfo | undefined): Promise<AuthUserAddResponse> {
    const noPassword = req.options?.noPassword ?? false;
    const hashedPassword = noPassword || req.name === "" ? "" : await this.hash(req.password);
    return this.propose({ authUserAdd: { ...req, password: "", hashedPassword } }, ai);
  }

  userDelete(req: AuthUserDeleteRequest, ai: AuthInfo | undefined): Promise<AuthUserDeleteResponse> {
    return this.propose({ authUserDelete: req }, ai);
  }

  /** UserChangePassword; the new password is hashed here. */
  async userChangePassword(req: AuthUserChangePasswordRequest, ai: AuthInfo | undefined): Promise<AuthUserChangePasswordResponse> {
    const hashedPassword = await this.hash(req.password);
    return this.propose({ authUserChangePassword: { ...req, password: "", hashedPassword } }, ai);
  }

  userGrantRole(req: AuthUserGrantRoleRequest, ai: AuthInfo | undefined): Promise<AuthUserGrantRoleResponse> {
    return this.propose({ authUserGrantRole: req }, ai);
  }

  userGet(req: AuthUserGetRequest, ai: AuthInfo | undefined): Promise<AuthUserGetResponse> {
    return this.propose({ authUserGet: req }, ai);
  }

  userList(ai: AuthInfo | undefined): Promise<AuthUserListResponse> {
    return this.propose({ authUserList: {} as never }, ai);
  }

  userRevokeRole(req: AuthUserRevokeRoleRequest, ai: AuthInfo | undefined): Promise<AuthUserRevokeRoleResponse> {
    return this.propose({ authUserRevokeRole: req }, ai);
  }

  roleAdd(req: AuthRoleAddRequest, ai: AuthInfo | undefined): Promise<AuthRoleAddResponse> {
    return this.propose({ authRoleAdd: req }, ai);
  }

  roleGet(req: AuthRoleGetRequest, ai: AuthInfo | undefined): Promise<AuthRoleGetResponse> {
    return this.propose({ authRoleGet: req }, ai);
  }

  roleList(ai: AuthInfo | undefined): Promise<AuthRoleListResponse> {
    return this.propose({ authRoleList: {} as never }, ai);
  }

  roleDelete(req: AuthRoleDeleteRequest, ai: AuthInfo | undefined): Promise<AuthRoleDeleteResponse> {
    return this.propose({ authRoleDelete: req }, ai);
  }

  roleGrantPermission(req: AuthRoleGrantPermissionRequest, ai: AuthInfo | undefined): Promise<AuthRoleGrantPermissionResponse> {
    return this.propose({ authRoleGrantPermission: req }, ai);
  }

  roleRevokePermission(req: AuthRoleRevokePermissionRequest, ai: AuthInfo | undefined): Promise<AuthRoleRevokePermissionResponse> {
    return this.propose({ authRoleRevokePermission: req }, ai);
  }
}
