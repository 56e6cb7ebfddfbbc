/**
 * The contract between the RPC handlers (server/api) and the member's consensus/apply
 * pipeline (server/node). Handlers validate and call these methods; the node proposes
 * writes through the log, applies them to MVCC and answers with etcd's response messages.
 *
 * Every method resolves with a response whose `header` is filled in (cluster_id,
 * member_id, revision, raft_term) and rejects with a ConnectError from server/errors.ts.
 */
import type {
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

/** What a member offers to the client API. Implemented by `EtcdNode` (server/node/etcd-node.ts). */
export interface EtcdServerApi {
  /** Cluster ID (uint64), stable across restarts. */
  readonly clusterId: bigint;
  /** This member's ID (uint64), stable across restarts. */
  readonly memberId: bigint;
  /** Header for a response produced now: current revision and Raft term. */
  header(): ResponseHeader;

  /** Range read. Linearizable unless `req.serializable`. Errors: Compacted, FutureRev (OutOfRange). */
  range(req: RangeRequest): Promise<RangeResponse>;
  /** Put through the log. Errors: LeaseNotFound (NotFound), NoSpace, Timeout. */
  put(req: PutRequest): Promise<PutResponse>;
  /** DeleteRange through the log. */
  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse>;
  /** Txn through the log (read-only txns may be served like a range). */
  txn(req: TxnRequest): Promise<TxnResponse>;
  /** Compact through the log. Errors: Compacted, FutureRev (OutOfRange). */
  compact(req: CompactionRequest): Promise<CompactionResponse>;

  /**
   * LeaseGrant through the log (etcd's v3_server.go LeaseGrant): `req.ID` 0 = the member picks
   * an ID. Errors: LeaseExist (FailedPrecondition), LeaseTTLTooLarge (OutOfRange).
   */
  leaseGrant(req: LeaseGrantRequest): Promise<LeaseGrantResponse>;
  /** LeaseRevoke through the log: deletes the lease's keys in one revision. Errors: LeaseNotFound (NotFound). */
  leaseRevoke(req: LeaseRevokeRequest): Promise<LeaseRevokeResponse>;
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

  /** Current membership, voters and learners. */
  members(): Member[];
  /** Maintenance.Status for this member (header, version, dbSize, leader, raft index/term...). */
  status(): StatusResponse;

  /**
   * Opens a watch stream on the member's watch hub (server/mvcc/watch/stream.ts): one per
   * `Watch` call; the caller must close() it when the client goes away.
   */
  openWatchStream(): WatchStream;
}
