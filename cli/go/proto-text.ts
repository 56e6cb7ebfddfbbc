/**
 * Go's gogoproto compact text form (`String()`, `%+v` / `%v` of a message) of the messages that
 * etcd and etcdctl print that way. Shared by the server (Status errors) and etcdctl (`alarm list`).
 */
import { AlarmType, type AlarmMember } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

/**
 * An AlarmMember as etcd 3.4 prints it: `memberID:<decimal> alarm:<NAME> ` (trailing space;
 * zero fields left out, as the text format does). Source: etcdserver/api/v3rpc/maintenance.go
 * Status, etcdctl/ctlv3/command/printer_simple.go Alarm.
 */
export function alarmMemberText(m: AlarmMember): string {
  let s = "";
  if (m.memberID !== 0n) s += `memberID:${m.memberID} `;
  if (m.alarm !== AlarmType.NONE) s += `alarm:${AlarmType[m.alarm] ?? m.alarm} `;
  return s;
}
