/**
 * `-w simple` (the default), mirroring etcdctl's `printer_simple.go`: raw key/value bytes one per
 * line (or `\xNN` hex with `--hex`), `OK` for put, the deleted count for del, `SUCCESS`/`FAILURE`
 * for txn, comma-joined rows for member/endpoint listings, health lines on stderr.
 */
import type {
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthUserGetResponse,
  AuthStatusResponse,
  AuthUserListResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  PutResponse,
  RangeResponse,
  TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, type KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { Output } from "../output.ts";
import type { AlarmResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { alarmMemberText } from "../go/proto-text.ts";
import { revokedPermissionLine, roleGetLines } from "./auth.ts";
import { leaseHex } from "./lease.ts";
import { memberAddEnvLines, memberMessage } from "./member.ts";
import type { EpHashKV, EpHealth, EpStatus, Printer } from "./printer.ts";
import { dbStatusRows, endpointHashKVRows, endpointStatusRows, memberListRows, type Rows } from "./rows.ts";
import type { SnapshotStatus } from "../../server/snapshot/status.ts";

/** `\x6b\x65\x79`: every byte as a `\x` escape (etcdctl's `--hex`). */
export function hexEscaped(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += "\\x" + b.toString(16).padStart(2, "0");
  return s;
}

/** The simple format. `valueOnly` is set by `get --print-value-only`. */
export class SimplePrinter implements Printer {
  readonly format = "simple";
  /** Print only values, not keys (`get --print-value-only`). */
  valueOnly = false;

  /**
   * @param out destination
   * @param hex print keys and values as `\xNN` escapes (`--hex`)
   */
  constructor(
    private readonly out: Output,
    private readonly hex: boolean,
  ) {}

  private kv(kv: KeyValue): void {
    const key = this.hex ? hexEscaped(kv.key) : kv.key;
    const value = this.hex ? hexEscaped(kv.value) : kv.value;
    if (!this.valueOnly) this.out.println(key);
    this.out.println(value);
  }

  private joinedRows({ rows }: Rows): void {
    for (const row of rows) this.out.println(row.join(", "));
  }

  put(r: PutResponse): void {
    this.out.println("OK");
    if (r.prevKv) this.kv(r.prevKv);
  }

  get(r: RangeResponse): void {
    for (const kv of r.kvs) this.kv(kv);
  }

  del(r: DeleteRangeResponse): void {
    this.out.println(r.deleted.toString());
    for (const kv of r.prevKvs) this.kv(kv);
  }

  txn(r: TxnResponse): void {
    this.out.println(r.succeeded ? "SUCCESS" : "FAILURE");
    for (const op of r.responses) {
      this.out.println("");
      const resp = op.response;
      if (resp.case === "responseDeleteRange") this.del(resp.value);
      else if (resp.case === "responsePut") this.put(resp.value);
      else if (resp.case === "responseRange") this.get(resp.value);
      else this.out.println(`unexpected response ${resp.case ?? "<nil>"}`);
    }
  }

  memberList(r: MemberListResponse): void {
    this.joinedRows(memberListRows(r));
  }

  /** `Member <id> added to cluster <cid>`, then the `ETCD_*` settings for the new member. */
  memberAdd(r: MemberAddResponse, name: string, peerURLs: string): void {
    this.out.println(memberMessage(r.member?.ID ?? 0n, "added to cluster", r.header?.clusterId));
    for (const line of memberAddEnvLines(r, name, peerURLs)) this.out.println(line);
  }

  memberRemove(id: bigint, r: MemberRemoveResponse): void {
    this.out.println(memberMessage(id, "removed from cluster", r.header?.clusterId));
  }

  memberUpdate(id: bigint, r: MemberUpdateResponse): void {
    this.out.println(memberMessage(id, "updated in cluster", r.header?.clusterId));
  }

  memberPromote(id: bigint, r: MemberPromoteResponse): void {
    this.out.println(memberMessage(id, "promoted in cluster", r.header?.clusterId));
  }

  /** `Leadership transferred from <leader> to <target>`, IDs in plain hex. */
  moveLeader(leader: bigint, target: bigint, _r: MoveLeaderResponse): void {
    this.out.println(`Leadership transferred from ${leader.toString(16)} to ${target.toString(16)}`);
  }

  leaseGrant(r: LeaseGrantResponse): void {
    this.out.println(`lease ${leaseHex(r.ID)} granted with TTL(${r.TTL}s)`);
  }

  /** One `%+v` line per alarm: `memberID:<decimal> alarm:NOSPACE `. */
  alarm(r: AlarmResponse): void {
    for (const a of r.alarms) this.out.println(alarmMemberText(a));
  }

  leaseRevoke(id: bigint, _r: LeaseRevokeResponse): void {
    this.out.println(`lease ${leaseHex(id)} revoked`);
  }

  leaseKeepAlive(r: LeaseKeepAliveResponse): void {
    this.out.println(`lease ${leaseHex(r.ID)} keepalived with TTL(${r.TTL})`);
  }

  /** `already expired` for an unknown lease; keys raw, as Go's `%v` of a []string: `[a b]`. */
  leaseTimeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void {
    if (r.grantedTTL === 0n && r.TTL === -1n) {
      this.out.println(`lease ${leaseHex(r.ID)} already expired`);
      return;
    }
    const text = `lease ${leaseHex(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`;
    if (!keys) {
      this.out.println(text);
      return;
    }
    const parts: (string | Uint8Array)[] = [text, ", attached keys(["];
    r.keys.forEach((k, i) => parts.push(...(i > 0 ? [" ", k] : [k])));
    this.out.println(...parts, "])");
  }

  leaseList(r: LeaseLeasesResponse): void {
    this.out.println(`found ${r.leases.length} leases`);
    for (const l of r.leases) this.out.println(leaseHex(l.ID));
  }

  endpointHealth(list: EpHealth[]): void {
    for (const h of list) {
      if (h.error === "") this.out.eprintln(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}`);
      else this.out.eprintln(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}`);
    }
  }

  dbStatus(s: SnapshotStatus): void {
    this.joinedRows(dbStatusRows(s));
  }

  endpointHashKV(list: EpHashKV[]): void {
    this.joinedRows(endpointHashKVRows(list));
  }

  endpointStatus(list: EpStatus[]): void {
    this.joinedRows(endpointStatusRows(list));
  }

  /** Per event: `PUT`/`DELETE`, the previous pair (with `--prev-kv`), then the pair. */
  watch(r: WatchResponse): void {
    for (const ev of r.events) {
      this.out.println(Event_EventType[ev.type] ?? String(ev.type));
      if (ev.prevKv) this.kv(ev.prevKv);
      if (ev.kv) this.kv(ev.kv);
    }
  }

  roleAdd(role: string): void {
    this.out.println(`Role ${role} created`);
  }

  /** `Role <name>`, then `KV Read:` and `KV Write:` with one tab-indented line per permission (see auth.ts). */
  roleGet(role: string, r: AuthRoleGetResponse): void {
    for (const line of roleGetLines(role, r)) this.out.println(...line);
  }

  roleDelete(role: string): void {
    this.out.println(`Role ${role} deleted`);
  }

  roleList(r: AuthRoleListResponse): void {
    for (const role of r.roles) this.out.println(role);
  }

  roleGrantPermission(role: string): void {
    this.out.println(`Role ${role} updated`);
  }

  roleRevokePermission(role: string, key: string, end: Uint8Array): void {
    this.out.println(...revokedPermissionLine(role, key, end));
  }

  userAdd(user: string): void {
    this.out.println(`User ${user} created`);
  }

  /** `User: <name>` and `Roles:` followed by ` <role>` for each role. */
  userGet(user: string, r: AuthUserGetResponse): void {
    this.out.println(`User: ${user}`);
    this.out.println("Roles:" + r.roles.map((role) => ` ${role}`).join(""));
  }

  userList(r: AuthUserListResponse): void {
    for (const user of r.users) this.out.println(user);
  }

  /** etcdctl 3.5: `Authentication Status: <bool>` and `AuthRevision: <n>`. */
  authStatus(r: AuthStatusResponse): void {
    this.out.println(`Authentication Status: ${r.enabled}`);
    this.out.println(`AuthRevision: ${r.authRevision}`);
  }

  userChangePassword(): void {
    this.out.println("Password updated");
  }

  userGrantRole(user: string, role: string): void {
    this.out.println(`Role ${role} is granted to user ${user}`);
  }

  userRevokeRole(user: string, role: string): void {
    this.out.println(`Role ${role} is revoked from user ${user}`);
  }

  userDelete(user: string): void {
    this.out.println(`User ${user} deleted`);
  }
}
