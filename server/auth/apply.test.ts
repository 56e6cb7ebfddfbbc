import { create } from "@bufbuild/protobuf";
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { PermissionSchema, Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import { InternalRaftRequestSchema, type InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import { AuthRoleGrantPermissionRequestSchema, AuthUserAddRequestSchema, AuthUserGrantRoleRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Lessor } from "../lease/lessor.ts";
import { createSchema } from "../storage/schema.ts";
import { applyAuthEntry, checkEntryPermission } from "./apply.ts";
import { SimpleTokens } from "./simple-token.ts";
import { AuthStore } from "./store.ts";

const b = (s: string) => new TextEncoder().encode(s);

function setUp() {
  const db = new Database(":memory:");
  createSchema(db);
  const store = new AuthStore(db);
  const tokens = new SimpleTokens({ now: () => 0 });
  store.tokens = tokens;
  for (const name of ["root", "alice"]) store.userAdd(create(AuthUserAddRequestSchema, { name, hashedPassword: "h" }));
  store.userGrantRole(create(AuthUserGrantRoleRequestSchema, { user: "root", role: "root" }));
  store.roleAdd("r");
  store.roleGrantPermission(
    create(AuthRoleGrantPermissionRequestSchema, { name: "r", perm: create(PermissionSchema, { permType: Permission_Type.READWRITE, key: b("a/"), rangeEnd: b("a0") }) }),
  );
  store.userGrantRole(create(AuthUserGrantRoleRequestSchema, { user: "alice", role: "r" }));
  store.authEnable();
  const lessor = new Lessor({ minTtl: 5 });
  return { store, tokens, lessor };
}

const entry = (fields: Partial<InternalRaftRequest>, user?: string, revision?: number) =>
  create(InternalRaftRequestSchema, {
    ...fields,
    header: user === undefined ? undefined : { username: user, authRevision: BigInt(revision ?? 0) },
  } as never);

function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as { rawMessage?: string }).rawMessage ?? String(e);
  }
}

describe("permission checks of applied entries (etcd's apply_auth.go)", () => {
  test("put, prev_kv, delete, and the keys of the lease a put names", () => {
    const { store, lessor } = setUp();
    const rev = store.revision;
    const check = (r: InternalRaftRequest) => outcome(() => checkEntryPermission(store, lessor, r));
    expect(check(entry({ put: { key: b("a/1"), value: b("v") } as never }, "alice", rev))).toBe("ok");
    expect(check(entry({ put: { key: b("b") } as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(check(entry({ put: { key: b("a/1") } as never }))).toBe("etcdserver: user name is empty");
    expect(check(entry({ put: { key: b("a/1") } as never }, "alice", rev - 1))).toBe("etcdserver: revision of auth store is old");
    expect(check(entry({ deleteRange: { key: b("a/"), rangeEnd: b("a0"), prevKv: true } as never }, "alice", rev))).toBe("ok");
    lessor.grant(7n, 60);
    lessor.attach(7n, "secret");
    expect(check(entry({ put: { key: b("a/1"), lease: 7n } as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(check(entry({ leaseRevoke: { ID: 7n } as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(check(entry({ leaseRevoke: { ID: 7n } as never }, "root", rev))).toBe("ok");
    expect(check(entry({ leaseRevoke: { ID: 8n } as never }, "alice", rev))).toBe("ok"); // unknown lease: the revoke itself fails later
  });

  test("txn compares and ops, nested txns included", () => {
    const { store, lessor } = setUp();
    const rev = store.revision;
    const txn = (t: object) => outcome(() => checkEntryPermission(store, lessor, entry({ txn: t as never }, "alice", rev)));
    expect(txn({ compare: [{ key: b("a/x") }], success: [{ request: { case: "requestPut", value: { key: b("a/y") } } }] })).toBe("ok");
    expect(txn({ compare: [{ key: b("secret") }] })).toBe("etcdserver: permission denied");
    expect(txn({ failure: [{ request: { case: "requestRange", value: { key: b("b"), rangeEnd: b("c") } } }] })).toBe("etcdserver: permission denied");
    expect(
      txn({ success: [{ request: { case: "requestTxn", value: { success: [{ request: { case: "requestDeleteRange", value: { key: b("z") } } }] } } }] }),
    ).toBe("etcdserver: permission denied");
  });

  test("administration is for root; UserGet of oneself and RoleGet of one's role are allowed", () => {
    const { store, tokens, lessor } = setUp();
    const rev = store.revision;
    const apply = (r: InternalRaftRequest) =>
      outcome(() => {
        checkEntryPermission(store, lessor, r);
        applyAuthEntry({ authStore: store, tokens }, r, 10);
      });
    expect(apply(entry({ authUserList: {} as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(apply(entry({ authRoleAdd: { name: "x" } as never }, "nobody", rev))).toBe("etcdserver: user name not found");
    expect(apply(entry({ authRoleAdd: { name: "x" } as never }))).toBe("etcdserver: user name is empty");
    expect(apply(entry({ authUserGet: { name: "alice" } as never }, "alice", rev))).toBe("ok");
    expect(apply(entry({ authUserGet: { name: "root" } as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(apply(entry({ authRoleGet: { role: "r" } as never }, "alice", rev))).toBe("ok");
    expect(apply(entry({ authRoleGet: { role: "root" } as never }, "alice", rev))).toBe("etcdserver: permission denied");
    expect(apply(entry({ authUserList: {} as never }, "root", rev))).toBe("ok");
  });

  test("Authenticate registers <prefix>.<index> on every member that applies it", () => {
    const { store, tokens } = setUp();
    tokens.enable();
    const resp = applyAuthEntry({ authStore: store, tokens }, entry({ authenticate: { name: "alice", simpleToken: "abcdefghijklmnop" } as never }), 17);
    expect(resp).toMatchObject({ token: "abcdefghijklmnop.17" });
    expect(tokens.username("abcdefghijklmnop.17")).toBe("alice");
  });
});
