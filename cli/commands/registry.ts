/**
 * Every etcdctl command this CLI implements, in help order. New commands (watch, lease, member
 * add/remove, auth...) are added here; main.ts needs no change.
 */
import { compactionCommand } from "./compaction.ts";
import { delCommand } from "./del.ts";
import { electCommand } from "./elect.ts";
import { endpointHealthCommand, endpointStatusCommand } from "./endpoint.ts";
import { getCommand } from "./get.ts";
import { LEASE_COMMANDS } from "./lease.ts";
import { lockCommand } from "./lock.ts";
import { MEMBER_COMMANDS } from "./member.ts";
import { moveLeaderCommand } from "./move-leader.ts";
import { putCommand } from "./put.ts";
import { txnCommand } from "./txn.ts";
import type { CommandSpec } from "./types.ts";
import { versionCommand } from "./version.ts";
import { watchCommand } from "./watch.ts";

/** All commands, grouped by first path element (`member list`, `endpoint health`...). */
export const COMMANDS: CommandSpec[] = [
  getCommand,
  putCommand,
  delCommand,
  txnCommand,
  compactionCommand,
  watchCommand,
  ...LEASE_COMMANDS,
  endpointHealthCommand,
  endpointStatusCommand,
  versionCommand,
  ...MEMBER_COMMANDS,
  moveLeaderCommand,
  lockCommand,
  electCommand,
];
