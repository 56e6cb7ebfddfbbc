/**
 * How etcdctl 3.4 prints lease responses in the formats that dump whole responses. etcdctl hands
 * clientv3's own structs (not the protobuf messages) to the printer (ctlv3/command/printer.go):
 * - `-w json`: Go's `encoding/json` of the struct: the embedded `*pb.ResponseHeader` fields
 *   inline (`cluster_id`, `member_id`, `revision`, `raft_term`, omitted when 0), then the struct's
 *   own fields (`ID`/`TTL`/`Error` for grant, `id`/`ttl`/`granted-ttl`/`keys` for time-to-live,
 *   `leases: [{"id":N}]` for list); LeaseRevokeResponse is the protobuf message itself.
 * - `-w protobuf`: the structs' only `Marshal` method is the embedded header's, so etcdctl writes
 *   the encoded ResponseHeader alone (revoke: the whole message).
 * - `-w simple`: lease IDs as `%016x` hex.
 */
import { toBinary } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import {
  ResponseHeaderSchema,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseTimeToLiveResponse,
  type ResponseHeader,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { goJsonMessage, goJsonString } from "../go/json.ts";

/** Go's `%016x` of an int64 lease ID (a sign, then at least 15 digits, for negative IDs). */
export function leaseHex(id: bigint): string {
  return id < 0n ? "-" + (-id).toString(16).padStart(15, "0") : id.toString(16).padStart(16, "0");
}

/** The inline JSON members of an embedded `*pb.ResponseHeader` (empty when nil), each followed by a comma. */
function headerMembers(h: ResponseHeader | undefined): string {
  if (!h) return "";
  const inner = goJsonMessage(ResponseHeaderSchema, h).slice(1, -1);
  return inner === "" ? "" : inner + ",";
}

/** Base64 (standard, padded) as Go's encoding/json writes []byte. */
function base64(b: Uint8Array): string {
  return `"${base64Encode(b, "std")}"`;
}

/** `clientv3.LeaseGrantResponse` as JSON. */
export function leaseGrantJson(r: LeaseGrantResponse): string {
  return `{${headerMembers(r.header)}"ID":${r.ID},"TTL":${r.TTL},"Error":${goJsonString(r.error)}}`;
}

/** `clientv3.LeaseKeepAliveResponse` as JSON. */
export function leaseKeepAliveJson(r: LeaseKeepAliveResponse): string {
  return `{${headerMembers(r.header)}"ID":${r.ID},"TTL":${r.TTL}}`;
}

/** `clientv3.LeaseTimeToLiveResponse` as JSON (`keys` null when there are none). */
export function leaseTimeToLiveJson(r: LeaseTimeToLiveResponse): string {
  const keys = r.keys.length === 0 ? "null" : `[${r.keys.map(base64).join(",")}]`;
  return `{${headerMembers(r.header)}"id":${r.ID},"ttl":${r.TTL},"granted-ttl":${r.grantedTTL},"keys":${keys}}`;
}

/** `clientv3.LeaseLeasesResponse` as JSON. */
export function leaseLeasesJson(r: LeaseLeasesResponse): string {
  return `{${headerMembers(r.header)}"leases":[${r.leases.map((l) => `{"id":${l.ID}}`).join(",")}]}`;
}

/** What `-w protobuf` writes for a clientv3 lease struct: its embedded header, encoded. */
export function headerOnlyProtobuf(h: ResponseHeader | undefined): Uint8Array {
  return h ? toBinary(ResponseHeaderSchema, h) : new Uint8Array(0);
}

/** gogoproto's compact text of a ResponseHeader (`cluster_id:1 member_id:2 revision:3 raft_term:4 `, zeros left out). */
export function headerProtoText(h: ResponseHeader | undefined): string {
  if (!h) return "";
  const fields: [string, bigint][] = [
    ["cluster_id", h.clusterId],
    ["member_id", h.memberId],
    ["revision", h.revision],
    ["raft_term", h.raftTerm],
  ];
  return fields.map(([name, v]) => (v === 0n ? "" : `${name}:${v} `)).join("");
}
