/**
 * The `auth_users` and `auth_roles` tables: one row per user and per role, holding the
 * authpb.User / authpb.Role message as etcd keeps them in its `authUsers` and `authRoles`
 * buckets (auth/store.go putUser, putRole). Rows are keyed by the name's bytes, so reading a
 * table in key order lists names in byte order, as a bbolt bucket does. Writes happen while
 * applying auth entries, inside the caller's SQLite transaction.
 */
import type { Database, Statement } from "bun:sqlite";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { RoleSchema, UserSchema, type Role, type User } from "../../proto/gen/authpb/auth_pb.ts";

type Row = { data: Uint8Array };

const encoder = new TextEncoder();

/** Cached statements over `auth_users` and `auth_roles`. */
export class AuthTables {
  private readonly usersStmt: Statement<Row, []>;
  private readonly rolesStmt: Statement<Row, []>;
  private readonly putUserStmt: Statement<unknown, [Uint8Array, Uint8Array]>;
  private readonly putRoleStmt: Statement<unknown, [Uint8Array, Uint8Array]>;
  private readonly delUserStmt: Statement<unknown, [Uint8Array]>;
  private readonly delRoleStmt: Statement<unknown, [Uint8Array]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.usersStmt = db.query("SELECT data FROM auth_users ORDER BY name");
    this.rolesStmt = db.query("SELECT data FROM auth_roles ORDER BY name");
    this.putUserStmt = db.query("INSERT OR REPLACE INTO auth_users (name, data) VALUES (?, ?)");
    this.putRoleStmt = db.query("INSERT OR REPLACE INTO auth_roles (name, data) VALUES (?, ?)");
    this.delUserStmt = db.query("DELETE FROM auth_users WHERE name = ?");
    this.delRoleStmt = db.query("DELETE FROM auth_roles WHERE name = ?");
  }

  /** Every user, names in byte order. Throws if a row does not decode (a corrupt file). */
  users(): User[] {
    return this.usersStmt.all().map((r) => fromBinary(UserSchema, r.data));
  }

  /** Every role, names in byte order. */
  roles(): Role[] {
    return this.rolesStmt.all().map((r) => fromBinary(RoleSchema, r.data));
  }

  /** Inserts or replaces `user` (keyed by its name). */
  putUser(user: User): void {
    this.putUserStmt.run(user.name, toBinary(UserSchema, user));
  }

  /** Inserts or replaces `role` (keyed by its name). */
  putRole(role: Role): void {
    this.putRoleStmt.run(role.name, toBinary(RoleSchema, role));
  }

  /** Deletes user `name` (no-op when absent). */
  deleteUser(name: string): void {
    this.delUserStmt.run(encoder.encode(name));
  }

  /** Deletes role `name` (no-op when absent). */
  deleteRole(name: string): void {
    this.delRoleStmt.run(encoder.encode(name));
  }
}
