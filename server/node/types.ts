/**
 * The contract between the RPC handlers (server/api) and the member's consensus/apply
 * pipeline (server/node). Handlers validate and call these methods; the node proposes
 * writes through the log, applies them to MVCC and answers with etcd's response messages.
 *
 * Every method resolves with a response whose `header` is filled in (cluster_id,
 * member_id, revision, raft_term) and rejects with a ConnectError from server/errors.ts.
 * Writes may also reject with TooManyRequests (ResourceExhausted `etcdserver: too many
 * requests`) when the member is overloaded (server/node/limits.ts). `signal` is the request's
 * Cancellation (Connect's HandlerContext.signal, or the lean gRPC path's cheaper one): once it
 * aborts (the client went away) the member drops the request early, rejecting with Canceled.
 */
import type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  Member,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { WatchStream } from "../mvcc/watch/stream.ts";
import type { SnapshotChunk } from "../snapshot/stream.ts";
import type { AuthServer } from "../auth/server.ts";

/**
 * What the member reads of a client's cancellation: `aborted` once the client went away, and a
 * listener called at that moment. An AbortSignal is one; the lean gRPC path
 * (server/http/grpc-unary.ts) passes a plain object instead, without an AbortController and
 * event-target listeners per call.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void): void;
  removeEventListener(type: "abort", listener: () => void): void;
}
import type { AuthInfo } from "../auth/store.ts";

/** What a member offers to the client API. Implemented by `EtcdNode` (server/node/etcd-node.ts). */
export interface EtcdServerApi {
  /** Cluster ID (uint64), stable across restarts. */
  readonly clusterId: bigint;
  /** This member's ID (uint64), stable across restarts. */
  readonly memberId: bigint;
  /** Header for a response produced now: current revision and Raft term. */
  header(): ResponseHeader;

  /*
   * `ai` on the KV and lease methods: the sender (server/auth/store.ts AuthInfo, from the
   * request's token; undefined without credentials). With auth enabled, refusals are etcd's:
   * UserEmpty, AuthOldRevision (InvalidArgument), PermissionDenied (server/auth/apply.ts).
   * `signal` on the KV methods: aborts when the client went away; a request not yet proposed is
   * then dropped with Canceled (Unknown, `etcdserver: request cancelled`).
   */

  /** Range read. Linearizable unless `req.serializable`. Errors: Compacted, FutureRev (OutOfRange), auth refusals. */
  range(req: RangeRequest, ai?: AuthInfo, signal?: Cancellation): Promise<RangeResponse>;
  /** Put through the log. Errors: LeaseNotFound (NotFound), NoSpace, Timeout, TooManyRequests, auth refusals. */
  put(req: PutRequest, ai?: AuthInfo, signal?: Cancellation): Promise<PutResponse>;
  /** DeleteRange through the log. */
  deleteRange(req: DeleteRangeRequest, ai?: AuthInfo, signal?: Cancellation): Promise<DeleteRangeResponse>;
  /** Txn through the log (read-only txns may be served like a range). */
  txn(req: TxnRequest, ai?: AuthInfo, signal?: Cancellation): Promise<TxnResponse>;
  /** Compact through the log (no permission needed, as in etcd 3.4). Errors: Compacted, FutureRev (OutOfRange). */
  compact(req: CompactionRequest, ai?: AuthInfo, signal?: Cancellation): Promise<CompactionResponse>;

  /**
   * LeaseGrant through the log (etcd's v3_server.go LeaseGrant): `req.ID` 0 = the member picks
   * an ID. Errors: LeaseExist (FailedPrecondition), LeaseTTLTooLarge (OutOfRange).
   */
  leaseGrant(req: LeaseGrantRequest, ai?: AuthInfo): Promise<LeaseGrantResponse>;
  /**
   * LeaseRevoke through the log: deletes the lease's keys in one revision. Errors: LeaseNotFound
   * (NotFound); with auth, PermissionDenied unless `ai` may write every attached key.
   */
  leaseRevoke(req: LeaseRevokeRequest, ai?: AuthInfo): Promise<LeaseRevokeResponse>;
  /**
   * One keep-alive (etcd's LeaseRenew), answered by the lease holder without the log: resolves
   * with the granted TTL in seconds. Errors: LeaseNotFound (NotFound) for an unknown lease or one
   * that expired (the answer waits until its revocation is applied).
   */
  leaseRenew(id: bigint): Promise<bigint>;
  /** LeaseTimeToLive from the lease holder's table (header unset). Errors: LeaseNotFound (NotFound). */
  leaseTimeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  /** LeaseLeases: every lease ID, soonest expiry first (header filled). */
  leaseLeases(): Promise<LeaseLeasesResponse>;

  /** Current membership, voters and learners. Errors: NotSupportedForLearner on a learner. */
  members(): Member[];
  /** Maintenance.Status for this member (header, version, dbSize, leader, raft index/term...). */
  status(): StatusResponse;
  /**
   * The leader this member knows now (0n: none), without building a Status; for etcd's
   * require-leader check (server/api/require-leader.ts). Optional: fakes answer through status().
   */
  leaderId?(): bigint;

  /**
   * Maintenance.Snapshot's data: this member's backend at one point in time in etcd 3.4's bbolt
   * format, in 32 KiB chunks, then the SHA-256 of the whole (server/snapshot/stream.ts).
   * `signal` aborts it when the client goes away (temporary files are removed at once).
   * Optional: test fakes leave it out and the handler answers Unimplemented. Errors: Stopped;
   * file system errors (e.g. no space for the temporary copy) as they are.
   */
  snapshot?(signal?: AbortSignal): AsyncIterable<SnapshotChunk>;

  /**
   * Maintenance.Alarm through the log (server/alarm/apply.ts): GET / ACTIVATE / DEACTIVATE; the
   * response has no header, as etcd's. Optional: test fakes leave it out (answered: no alarms).
   * Errors: NotSupportedForLearner, Timeout.
   */
  alarm?(req: AlarmRequest): Promise<AlarmResponse>;
  /**
   * Maintenance.HashKV (server/mvcc/hash.ts): hash of the MVCC history up to `revision` (0:
   * current), the store revision and the compact revision. Optional (test fakes: Unimplemented).
   * Errors: Compacted, FutureRev (OutOfRange).
   */
  hashKV?(revision: number): Promise<{ hash: number; revision: number; compactRevision: number }>;
  /** Maintenance.Hash: hash of the backend's state-machine tables. Optional (test fakes: Unimplemented). */
  hash?(): number;
  /**
   * Maintenance.Defragment: frees the backend's unused pages while serving. Optional: test fakes
   * leave it out (answered with success, nothing done).
   */
  defragment?(): Promise<void>;
  /** The alarms raised as applied on this member (for `/health` and Status), without the log. */
  alarmList?(): AlarmMember[];

  /**
   * The membership administration of a Raft member (etcd's v3rpc/member.go and MoveLeader).
   * Optional: test fakes leave it out and the Cluster/Maintenance handlers answer Unimplemented.
   */
  cluster?: ClusterAdminApi;

  /**
   * Authentication and RBAC (server/auth/server.ts): the Auth API and the credentials of a
   * request. Optional: test fakes leave it out; then requests carry no credentials and the
   * Auth service answers Unimplemented.
   */
  auth?: AuthServer;

  /**
   * Throws NotSupportedForLearner (Unavailable "etcdserver: rpc not supported for learner") when
   * this member is a learner: etcd 3.4 lets a learner answer only Status and serializable Range
   * (v3rpc/interceptor.go). Handlers that do not go through a checked method call it first.
   */
  rejectIfLearner?(): void;

  /**
   * Resolves once this member has applied everything committed when it was called (a ReadIndex
   * round, etcd's linearizableReadNotify), for health checks; allowed on a learner.
   * Errors: Timeout (Unavailable "etcdserver: request timed out").
   */
  linearizableReadNotify?(): Promise<void>;

  /**
   * Opens a watch stream on the member's watch hub (server/mvcc/watch/stream.ts): one per
   * `Watch` call; the caller must close() it when the client goes away.
   */
  openWatchStream(): WatchStream;
}

/** Response of a membership change: the membership after it, as etcd's MemberListResponse lists it. */
export interface MembershipResult {
  /** Every member, sorted by ID. */
  members: Member[];
}

/**
 * Membership changes through Raft configuration changes, answered once the change is applied
 * (etcd's EtcdServer AddMember, RemoveMember, UpdateMember, PromoteMember, MoveLeader). With
 * `--strict-reconfig-check` (default) changes that could cost the quorum are refused first
 * (server/membership/reconfig-check.ts). Timeouts as for writes (Timeout, Unavailable).
 */
export interface ClusterAdminApi {
  /**
   * Adds a member (`isLearner`: a non-voting learner) with an ID computed from its peer URLs and
   * the current time (server/membership/ids.ts). Errors: MemberExist, PeerURLExist,
   * TooManyLearners, MemberNotEnoughStarted (FailedPrecondition), Unhealthy (Unavailable).
   */
  add(peerURLs: string[], isLearner: boolean): Promise<MembershipResult & { member: Member }>;
  /** Removes member `id`. Errors: MemberNotFound (NotFound), MemberNotEnoughStarted, Unhealthy. */
  remove(id: bigint): Promise<MembershipResult>;
  /** Replaces the peer URLs of member `id`. Errors: MemberNotFound, PeerURLExist. */
  update(id: bigint, peerURLs: string[]): Promise<MembershipResult>;
  /**
   * Promotes learner `id` to voter; a follower forwards the request to the leader. Errors:
   * MemberNotFound, MemberNotLearner, LearnerNotReady, MemberNotEnoughStarted (FailedPrecondition).
   */
  promote(id: bigint): Promise<MembershipResult>;
  /**
   * Hands leadership to voter `target` and resolves once it leads. Errors: NotLeader
   * (FailedPrecondition) when this member does not lead; BadLeaderTransferee (FailedPrecondition)
   * for an unknown member or a learner; Unknown `etcdserver: request timed out, leader transfer
   * took too long` when the transfer does not finish within the request timeout.
   */
  moveLeader(target: bigint): Promise<void>;
}

