/**
 * etcdserverpb.Auth: every etcd 3.4 RPC (AuthEnable, AuthDisable, Authenticate, User*, Role*)
 * plus etcd 3.5's AuthStatus, over the member's auth server (server/auth/server.ts). The
 * caller's credentials go with each request; who may do what is decided when the entry is
 * applied (server/auth/apply.ts). Members without auth (test fakes) answer Unimplemented.
 * Source: etcdserver/api/v3rpc/auth.go.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Auth } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { AuthServer } from "../auth/server.ts";
import type { AuthInfo } from "../auth/store.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { requestAuth } from "./auth-context.ts";
import { unimplemented } from "./unimplemented.ts";

/** The Auth service implementation over `api`. Errors: see AuthServer and server/auth/store.ts. */
export function authService(api: EtcdServerApi): ServiceImpl<typeof Auth> {
  /** Runs `f` with the auth server and the caller's credentials. */
  const withAuth = async <T>(method: string, ctx: HandlerContext, f: (auth: AuthServer, ai: AuthInfo | undefined) => Promise<T> | T): Promise<T> => {
    api.rejectIfLearner?.();
    if (!api.auth) unimplemented(Auth, method)();
    return f(api.auth!, await requestAuth(api, ctx));
  };
  return {
    authEnable: (_req, ctx) => withAuth("AuthEnable", ctx, (a, ai) => a.authEnable(ai)),
    authDisable: (_req, ctx) => withAuth("AuthDisable", ctx, (a, ai) => a.authDisable(ai)),
    authStatus: (_req, ctx) => withAuth("AuthStatus", ctx, (a) => a.authStatus()),
    // Authenticate ignores any token the request carries (etcd reads none for it).
    authenticate: async (req) => {
      api.rejectIfLearner?.();
      if (!api.auth) unimplemented(Auth, "Authenticate")();
      return api.auth!.authenticate(req);
    },
    userAdd: (req, ctx) => withAuth("UserAdd", ctx, (a, ai) => a.userAdd(req, ai)),
    userGet: (req, ctx) => withAuth("UserGet", ctx, (a, ai) => a.userGet(req, ai)),
    userList: (_req, ctx) => withAuth("UserList", ctx, (a, ai) => a.userList(ai)),
    userDelete: (req, ctx) => withAuth("UserDelete", ctx, (a, ai) => a.userDelete(req, ai)),
    userChangePassword: (req, ctx) => withAuth("UserChangePassword", ctx, (a, ai) => a.userChangePassword(req, ai)),
    userGrantRole: (req, ctx) => withAuth("UserGrantRole", ctx, (a, ai) => a.userGrantRole(req, ai)),
    userRevokeRole: (req, ctx) => withAuth("UserRevokeRole", ctx, (a, ai) => a.userRevokeRole(req, ai)),
    roleAdd: (req, ctx) => withAuth("RoleAdd", ctx, (a, ai) => a.roleAdd(req, ai)),
    roleGet: (req, ctx) => withAuth("RoleGet", ctx, (a, ai) => a.roleGet(req, ai)),
    roleList: (_req, ctx) => withAuth("RoleList", ctx, (a, ai) => a.roleList(ai)),
    roleDelete: (req, ctx) => withAuth("RoleDelete", ctx, (a, ai) => a.roleDelete(req, ai)),
    roleGrantPermission: (req, ctx) => withAuth("RoleGrantPermission", ctx, (a, ai) => a.roleGrantPermission(req, ai)),
    roleRevokePermission: (req, ctx) => withAuth("RoleRevokePermission", ctx, (a, ai) => a.roleRevokePermission(req, ai)),
  };
}
