/**
 * `etcdctl alarm list|disarm` (etcdctl 3.4 `ctlv3/command/alarm_command.go`, clientv3
 * `maintenance.go` AlarmList/AlarmDisarm). `list` sends one Alarm GET; `disarm` lists the alarms,
 * then deactivates each in turn and prints those deactivated. Arguments exit 128 (`alarm list
 * command accepts no arguments`); a failed call exits 1 with the error.
 */
import { create } from "@bufbuild/protobuf";
import {
  AlarmRequest_AlarmAction,
  AlarmResponseSchema,
  AlarmType,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { badArgs } from "../errors.ts";
import type { CommandSpec } from "./types.ts";

const GROUP = "Alarm related commands";

/** `alarm list`. */
export const alarmListCommand: CommandSpec = {
  path: ["alarm", "list"],
  usage: "",
  description: "Lists all alarms",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("alarm list command accepts no arguments");
    const { client, printer } = await ctx.connect();
    const resp = await client.call((s, o) => s.maintenance.alarm({ action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE }, o), {
      repeatable: true,
    });
    printer.alarm(resp);
  },
};

/** `alarm disarm`. */
export const alarmDisarmCommand: CommandSpec = {
  path: ["alarm", "disarm"],
  usage: "",
  description: "Disarms all alarms",
  groupDescription: GROUP,
  flags: [],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("alarm disarm command accepts no arguments");
    const { client, printer } = await ctx.connect();
    const list = await client.call((s, o) => s.maintenance.alarm({ action: AlarmRequest_AlarmAction.GET }, o), { repeatable: true });
    const out = create(AlarmResponseSchema);
    for (const a of list.alarms) {
      const resp = await client.call(
        (s, o) => s.maintenance.alarm({ action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm }, o),
        { repeatable: true },
      );
      out.alarms.push(...resp.alarms);
    }
    printer.alarm(out);
  },
};

/** The `alarm` group. */
export const ALARM_COMMANDS: CommandSpec[] = [alarmDisarmCommand, alarmListCommand];
