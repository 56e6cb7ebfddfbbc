/**
 * The printer contract of etcdctl (`ctlv3/command/printer.go`): one method per response kind, one
 * implementation per `--write-out` format. A format that cannot show a response exits 4 with
 * `<format> not supported as output format`, exactly where etcdctl's `printerUnsupported` does.
 *
 * To add a command (watch, lease, member add...), add a method here, implement it in the formats
 * that support it, and let {@link UnsupportedPrinter} cover the rest.
 */
import type { SnapshotStatus } from "../../server/snapshot/status.ts";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import {
  AlarmResponseSchema,
  type AlarmResponse,
  type HashKVResponse,
  AuthRoleAddResponseSchema,
  AuthRoleGetResponseSchema,
  AuthRoleDeleteResponseSchema,
  AuthRoleListResponseSchema,
  AuthRoleGrantPermissionResponseSchema,
  AuthRoleRevokePermissionResponseSchema,
  AuthUserAddResponseSchema,
  AuthUserGetResponseSchema,
  AuthStatusResponseSchema,
  AuthUserListResponseSchema,
  AuthUserChangePasswordResponseSchema,
  AuthUserGrantRoleResponseSchema,
  AuthUserRevokeRoleResponseSchema,
  AuthUserDeleteResponseSchema,
  DeleteRangeResponseSchema,
  LeaseRevokeResponseSchema,
  MemberAddResponseSchema,
  MemberListResponseSchema,
  MemberRemoveResponseSchema,
  MemberUpdateResponseSchema,
  MoveLeaderResponseSchema,
  PutResponseSchema,
  RangeResponseSchema,
  TxnResponseSchema,
  type AuthRoleAddResponse,
  type AuthRoleGetResponse,
  type AuthRoleDeleteResponse,
  type AuthRoleListResponse,
  type AuthRoleGrantPermissionResponse,
  type AuthRoleRevokePermissionResponse,
  type AuthUserAddResponse,
  type AuthUserGetResponse,
  type AuthStatusResponse,
  type AuthUserListResponse,
  type AuthUserChangePasswordResponse,
  type AuthUserGrantRoleResponse,
  type AuthUserRevokeRoleResponse,
  type AuthUserDeleteResponse,
  type DeleteRangeResponse,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveResponse,
  type MemberAddResponse,
  type MemberListResponse,
  type MemberPromoteResponse,
  type MemberRemoveResponse,
  type MemberUpdateResponse,
  type MoveLeaderResponse,
  type PutResponse,
  type RangeResponse,
  type StatusResponse,
  type TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { WatchResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { CtlError, ExitCode, goPanic } from "../errors.ts";
import type { Output } from "../output.ts";

/** Names accepted by `-w/--write-out`. */
export type OutputFormat = "simple" | "json" | "fields" | "table" | "protobuf";

/** Result of checking one endpoint in `endpoint health` (etcdctl's `epHealth`). */
export interface EpHealth {
  /** Endpoint as given on the command line. */
  ep: string;
  health: boolean;
  /** Elapsed time in Go `Duration.String` form, e.g. `1.2ms`. */
  took: string;
  /** Error text; empty when healthy. */
  error: string;
}

/** One endpoint's `Maintenance.Status` answer in `endpoint status` (etcdctl's `epStatus`). */
export interface EpStatus {
  ep: string;
  resp: StatusResponse;
}

/** One endpoint's `Maintenance.HashKV` answer in `endpoint hashkv` (etcdctl's `epHashKV`). */
export interface EpHashKV {
  ep: string;
  resp: HashKVResponse;
}

/** What every output format must be able to print (subset of etcdctl's `printer` interface). */
export interface Printer {
  /** The `-w` value that selected this printer. */
  readonly format: OutputFormat;
  put(r: PutResponse): void;
  get(r: RangeResponse): void;
  del(r: DeleteRangeResponse): void;
  txn(r: TxnResponse): void;
  memberList(r: MemberListResponse): void;
  /**
   * `member add <name> --peer-urls=<peerURLs>`; `name` and `peerURLs` (the flag text as given)
   * feed the simple format's `ETCD_*` lines.
   */
  memberAdd(r: MemberAddResponse, name: string, peerURLs: string): void;
  /** `member remove <id>`. */
  memberRemove(id: bigint, r: MemberRemoveResponse): void;
  /** `member update <id>`. */
  memberUpdate(id: bigint, r: MemberUpdateResponse): void;
  /** `member promote <id>` (every format but simple is a Go nil-pointer panic in etcdctl 3.4). */
  memberPromote(id: bigint, r: MemberPromoteResponse): void;
  /** `move-leader <target>`: `leader` is the member that held leadership before the transfer. */
  moveLeader(leader: bigint, target: bigint, r: MoveLeaderResponse): void;
  /** `lease grant`. */
  leaseGrant(r: LeaseGrantResponse): void;
  /** `lease revoke <id>`. */
  leaseRevoke(id: bigint, r: LeaseRevokeResponse): void;
  /** One answer of `lease keep-alive`. */
  leaseKeepAlive(r: LeaseKeepAliveResponse): void;
  /** `lease timetolive [--keys]`; `keys` tells whether `--keys` was given. */
  leaseTimeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void;
  /** `lease list`. */
  leaseList(r: LeaseLeasesResponse): void;
  endpointHealth(list: EpHealth[]): void;
  endpointStatus(list: EpStatus[]): void;
  /** `snapshot status <file>` (etcdctl's DBStatus). */
  dbStatus(s: SnapshotStatus): void;
  /** `endpoint hashkv`. */
  endpointHashKV(list: EpHashKV[]): void;
  /** `alarm list` and `alarm disarm` (etcd answers without a header). */
  alarm(r: AlarmResponse): void;
  /** One response of `watch` (clientv3 drops the watch ID, fragment flag and cancel reason). */
  watch(r: WatchResponse): void;
  /** `role add <role>`. */
  roleAdd(role: string, r: AuthRoleAddResponse): void;
  /** `role get <role>` (and each role of `user get --detail`). */
  roleGet(role: string, r: AuthRoleGetResponse): void;
  /** `role delete <role>`. */
  roleDelete(role: string, r: AuthRoleDeleteResponse): void;
  /** `role list`. */
  roleList(r: AuthRoleListResponse): void;
  /** `role grant-permission <role> ...`. */
  roleGrantPermission(role: string, r: AuthRoleGrantPermissionResponse): void;
  /** `role revoke-permission <role> <key> [end]`: `key` as typed, `end` as sent (empty for one key, `\x00` open ended). */
  roleRevokePermission(role: string, key: string, end: Uint8Array, r: AuthRoleRevokePermissionResponse): void;
  /** `user add <user>`. */
  userAdd(user: string, r: AuthUserAddResponse): void;
  /** `user get <user>` (without `--detail`). */
  userGet(user: string, r: AuthUserGetResponse): void;
  /** `user list`. */
  userList(r: AuthUserListResponse): void;
  /** `user passwd <user>`. */
  userChangePassword(r: AuthUserChangePasswordResponse): void;
  /** `user grant-role <user> <role>`. */
  userGrantRole(user: string, role: string, r: AuthUserGrantRoleResponse): void;
  /** `user revoke-role <user> <role>`. */
  userRevokeRole(user: string, role: string, r: AuthUserRevokeRoleResponse): void;
  /** `user delete <user>`. */
  userDelete(user: string, r: AuthUserDeleteResponse): void;
  /** `auth status` (etcdctl 3.5). */
  authStatus(r: AuthStatusResponse): void;
}

/** Base for formats that support only some responses: everything else exits 4. */
export abstract class UnsupportedPrinter implements Printer {
  abstract readonly format: OutputFormat;

  /** @param out where the printed bytes go */
  constructor(protected readonly out: Output) {}

  /** @throws CtlError exit 4 `<format> not supported as output format` */
  protected unsupported(): never {
    throw new CtlError(ExitCode.BadFeature, `${this.format} not supported as output format`);
  }

  put(_r: PutResponse): void {
    this.unsupported();
  }
  get(_r: RangeResponse): void {
    this.unsupported();
  }
  del(_r: DeleteRangeResponse): void {
    this.unsupported();
  }
  txn(_r: TxnResponse): void {
    this.unsupported();
  }
  memberList(_r: MemberListResponse): void {
    this.unsupported();
  }
  memberAdd(_r: MemberAddResponse, _name: string, _peerURLs: string): void {
    this.unsupported();
  }
  memberRemove(_id: bigint, _r: MemberRemoveResponse): void {
    this.unsupported();
  }
  memberUpdate(_id: bigint, _r: MemberUpdateResponse): void {
    this.unsupported();
  }
  /**
   * etcdctl 3.4's non-simple printers have no MemberPromote: the call lands on a nil embedded
   * printer and Go panics (exit 2), after the learner was promoted.
   * @throws CtlError exit 2 `panic: runtime error: invalid memory address or nil pointer dereference`
   */
  memberPromote(_id: bigint, _r: MemberPromoteResponse): void {
    throw goPanic("runtime error: invalid memory address or nil pointer dereference");
  }
  moveLeader(_leader: bigint, _target: bigint, _r: MoveLeaderResponse): void {
    this.unsupported();
  }
  leaseGrant(_r: LeaseGrantResponse): void {
    this.unsupported();
  }
  leaseRevoke(_id: bigint, _r: LeaseRevokeResponse): void {
    this.unsupported();
  }
  leaseKeepAlive(_r: LeaseKeepAliveResponse): void {
    this.unsupported();
  }
  leaseTimeToLive(_r: LeaseTimeToLiveResponse, _keys: boolean): void {
    this.unsupported();
  }
  leaseList(_r: LeaseLeasesResponse): void {
    this.unsupported();
  }
  endpointHealth(_list: EpHealth[]): void {
    this.unsupported();
  }
  endpointStatus(_list: EpStatus[]): void {
    this.unsupported();
  }
  dbStatus(_s: SnapshotStatus): void {
    this.unsupported();
  }
  watch(_r: WatchResponse): void {
    this.unsupported();
  }
  alarm(_r: AlarmResponse): void {
    this.unsupported();
  }
  endpointHashKV(_list: EpHashKV[]): void {
    this.unsupported();
  }
  roleAdd(_role: string, _r: AuthRoleAddResponse): void {
    this.unsupported();
  }
  roleGet(_role: string, _r: AuthRoleGetResponse): void {
    this.unsupported();
  }
  roleDelete(_role: string, _r: AuthRoleDeleteResponse): void {
    this.unsupported();
  }
  roleList(_r: AuthRoleListResponse): void {
    this.unsupported();
  }
  roleGrantPermission(_role: string, _r: AuthRoleGrantPermissionResponse): void {
    this.unsupported();
  }
  roleRevokePermission(_role: string, _key: string, _end: Uint8Array, _r: AuthRoleRevokePermissionResponse): void {
    this.unsupported();
  }
  userAdd(_user: string, _r: AuthUserAddResponse): void {
    this.unsupported();
  }
  userGet(_user: string, _r: AuthUserGetResponse): void {
    this.unsupported();
  }
  userList(_r: AuthUserListResponse): void {
    this.unsupported();
  }
  userChangePassword(_r: AuthUserChangePasswordResponse): void {
    this.unsupported();
  }
  userGrantRole(_user: string, _role: string, _r: AuthUserGrantRoleResponse): void {
    this.unsupported();
  }
  userRevokeRole(_user: string, _role: string, _r: AuthUserRevokeRoleResponse): void {
    this.unsupported();
  }
  userDelete(_user: string, _r: AuthUserDeleteResponse): void {
    this.unsupported();
  }
  authStatus(_r: AuthStatusResponse): void {
    this.unsupported();
  }
}

/**
 * Base for formats that dump whole RPC responses (json, protobuf; etcdctl's `printerRPC`):
 * KV, member and auth responses go to {@link message}, endpoint lists stay unsupported unless overridden.
 */
export abstract class RpcPrinter extends UnsupportedPrinter {
  /** Prints one response message in this format. */
  protected abstract message(schema: DescMessage, msg: Message): void;

  override put(r: PutResponse): void {
    this.message(PutResponseSchema, r);
  }
  override get(r: RangeResponse): void {
    this.message(RangeResponseSchema, r);
  }
  override del(r: DeleteRangeResponse): void {
    this.message(DeleteRangeResponseSchema, r);
  }
  override txn(r: TxnResponse): void {
    this.message(TxnResponseSchema, r);
  }
  override memberList(r: MemberListResponse): void {
    this.message(MemberListResponseSchema, r);
  }
  override memberAdd(r: MemberAddResponse): void {
    this.message(MemberAddResponseSchema, r);
  }
  override memberRemove(_id: bigint, r: MemberRemoveResponse): void {
    this.message(MemberRemoveResponseSchema, r);
  }
  override memberUpdate(_id: bigint, r: MemberUpdateResponse): void {
    this.message(MemberUpdateResponseSchema, r);
  }
  /** etcd 3.4 answers MoveLeader without a header: `{}` in json, nothing in protobuf. */
  override moveLeader(_leader: bigint, _target: bigint, r: MoveLeaderResponse): void {
    this.message(MoveLeaderResponseSchema, r);
  }
  override leaseRevoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.message(LeaseRevokeResponseSchema, r);
  }
  override alarm(r: AlarmResponse): void {
    this.message(AlarmResponseSchema, r);
  }
  override roleAdd(_role: string, r: AuthRoleAddResponse): void {
    this.message(AuthRoleAddResponseSchema, r);
  }
  override roleGet(_role: string, r: AuthRoleGetResponse): void {
    this.message(AuthRoleGetResponseSchema, r);
  }
  override roleDelete(_role: string, r: AuthRoleDeleteResponse): void {
    this.message(AuthRoleDeleteResponseSchema, r);
  }
  override roleList(r: AuthRoleListResponse): void {
    this.message(AuthRoleListResponseSchema, r);
  }
  override roleGrantPermission(_role: string, r: AuthRoleGrantPermissionResponse): void {
    this.message(AuthRoleGrantPermissionResponseSchema, r);
  }
  override roleRevokePermission(_role: string, _key: string, _end: Uint8Array, r: AuthRoleRevokePermissionResponse): void {
    this.message(AuthRoleRevokePermissionResponseSchema, r);
  }
  override userAdd(_user: string, r: AuthUserAddResponse): void {
    this.message(AuthUserAddResponseSchema, r);
  }
  override userGet(_user: string, r: AuthUserGetResponse): void {
    this.message(AuthUserGetResponseSchema, r);
  }
  override userList(r: AuthUserListResponse): void {
    this.message(AuthUserListResponseSchema, r);
  }
  override userChangePassword(r: AuthUserChangePasswordResponse): void {
    this.message(AuthUserChangePasswordResponseSchema, r);
  }
  override userGrantRole(_user: string, _role: string, r: AuthUserGrantRoleResponse): void {
    this.message(AuthUserGrantRoleResponseSchema, r);
  }
  override userRevokeRole(_user: string, _role: string, r: AuthUserRevokeRoleResponse): void {
    this.message(AuthUserRevokeRoleResponseSchema, r);
  }
  override userDelete(_user: string, r: AuthUserDeleteResponse): void {
    this.message(AuthUserDeleteResponseSchema, r);
  }
  override authStatus(r: AuthStatusResponse): void {
    this.message(AuthStatusResponseSchema, r);
  }
}
