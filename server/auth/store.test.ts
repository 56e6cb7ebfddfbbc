import { create } from "@bufbuild/protobuf";
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { PermissionSchema, Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import {
  AuthRoleGrantPermissionRequestSchema,
  AuthRoleRevokePermissionRequestSchema,
  AuthUserAddRequestSchema,
  AuthUserChangePasswordRequestSchema,
  AuthUserGrantRoleRequestSchema,
  AuthUserRevokeRoleRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { createSchema } from "../storage/schema.ts";
import { AuthStore, type AuthInfo, type TokenEvents } from "./store.ts";

const b = (s: string) => new TextEncoder().encode(s);

function freshDb(): Database {
  const db = new Database(":memory:");
  createSchema(db);
  return db;
}

/** The etcd error message `f` throws, or "ok". */
function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as { rawMessage?: string }).rawMessage ?? String(e);
  }
}

const addUser = (s: AuthStore, name: string, noPassword = false) =>
  s.userAdd(create(AuthUserAddRequestSchema, { name, hashedPassword: `hash-of-${name}`, options: { noPassword } }));
const grantRole = (s: AuthStore, user: string, role: string) => s.userGrantRole(create(AuthUserGrantRoleRequestSchema, { user, role }));
const grantPerm = (s: AuthStore, role: string, permType: Permission_Type, key: string, rangeEnd = "") =>
  s.roleGrantPermission(create(AuthRoleGrantPermissionRequestSchema, { name: role, perm: create(PermissionSchema, { permType, key: b(key), rangeEnd: b(rangeEnd) }) }));

/** A store with root (root role) and alice (role r: READ k, READWRITE prefix d/), auth enabled. */
function setUp(db = freshDb()): AuthStore {
  const s = new AuthStore(db);
  addUser(s, "root");
  grantRole(s, "root", "root");
  addUser(s, "alice");
  s.roleAdd("r");
  grantPerm(s, "r", Permission_Type.READ, "k");
  grantPerm(s, "r", Permission_Type.READWRITE, "d/", "d0");
  grantRole(s, "alice", "r");
  s.authEnable();
  return s;
}

describe("auth store (etcd's auth/store.go rules)", () => {
  test("a new store is at revision 1; each change bumps it, as etcd's commitRevision", () => {
    const s = new AuthStore(freshDb());
    expect(s.revision).toBe(1);
    addUser(s, "root"); // 2
    grantRole(s, "root", "root"); // 3
    grantRole(s, "root", "root"); // already granted: no change
    expect(s.revision).toBe(3);
    s.roleAdd("r"); // 4
    expect(outcome(() => s.authEnable())).toBe("ok");
    expect(s.revision).toBe(4); // enabling does not bump (etcd's AuthEnable)
    s.authDisable(); // disabling does
    expect(s.revision).toBe(5);
    s.authDisable(); // already disabled: nothing
    expect(s.revision).toBe(5);
  });

  test("auth enable needs root with the root role", () => {
    const s = new AuthStore(freshDb());
    expect(outcome(() => s.authEnable())).toBe("etcdserver: root user does not exist");
    addUser(s, "root");
    expect(outcome(() => s.authEnable())).toBe("etcdserver: root user does not have root role");
    grantRole(s, "root", "root");
    expect(outcome(() => s.authEnable())).toBe("ok");
    expect(s.enabled).toBe(true);
  });

  test("user and role errors", () => {
    const s = setUp();
    expect(outcome(() => addUser(s, ""))).toBe("etcdserver: user name is empty");
    expect(outcome(() => addUser(s, "alice"))).toBe("etcdserver: user name already exists");
    expect(outcome(() => s.userDelete("bob"))).toBe("etcdserver: user name not found");
    expect(outcome(() => s.userGet("bob"))).toBe("etcdserver: user name not found");
    expect(outcome(() => grantRole(s, "bob", "r"))).toBe("etcdserver: user name not found");
    expect(outcome(() => grantRole(s, "alice", "nope"))).toBe("etcdserver: role name not found");
    expect(outcome(() => s.roleAdd(""))).toBe("etcdserver: role name is empty");
    expect(outcome(() => s.roleAdd("r"))).toBe("etcdserver: role name already exists");
    expect(outcome(() => s.roleGet("nope"))).toBe("etcdserver: role name not found");
    expect(outcome(() => s.roleDelete("nope"))).toBe("etcdserver: role name not found");
    expect(outcome(() => s.userRevokeRole(create(AuthUserRevokeRoleRequestSchema, { name: "alice", role: "x" })))).toBe(
      "etcdserver: role is not granted to the user",
    );
    expect(outcome(() => s.roleRevokePermission(create(AuthRoleRevokePermissionRequestSchema, { role: "r", key: b("zz") })))).toBe(
      "etcdserver: permission is not granted to the role",
    );
  });

  test("root cannot be deleted or lose the root role while auth is enabled", () => {
    const s = setUp();
    expect(outcome(() => s.userDelete("root"))).toBe("etcdserver: invalid auth management");
    expect(outcome(() => s.roleDelete("root"))).toBe("etcdserver: invalid auth management");
    expect(outcome(() => s.userRevokeRole(create(AuthUserRevokeRoleRequestSchema, { name: "root", role: "root" })))).toBe(
      "etcdserver: invalid auth management",
    );
    s.authDisable();
    expect(outcome(() => s.userRevokeRole(create(AuthUserRevokeRoleRequestSchema, { name: "root", role: "root" })))).toBe("ok");
  });

  test("permission checks: disabled, no credentials, old revision, root, ranges", () => {
    const s = setUp();
    const alice: AuthInfo = { username: "alice", revision: s.revision };
    const root: AuthInfo = { username: "root", revision: s.revision };
    expect(outcome(() => s.isRangePermitted(undefined, b("k"), b("")))).toBe("etcdserver: user name is empty");
    expect(outcome(() => s.isRangePermitted({ username: "alice", revision: 0 }, b("k"), b("")))).toBe("etcdserver: user name is empty");
    expect(outcome(() => s.isRangePermitted(alice, b("k"), b("")))).toBe("ok");
    expect(outcome(() => s.isPutPermitted(alice, b("k")))).toBe("etcdserver: permission denied");
    expect(outcome(() => s.isPutPermitted(alice, b("d/x")))).toBe("ok");
    expect(outcome(() => s.isDeleteRangePermitted(alice, b("d/"), b("d0")))).toBe("ok");
    expect(outcome(() => s.isDeleteRangePermitted(alice, b("d"), b("d0")))).toBe("etcdserver: permission denied");
    expect(outcome(() => s.isPutPermitted(root, b("anything")))).toBe("ok");
    expect(outcome(() => s.isPutPermitted({ username: "ghost", revision: s.revision }, b("d/x")))).toBe("etcdserver: permission denied");
    s.roleAdd("other"); // revision moves on: alice's credentials are now old
    expect(outcome(() => s.isRangePermitted(alice, b("k"), b("")))).toBe("etcdserver: revision of auth store is old");
    s.authDisable();
    expect(outcome(() => s.isPutPermitted(undefined, b("k")))).toBe("ok");
  });

  test("admin checks", () => {
    const s = setUp();
    expect(outcome(() => s.isAdminPermitted(undefined))).toBe("etcdserver: user name is empty");
    expect(outcome(() => s.isAdminPermitted({ username: "ghost", revision: 1 }))).toBe("etcdserver: user name not found");
    expect(outcome(() => s.isAdminPermitted({ username: "alice", revision: 1 }))).toBe("etcdserver: permission denied");
    expect(outcome(() => s.isAdminPermitted({ username: "root", revision: 1 }))).toBe("ok");
  });

  test("role changes reach users: revoke a permission, delete a role", () => {
    const s = setUp();
    const alice = () => ({ username: "alice", revision: s.revision });
    s.roleRevokePermission(create(AuthRoleRevokePermissionRequestSchema, { role: "r", key: b("k") }));
    expect(outcome(() => s.isRangePermitted(alice(), b("k"), b("")))).toBe("etcdserver: permission denied");
    expect(outcome(() => s.isPutPermitted(alice(), b("d/x")))).toBe("ok");
    s.roleDelete("r");
    expect(s.userGet("alice")).toEqual([]);
    expect(outcome(() => s.isPutPermitted(alice(), b("d/x")))).toBe("etcdserver: permission denied");
  });

  test("grant-permission updates a permission of the same range and keeps them sorted by key", () => {
    const s = setUp();
    grantPerm(s, "r", Permission_Type.WRITE, "d/", "d0");
    grantPerm(s, "r", Permission_Type.READ, "a");
    expect(s.roleGet("r").map((p) => [new TextDecoder().decode(p.key), p.permType])).toEqual([
      ["a", Permission_Type.READ],
      ["d/", Permission_Type.WRITE],
      ["k", Permission_Type.READ],
    ]);
  });

  test("lists are in byte order; everything survives reopening the database", () => {
    const db = freshDb();
    const s = setUp(db);
    addUser(s, "Zed");
    s.roleAdd("B");
    expect(s.userList()).toEqual(["Zed", "alice", "root"]);
    expect(s.roleList()).toEqual(["B", "r"]);
    const again = new AuthStore(db);
    expect(again.enabled).toBe(true);
    expect(again.revision).toBe(s.revision);
    expect(again.userList()).toEqual(["Zed", "alice", "root"]);
    expect(outcome(() => again.isPutPermitted({ username: "alice", revision: again.revision }, b("d/x")))).toBe("ok");
  });

  test("token events: password change and delete invalidate the user's tokens, disable all", () => {
    const events: string[] = [];
    const tokens: TokenEvents = {
      enable: () => events.push("enable"),
      disable: () => events.push("disable"),
      invalidateUser: (n) => events.push(`invalidate ${n}`),
    };
    const s = setUp();
    s.tokens = tokens;
    s.userChangePassword(create(AuthUserChangePasswordRequestSchema, { name: "alice", hashedPassword: "x" }));
    s.userDelete("alice");
    s.authDisable();
    expect(events).toEqual(["invalidate alice", "invalidate alice", "disable"]);
  });

  test("checkAuthenticate refuses unknown and password-less users", () => {
    const s = setUp();
    addUser(s, "nopw", true);
    expect(outcome(() => s.checkAuthenticate("alice"))).toBe("ok");
    expect(outcome(() => s.checkAuthenticate("ghost"))).toBe("etcdserver: authentication failed, invalid user ID or password");
    expect(outcome(() => s.checkAuthenticate("nopw"))).toBe("etcdserver: authentication failed, invalid user ID or password");
    s.authDisable();
    expect(outcome(() => s.checkAuthenticate("alice"))).toBe("etcdserver: authentication is not enabled");
  });
});
