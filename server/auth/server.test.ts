import { create } from "@bufbuild/protobuf";
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { InternalRaftRequestSchema, type InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { ResponseHeaderSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Lessor } from "../lease/lessor.ts";
import { createSchema } from "../storage/schema.ts";
import { applyAuthEntry, checkEntryPermission } from "./apply.ts";
import { AuthServer } from "./server.ts";
import { SimpleTokens } from "./simple-token.ts";
import { AuthStore, type AuthInfo } from "./store.ts";

/** An AuthServer whose proposals are applied at once, as a lone member would; `log` keeps them. */
function lone() {
  const db = new Database(":memory:");
  createSchema(db);
  const store = new AuthStore(db);
  const tokens = new SimpleTokens({ now: () => 0 });
  const lessor = new Lessor({ minTtl: 5 });
  const log: InternalRaftRequest[] = [];
  let index = 0;
  const server = new AuthServer({
    store,
    tokens,
    bcryptCost: 4,
    propose: async (fields, ai?: AuthInfo) => {
      const req = create(InternalRaftRequestSchema, {
        ...fields,
        header: ai ? { username: ai.username, authRevision: BigInt(ai.revision) } : undefined,
      } as never);
      log.push(req);
      checkEntryPermission(store, lessor, req);
      return applyAuthEntry({ authStore: store, tokens }, req, ++index);
    },
    linearizableReadNotify: async () => {},
    waitApplied: async (i) => i <= index,
    header: () => create(ResponseHeaderSchema),
  });
  return { server, store, log };
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
    return "ok";
  } catch (e) {
    return (e as { rawMessage?: string }).rawMessage ?? String(e);
  }
}

describe("AuthServer", () => {
  test("passwords are hashed before proposing; the log never holds them", async () => {
    const { server, store, log } = lone();
    await server.userAdd({ name: "root", password: "rootpw" } as never, undefined);
    await server.userChangePassword({ name: "root", password: "newpw" } as never, undefined);
    for (const e of log) {
      const r = e.authUserAdd ?? e.authUserChangePassword!;
      expect(r.password).toBe("");
      expect(r.hashedPassword).toMatch(/^\$2[ab]\$04\$/);
    }
    expect(new TextDecoder().decode(store.getUser("root")!.password)).toBe(log[1]!.authUserChangePassword!.hashedPassword);
  });

  test("authenticate, token lookups, common names", async () => {
    const { server } = lone();
    await server.userAdd({ name: "root", password: "rootpw" } as never, undefined);
    await server.userGrantRole({ user: "root", role: "root" } as never, undefined);
    expect(await failure(server.authenticate({ name: "root", password: "rootpw" } as never))).toBe("etcdserver: authentication is not enabled");
    await server.authEnable(undefined);
    expect(await failure(server.authenticate({ name: "root", password: "bad" } as never))).toBe(
      "etcdserver: authentication failed, invalid user ID or password",
    );
    const { token } = await server.authenticate({ name: "root", password: "rootpw" } as never);
    expect(await server.authInfo(token)).toEqual({ username: "root", revision: server.store.revision });
    expect(await failure(server.authInfo("garbage"))).toBe("etcdserver: invalid auth token");
    expect(await failure(server.authInfo(`${token}0`))).toBe("etcdserver: invalid auth token");
    expect(await server.authInfo(undefined)).toBeUndefined();
    expect(await server.authInfo(undefined, "alice")).toEqual({ username: "alice", revision: server.store.revision });
    // The token wins over the certificate's name, as in etcd.
    expect(await server.authInfo(token, "alice")).toEqual({ username: "root", revision: server.store.revision });
    await server.userAdd({ name: "nopw", options: { noPassword: true } } as never, await server.authInfo(token));
    expect(await failure(server.authenticate({ name: "nopw", password: "" } as never))).toBe(
      "auth: authentication failed, password was given for no password user",
    );
    expect(await failure(server.userList(undefined))).toBe("etcdserver: user name is empty");
    expect((await server.userList(await server.authInfo(token))).users).toEqual(["nopw", "root"]);
    expect(server.authStatus()).toMatchObject({ enabled: true, authRevision: BigInt(server.store.revision) });
  });
});
