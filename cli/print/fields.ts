/**
 * `-w fields`, mirroring etcdctl's `printer_fields.go`: one `"Name" : value` line per field, strings
 * and bytes in Go `%q` form, numbers in decimal, nested txn responses flattened in order.
 */
import { AlarmType, type AlarmResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { goPanic } from "../errors.ts";
import type {
  AuthRoleAddResponse,
  AuthRoleDeleteResponse,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionResponse,
  AuthRoleListResponse,
  AuthRoleRevokePermissionResponse,
  AuthUserAddResponse,
  AuthUserChangePasswordResponse,
  AuthUserDeleteResponse,
  AuthUserGrantRoleResponse,
  AuthUserRevokeRoleResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, type KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { Permission_Type } from "../../proto/gen/authpb/auth_pb.ts";
import { goQuote } from "../go/strconv.ts";
import type { EpHashKV, EpHealth, EpStatus } from "./printer.ts";
import { UnsupportedPrinter } from "./printer.ts";

/** The fields format. */
export class FieldsPrinter extends UnsupportedPrinter {
  readonly format = "fields";

  private line(name: string, value: string | bigint | boolean | number): void {
    this.out.println(`"${name}" : ${String(value)}`);
  }

  private hdr(h: ResponseHeader | undefined): void {
    this.line("ClusterID", h?.clusterId ?? 0n);
    this.line("MemberID", h?.memberId ?? 0n);
    this.line("Revision", h?.revision ?? 0n);
    this.line("RaftTerm", h?.raftTerm ?? 0n);
  }

  /**
   * etcdctl 3.4 prints the header first, and etcd answers Alarm without one: Go's nil dereference.
   * @throws CtlError exit 2 `panic: runtime error: invalid memory address or nil pointer dereference`
   */
  override alarm(r: AlarmResponse): void {
    if (!r.header) throw goPanic("runtime error: invalid memory address or nil pointer dereference");
    this.hdr(r.header);
    for (const a of r.alarms) {
      this.line("MemberID", a.memberID);
      this.line("AlarmType", AlarmType[a.alarm] ?? a.alarm);
      this.out.println("");
    }
  }

  private kv(prefix: string, kv: KeyValue): void {
    this.line(`${prefix}Key`, goQuote(kv.key));
    this.line(`${prefix}CreateRevision`, kv.createRevision);
    this.line(`${prefix}ModRevision`, kv.modRevision);
    this.line(`${prefix}Version`, kv.version);
    this.line(`${prefix}Value`, goQuote(kv.value));
    this.line(`${prefix}Lease`, kv.lease);
  }

  override put(r: PutResponse): void {
    this.hdr(r.header);
    if (r.prevKv) this.kv("Prev", r.prevKv);
  }

  override get(r: RangeResponse): void {
    this.hdr(r.header);
    for (const kv of r.kvs) this.kv("", kv);
    this.line("More", r.more);
    this.line("Count", r.count);
  }

  override del(r: DeleteRangeResponse): void {
    this.hdr(r.header);
    this.line("Deleted", r.deleted);
    for (const kv of r.prevKvs) this.kv("Prev", kv);
  }

  override txn(r: TxnResponse): void {
    this.hdr(r.header);
    this.line("Succeeded", r.succeeded);
    for (const op of r.responses) {
      const resp = op.response;
      if (resp.case === "responseDeleteRange") this.del(resp.value);
      else if (resp.case === "responsePut") this.put(resp.value);
      else if (resp.case === "responseRange") this.get(resp.value);
      else this.line("Unknown", goQuote(String(resp.case)));
    }
  }

  override memberList(r: MemberListResponse): void {
    this.hdr(r.header);
    for (const m of r.members) {
      this.line("ID", m.ID);
      this.line("Name", goQuote(m.name));
      for (const u of m.peerURLs) this.line("PeerURL", goQuote(u));
      for (const u of m.clientURLs) this.line("ClientURL", goQuote(u));
      this.line("IsLearner", m.isLearner);
      this.out.println("");
    }
  }

  override leaseGrant(r: LeaseGrantResponse): void {
    this.hdr(r.header);
    this.line("ID", r.ID);
    this.line("TTL", r.TTL);
  }

  override leaseRevoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.hdr(r.header);
  }

  override leaseKeepAlive(r: LeaseKeepAliveResponse): void {
    this.hdr(r.header);
    this.line("ID", r.ID);
    this.line("TTL", r.TTL);
  }

  override leaseTimeToLive(r: LeaseTimeToLiveResponse): void {
    this.hdr(r.header);
    this.line("ID", r.ID);
    this.line("TTL", r.TTL);
    this.line("GrantedTTL", r.grantedTTL);
    for (const k of r.keys) this.line("Key", goQuote(k));
  }

  override leaseList(r: LeaseLeasesResponse): void {
    this.hdr(r.header);
    for (const l of r.leases) this.line("ID", l.ID);
  }

  override endpointHealth(list: EpHealth[]): void {
    for (const h of list) {
      this.line("Endpoint", goQuote(h.ep));
      this.line("Health", h.health);
      this.line("Took", h.took);
      this.line("Error", h.error);
      this.out.println("");
    }
  }

  override watch(r: WatchResponse): void {
    this.hdr(r.header);
    for (const ev of r.events) {
      this.line("Type", Event_EventType[ev.type] ?? String(ev.type));
      if (ev.prevKv) this.kv("Prev", ev.prevKv);
      if (ev.kv) this.kv("", ev.kv);
    }
  }

  override endpointHashKV(list: EpHashKV[]): void {
    for (const { ep, resp } of list) {
      this.hdr(resp.header);
      this.line("Endpoint", goQuote(ep));
      this.line("Hash", resp.hash);
      this.out.println("");
    }
  }

  override endpointStatus(list: EpStatus[]): void {
    for (const { ep, resp } of list) {
      this.hdr(resp.header);
      this.line("Version", goQuote(resp.version));
      this.line("DBSize", resp.dbSize);
      this.line("Leader", resp.leader);
      this.line("IsLearner", resp.isLearner);
      this.line("RaftIndex", resp.raftIndex);
      this.line("RaftTerm", resp.raftTerm);
      this.line("RaftAppliedIndex", resp.raftAppliedIndex);
      // Go's fmt.Println of a []string: `[a b]`.
      this.line("Errors", `[${resp.errors.join(" ")}]`);
      this.line("Endpoint", goQuote(ep));
      this.out.println("");
    }
  }

  // Auth: the header only, except role get/list. `user get` and `user list` stay unsupported (as in etcdctl 3.4).
  override roleAdd(_role: string, r: AuthRoleAddResponse): void {
    this.hdr(r.header);
  }

  /** Per permission: `"PermType" :  READ` (two spaces: Go's Println of two operands), `"Key"`, `"RangeEnd"` quoted. */
  override roleGet(_role: string, r: AuthRoleGetResponse): void {
    this.hdr(r.header);
    for (const p of r.perm) {
      this.out.println(`"PermType" :  ${Permission_Type[p.permType] ?? String(p.permType)}`);
      this.line("Key", goQuote(p.key));
      this.line("RangeEnd", goQuote(p.rangeEnd));
    }
  }

  override roleDelete(_role: string, r: AuthRoleDeleteResponse): void {
    this.hdr(r.header);
  }

  /** `"Roles" :` followed by ` "<role>"` for each role. */
  override roleList(r: AuthRoleListResponse): void {
    this.hdr(r.header);
    this.out.println(`"Roles" :` + r.roles.map((role) => ` ${goQuote(role)}`).join(""));
  }

  override roleGrantPermission(_role: string, r: AuthRoleGrantPermissionResponse): void {
    this.hdr(r.header);
  }

  override roleRevokePermission(_role: string, _key: string, _end: Uint8Array, r: AuthRoleRevokePermissionResponse): void {
    this.hdr(r.header);
  }

  override userAdd(_user: string, r: AuthUserAddResponse): void {
    this.hdr(r.header);
  }

  override userChangePassword(r: AuthUserChangePasswordResponse): void {
    this.hdr(r.header);
  }

  override userGrantRole(_user: string, _role: string, r: AuthUserGrantRoleResponse): void {
    this.hdr(r.header);
  }

  override userRevokeRole(_user: string, _role: string, r: AuthUserRevokeRoleResponse): void {
    this.hdr(r.header);
  }

  override userDelete(_user: string, r: AuthUserDeleteResponse): void {
    this.hdr(r.header);
  }
}
