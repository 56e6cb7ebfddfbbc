/**
 * Every etcdctl command this CLI implements, in help order. New commands are added here; main.ts
 * needs no change.
 */
import { ALARM_COMMANDS } from "./alarm.ts";
import { AUTH_COMMANDS } from "./auth.ts";
import { checkPerfCommand } from "./check.ts";
import { checkDatascaleCommand } from "./check-datascale.ts";
import { compactionCommand } from "./compaction.ts";
import { defragCommand } from "./defrag.ts";
import { delCommand } from "./del.ts";
import { electCommand } from "./elect.ts";
import { endpointHashKVCommand, endpointHealthCommand, endpointStatusCommand } from "./endpoint.ts";
import { getCommand } from "./get.ts";
import { LEASE_COMMANDS } from "./lease.ts";
import { lockCommand } from "./lock.ts";
import { MEMBER_COMMANDS } from "./member.ts";
import { migrateCommand } from "./migrate.ts";
import { moveLeaderCommand } from "./move-leader.ts";
import { putCommand } from "./put.ts";
import { ROLE_COMMANDS } from "./role.ts";
import { SNAPSHOT_COMMANDS } from "./snapshot.ts";
import { txnCommand } from "./txn.ts";
import type { CommandSpec } from "./types.ts";
import { USER_COMMANDS } from "./user.ts";
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
  endpointHashKVCommand,
  versionCommand,
  ...MEMBER_COMMANDS,
  ...SNAPSHOT_COMMANDS,
  migrateCommand,
  moveLeaderCommand,
  ...ALARM_COMMANDS,
  defragCommand,
  ...AUTH_COMMANDS,
  ...USER_COMMANDS,
  ...ROLE_COMMANDS,
  lockCommand,
  electCommand,
  checkPerfCommand,
  checkDatascaleCommand,
];
