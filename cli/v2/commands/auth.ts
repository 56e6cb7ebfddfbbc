/**
 * etcdctl v2's `user`, `role` and `auth` command groups (`ctlv2/command/{user,role,auth}_commands.go`),
 * declared as etcdctl declares them (so help and flag errors are etcdctl's) but NOT implemented:
 * the v2 auth API is out of this project's scope. Each subcommand refuses with exit 1 and points
 * to the v3 commands.
 */
import { exitWith } from "../context.ts";
import type { V2Flag } from "../flags.ts";
import type { V2Command } from "./types.ts";

function refuse(group: string): V2Command["action"] {
  return async (ctx) =>
    exitWith(ctx, 1, `Error:  'etcdctl ${group}' of the v2 API is not implemented by this etcdctl; use ETCDCTL_API=3 etcdctl ${group} (v3 auth)`);
}

const ROLES: V2Flag = { names: ["roles"], type: "string", usage: "List of roles to grant or revoke" };

function pathFlags(verb: "Grant" | "Revoke"): V2Flag[] {
  const granted = verb === "Grant";
  return [
    { names: ["path"], type: "string", usage: `Path ${granted ? "granted" : "revoked"} for the role to access` },
    { names: ["read"], type: "bool", usage: granted ? "Grant read-only access" : "Revoke read access" },
    { names: ["write"], type: "bool", usage: granted ? "Grant write-only access" : "Revoke write access" },
    { names: ["readwrite", "rw"], type: "bool", usage: `${verb} read-write access` },
  ];
}

export const USER_COMMAND: V2Command = {
  name: "user",
  usage: "user add, grant and revoke subcommands",
  subcommands: [
    { name: "add", usage: "add a new user for the etcd cluster", argsUsage: "<user>", action: refuse("user") },
    { name: "get", usage: "get details for a user", argsUsage: "<user>", action: refuse("user") },
    { name: "list", usage: "list all current users", argsUsage: "<user>", action: refuse("user") },
    { name: "remove", usage: "remove a user for the etcd cluster", argsUsage: "<user>", action: refuse("user") },
    { name: "grant", usage: "grant roles to an etcd user", argsUsage: "<user>", flags: [ROLES], action: refuse("user") },
    { name: "revoke", usage: "revoke roles for an etcd user", argsUsage: "<user>", flags: [ROLES], action: refuse("user") },
    { name: "passwd", usage: "change password for a user", argsUsage: "<user>", action: refuse("user") },
  ],
};

export const ROLE_COMMAND: V2Command = {
  name: "role",
  usage: "role add, grant and revoke subcommands",
  subcommands: [
    { name: "add", usage: "add a new role for the etcd cluster", argsUsage: "<role> ", action: refuse("role") },
    { name: "get", usage: "get details for a role", argsUsage: "<role>", action: refuse("role") },
    { name: "list", usage: "list all roles", argsUsage: " ", action: refuse("role") },
    { name: "remove", usage: "remove a role from the etcd cluster", argsUsage: "<role>", action: refuse("role") },
    { name: "grant", usage: "grant path matches to an etcd role", argsUsage: "<role>", flags: pathFlags("Grant"), action: refuse("role") },
    { name: "revoke", usage: "revoke path matches for an etcd role", argsUsage: "<role>", flags: pathFlags("Revoke"), action: refuse("role") },
  ],
};

export const AUTH_COMMAND: V2Command = {
  name: "auth",
  usage: "overall auth controls",
  subcommands: [
    { name: "enable", usage: "enable auth access controls", argsUsage: " ", action: refuse("auth") },
    { name: "disable", usage: "disable auth access controls", argsUsage: " ", action: refuse("auth") },
  ],
};
