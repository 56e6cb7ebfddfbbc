/**
 * EtcdClient's authentication (clientv3 3.4's getToken and token refresh) against an in-memory
 * etcd whose tokens can be invalidated on demand, which the real etcd does only after its token
 * TTL: the token travels as `token` metadata on unary calls and streams, a stale token is
 * replaced and the call repeated, and failures carry etcd's messages and etcdctl's exit codes.
 */
import { describe, expect, test } from "bun:test";
import { createRouterTransport, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { Auth, KV, Watch, type WatchRequest } from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../server/errors.ts";
import { EtcdClient } from "./client.ts";
import { CtlError } from "./errors.ts";

/** An in-memory etcd with auth: one user `root` / `pw`, tokens `t1`, `t2`... of which only the latest is valid. */
function authServer(options: { enabled?: boolean } = {}) {
  const state = { password: "pw", issued: 0, valid: "", authenticates: 0, seen: [] as (string | null)[] };
  const check = (ctx: HandlerContext) => {
    const token = ctx.requestHeader.get("token");
    state.seen.push(token);
    if (options.enabled === false) return;
    if (token === null) throw Errors.UserEmpty();
    if (token !== state.valid) throw Errors.InvalidAuthToken();
  };
  const transport = (_baseUrl: string, interceptors: Interceptor[]) =>
    createRouterTransport(
      ({ service }) => {
        service(Auth, {
          authenticate(req) {
            state.authenticates++;
            if (options.enabled === false) throw Errors.AuthNotEnabled();
            if (req.name !== "root" || req.password !== state.password) throw Errors.AuthFailed();
            state.valid = `t${++state.issued}`;
            return { token: state.valid };
          },
        });
        service(KV, {
          range(_req, ctx) {
            check(ctx);
            return { count: 1n };
          },
        });
        service(Watch, {
          async *watch(reqs: AsyncIterable<WatchRequest>, ctx) {
            check(ctx);
            for await (const _ of reqs) {
              yield { created: true };
              return;
            }
          },
        });
      },
      { transport: { interceptors } },
    );
  const client = (password = "pw") =>
    new EtcdClient({
      endpoints: ["in-memory:1"],
      commandTimeoutMs: 2000,
      keepAliveTimeMs: 2000,
      keepAliveTimeoutMs: 6000,
      credentials: { user: "root", password },
      transport,
    });
  return { state, client };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CtlError) return { code: e.exitCode, message: e.message };
    throw e;
  }
  throw new Error("call succeeded");
}

const range = (c: EtcdClient) => c.call((s, o) => s.kv.range({}, o));

describe("EtcdClient authentication", () => {
  test("authenticate() fetches a token that every unary call carries", async () => {
    const { state, client } = authServer();
    const c = client();
    await c.authenticate();
    await range(c);
    await range(c);
    expect(state.seen).toEqual(["t1", "t1"]);
    expect(state.authenticates).toBe(1);
  });

  test("streams carry the token too", async () => {
    const { state, client } = authServer();
    const c = client();
    await c.authenticate();
    const s = await c.call(async (services) => services);
    async function* one(): AsyncIterable<WatchRequest> {
      yield { requestUnion: { case: "progressRequest", value: {} } } as WatchRequest;
    }
    for await (const r of s.watch.watch(one())) expect(r.created).toBe(true);
    expect(state.seen).toEqual(["t1"]);
  });

  test("an invalidated token is replaced and the call repeated", async () => {
    const { state, client } = authServer();
    const c = client();
    await c.authenticate();
    state.valid = "revoked";
    const resp = await range(c);
    expect(resp.count).toBe(1n);
    expect(state.seen).toEqual(["t1", "t2"]);
    expect(state.authenticates).toBe(2);
  });

  test("refreshToken() (before reopening a stream) replaces the token", async () => {
    const { state, client } = authServer();
    const c = client();
    await c.authenticate();
    state.valid = "forgotten by a restart";
    await c.refreshToken();
    await range(c);
    expect(state.seen).toEqual(["t2"]);
  });

  test("a wrong password fails authenticate() with exit 2 and etcd's message", async () => {
    const { client } = authServer();
    expect(await failure(client("bad").authenticate())).toEqual({
      code: 2,
      message: "etcdserver: authentication failed, invalid user ID or password",
    });
  });

  test("a refresh that fails reports the Authenticate error (exit 1)", async () => {
    const { state, client } = authServer();
    const c = client();
    await c.authenticate();
    state.valid = "revoked";
    state.password = "changed";
    expect(await failure(range(c))).toEqual({ code: 1, message: "etcdserver: authentication failed, invalid user ID or password" });
  });

  test("with auth disabled on the server no token is sent", async () => {
    const { state, client } = authServer({ enabled: false });
    const c = client();
    await c.authenticate();
    await range(c);
    expect(state.seen).toEqual([null]);
  });

  test("without a password clientv3 does not authenticate: the server's error stands", async () => {
    const { state, client } = authServer();
    const c = client("");
    await c.authenticate();
    expect(await failure(range(c))).toEqual({ code: 1, message: "etcdserver: user name is empty" });
    expect(state.authenticates).toBe(0);
  });
});
