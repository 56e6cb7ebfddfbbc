/**
 * Text of etcdctl 3.4's simple-format membership messages (`printer_simple.go` and
 * `member_command.go`): IDs as Go's `%16x` (hex, space-padded to 16 characters) in member
 * messages and as `types.ID.String()` (plain hex) in `move-leader`'s message.
 */
import type { MemberAddResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { goQuote } from "../go/strconv.ts";

/** Go's `%16x` of a uint64: lower-case hex, left-padded with spaces to 16 characters. */
export function hex16(id: bigint): string {
  return id.toString(16).padStart(16, " ");
}

/** `Member <id> <verb> <cluster ID>`, e.g. `Member 8211f1d0f64f3269 removed from cluster d88217f8383c5a19`. */
export function memberMessage(id: bigint, verb: string, clusterId: bigint | undefined): string {
  return `Member ${hex16(id)} ${verb} ${hex16(clusterId ?? 0n)}`;
}

/**
 * The lines `member add` prints after its message in the simple format: a blank line, then
 * `ETCD_NAME`, `ETCD_INITIAL_CLUSTER` (every member's `name=peerURL` in the response's order, the
 * new member under `name`), `ETCD_INITIAL_ADVERTISE_PEER_URLS` (the `--peer-urls` text as given)
 * and `ETCD_INITIAL_CLUSTER_STATE="existing"`, values in Go `%q` form.
 */
export function memberAddEnvLines(r: MemberAddResponse, name: string, peerURLs: string): string[] {
  const newId = r.member?.ID ?? 0n;
  const conf = r.members.flatMap((m) => m.peerURLs.map((u) => `${m.ID === newId ? name : m.name}=${u}`));
  return [
    "",
    `ETCD_NAME=${goQuote(name)}`,
    `ETCD_INITIAL_CLUSTER=${goQuote(conf.join(","))}`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerURLs)}`,
    `ETCD_INITIAL_CLUSTER_STATE="existing"`,
  ];
}
