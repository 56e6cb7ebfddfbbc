/**
 * Errors raised by the Raft core and its Storage. They are plain Error subclasses with a stable `code`
 * (the etcd raft error variable they mirror); the server maps them to gRPC errors where a client sees them
 * (e.g. ProposalDropped -> etcd's "etcdserver: request timed out"-style answers are the server's choice).
 *
 * Mirrors go.etcd.io/etcd/raft/storage.go and raft.go / rawnode.go error variables.
 */

/** Stable error codes. */
export type RaftErrorCode =
  | "ErrCompacted"
  | "ErrSnapOutOfDate"
  | "ErrUnavailable"
  | "ErrSnapshotTemporarilyUnavailable"
  | "ErrProposalDropped"
  | "ErrStepLocalMsg"
  | "ErrStepPeerNotFound"
  | "ErrInvalidConfig";

const MESSAGES: Record<RaftErrorCode, string> = {
  ErrCompacted: "requested index is unavailable due to compaction",
  ErrSnapOutOfDate: "requested index is older than the existing snapshot",
  ErrUnavailable: "requested entry at index is unavailable",
  ErrSnapshotTemporarilyUnavailable: "snapshot is temporarily unavailable",
  ErrProposalDropped: "raft proposal dropped",
  ErrStepLocalMsg: "raft: cannot step raft local message",
  ErrStepPeerNotFound: "raft: cannot step as peer not found",
  ErrInvalidConfig: "raft: invalid config",
};

/** An error of the Raft core; `code` says which. */
export class RaftError extends Error {
  readonly code: RaftErrorCode;
  constructor(code: RaftErrorCode, detail?: string) {
    super(detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code]);
    this.name = "RaftError";
    this.code = code;
  }
}

/** True when `e` is a RaftError with the given code. */
export function isRaftError(e: unknown, code: RaftErrorCode): e is RaftError {
  return e instanceof RaftError && e.code === code;
}
