/**
 * `etcdctl version` (etcdctl 3.4 `version_command.go`): this CLI's version and the etcd API
 * version it speaks (3.4).
 */
import pkg from "../../package.json" with { type: "json" };
import type { CommandSpec } from "./types.ts";

/** etcd API version this CLI implements. */
export const API_VERSION = "3.4";

/** The version command. */
export const versionCommand: CommandSpec = {
  path: ["version"],
  usage: "",
  description: "Prints the version of etcdctl",
  flags: [],
  async run(ctx) {
    ctx.out.println(`etcdctl version: ${pkg.version}`);
    ctx.out.println(`API version: ${API_VERSION}`);
  },
};
