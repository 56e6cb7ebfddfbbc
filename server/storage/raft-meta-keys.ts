/**
 * `meta` keys of the Raft log's position (server/storage/raft-storage.ts): the latest snapshot
 * and the log's compaction point (raft's dummy entry). A module of its own so that code that
 * rewrites them offline (server/recovery/, also run by etcdctl under Deno) needs no storage class.
 */
export const RaftMetaKeys = {
  snapIndex: "raft_snapshot_index",
  snapTerm: "raft_snapshot_term",
  confState: "raft_conf_state",
  compactIndex: "raft_compact_index",
  compactTerm: "raft_compact_term",
} as const;
