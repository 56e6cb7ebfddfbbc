/**
 * Header and cell text of the tabular responses, shared by the simple format (cells joined with
 * `, `) and the table format. Mirrors the `make*Table` helpers of etcdctl's `printer.go`.
 */
import type { MemberListResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { humanizeBytes } from "../go/humanize.ts";
import type { EpHashKV, EpHealth, EpStatus } from "./printer.ts";

/** A header row and data rows, all cells already formatted. */
export interface Rows {
  header: string[];
  rows: string[][];
}

/** `member list`: ID (hex), Status (`unstarted` when the member has no name yet), Name, URLs, Is Learner. */
export function memberListRows(r: MemberListResponse): Rows {
  return {
    header: ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"],
    rows: r.members.map((m) => [
      m.ID.toString(16),
      m.name.length === 0 ? "unstarted" : "started",
      m.name,
      m.peerURLs.join(","),
      m.clientURLs.join(","),
      String(m.isLearner),
    ]),
  };
}

/** `endpoint health`: endpoint, health, took, error. */
export function endpointHealthRows(list: EpHealth[]): Rows {
  return {
    header: ["endpoint", "health", "took", "error"],
    rows: list.map((h) => [h.ep, String(h.health), h.took, h.error]),
  };
}

/** `endpoint status`: endpoint, member ID (hex), version, db size (SI), leader/learner flags, raft numbers, errors. */
/** etcdctl's makeEndpointHashKVTable: endpoint and hash (decimal). */
export function endpointHashKVRows(list: EpHashKV[]): Rows {
  return { header: ["endpoint", "hash"], rows: list.map(({ ep, resp }) => [ep, String(resp.hash)]) };
}

export function endpointStatusRows(list: EpStatus[]): Rows {
  return {
    header: [
      "endpoint",
      "ID",
      "version",
      "db size",
      "is leader",
      "is learner",
      "raft term",
      "raft index",
      "raft applied index",
      "errors",
    ],
    rows: list.map(({ ep, resp }) => {
      const memberId = resp.header?.memberId ?? 0n;
      return [
        ep,
        memberId.toString(16),
        resp.version,
        humanizeBytes(resp.dbSize),
        String(resp.leader === memberId),
        String(resp.isLearner),
        resp.raftTerm.toString(),
        resp.raftIndex.toString(),
        resp.raftAppliedIndex.toString(),
        resp.errors.join(", "),
      ];
    }),
  };
}
