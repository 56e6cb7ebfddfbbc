/**
 * Request headers of the peer service (proto/etcdts/peer.proto) and the receiver's check of them,
 * as rafthttp's checkClusterCompatibilityFromHeader and stream handler do
 * (etcdserver/api/rafthttp/http.go): IDs travel as lower-case hex (types.ID.String()).
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Sender's cluster ID, hex. */
export const CLUSTER_ID_HEADER = "x-etcd-cluster-id";
/** Sender's member ID, hex. */
export const FROM_HEADER = "x-server-from";
/** Member ID the sender means to reach, hex. */
export const TO_HEADER = "x-raft-to";

/** Refusal texts, rafthttp's (errClusterIDMismatch, the stream handler's "removed member" / "to field mismatch"). */
export const REFUSALS = {
  clusterIdMismatch: "cluster ID mismatch",
  removedMember: "removed member",
  toMismatch: "to field mismatch",
  badFrom: "invalid from",
} as const;

/** An ID as etcd prints it: lower-case hex without padding. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** Parses a hex ID header (1-16 hex digits); undefined when absent or malformed. */
export function parseHexId(value: string | null): bigint | undefined {
  if (value === null || !/^[0-9a-fA-F]{1,16}$/.test(value)) return undefined;
  return BigInt(`0x${value}`);
}

/** The headers every request from `from` to `to` carries. */
export function requestHeaders(clusterId: bigint, from: bigint, to: bigint): Record<string, string> {
  return { [CLUSTER_ID_HEADER]: hexId(clusterId), [FROM_HEADER]: hexId(from), [TO_HEADER]: hexId(to) };
}

/** Request headers by lower-case name (a fetch Headers, or a node request's headers wrapped). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What the receiver knows to check a request against. */
export interface ReceiverIdentity {
  memberId: bigint;
  clusterId: bigint;
  isRemoved(id: bigint): boolean;
}

/**
 * Checks a request's headers; returns the sender's member ID. Throws ConnectError FailedPrecondition
 * `cluster ID mismatch` (another cluster), `removed member` (the sender was removed), `to field mismatch`
 * (meant for another member), InvalidArgument `invalid from` (no parsable sender ID).
 */
export function checkRequestHeaders(header: HeaderReader, self: ReceiverIdentity): bigint {
  if (header.get(CLUSTER_ID_HEADER) !== hexId(self.clusterId)) {
    throw new ConnectError(REFUSALS.clusterIdMismatch, Code.FailedPrecondition);
  }
  const from = parseHexId(header.get(FROM_HEADER));
  if (from === undefined) throw new ConnectError(REFUSALS.badFrom, Code.InvalidArgument);
  if (self.isRemoved(from)) throw new ConnectError(REFUSALS.removedMember, Code.FailedPrecondition);
  if (parseHexId(header.get(TO_HEADER)) !== self.memberId) {
    throw new ConnectError(REFUSALS.toMismatch, Code.FailedPrecondition);
  }
  return from;
}
