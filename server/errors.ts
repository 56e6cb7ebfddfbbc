/**
 * etcd's client-visible errors: one gRPC code and one exact message each.
 *
 * Client libraries (clientv3, the etcd3 npm package, etcdctl) match on these message
 * strings, so they must stay byte-for-byte identical to etcd v3.4's
 * `etcdserver/api/v3rpc/rpctypes` table. Throw them from any layer (mvcc, lease, api):
 * the Connect router turns a ConnectError into a gRPC status or a Connect error body.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Builds a fresh ConnectError for one etcd error (fresh so stacks and metadata are per-throw). */
function etcdError(code: Code, message: string): () => ConnectError {
  return () => new ConnectError(message, code);
}

/** Factories for every etcd error this server can raise, named after etcd's `ErrGRPC*` constants. */
export const Errors = {
  // KV and MVCC
  EmptyKey: etcdError(Code.InvalidArgument, "etcdserver: key is not provided"),
  KeyNotFound: etcdError(Code.InvalidArgument, "etcdserver: key not found"),
  ValueProvided: etcdError(Code.InvalidArgument, "etcdserver: value is provided"),
  LeaseProvided: etcdError(Code.InvalidArgument, "etcdserver: lease is provided"),
  TooManyOps: etcdError(Code.InvalidArgument, "etcdserver: too many operations in txn request"),
  DuplicateKey: etcdError(Code.InvalidArgument, "etcdserver: duplicate key given in txn request"),
  Compacted: etcdError(Code.OutOfRange, "etcdserver: mvcc: required revision has been compacted"),
  FutureRev: etcdError(Code.OutOfRange, "etcdserver: mvcc: required revision is a future revision"),
  NoSpace: etcdError(Code.ResourceExhausted, "etcdserver: mvcc: database space exceeded"),
  // Lease
  LeaseNotFound: etcdError(Code.NotFound, "etcdserver: requested lease not found"),
  LeaseExist: etcdError(Code.FailedPrecondition, "etcdserver: lease already exists"),
  LeaseTTLTooLarge: etcdError(Code.OutOfRange, "etcdserver: too large lease TTL"),
  WatchCanceled: etcdError(Code.Canceled, "etcdserver: watch canceled"),
  // Membership
  MemberExist: etcdError(Code.FailedPrecondition, "etcdserver: member ID already exist"),
  PeerURLExist: etcdError(Code.FailedPrecondition, "etcdserver: Peer URLs already exists"),
  MemberNotEnoughStarted: etcdError(
    Code.FailedPrecondition,
    "etcdserver: re-configuration failed due to not enough started members",
  ),
  MemberBadURLs: etcdError(Code.InvalidArgument, "etcdserver: given member URLs are invalid"),
  MemberNotFound: etcdError(Code.NotFound, "etcdserver: member not found"),
  MemberNotLearner: etcdError(Code.FailedPrecondition, "etcdserver: can only promote a learner member"),
  LearnerNotReady: etcdError(
    Code.FailedPrecondition,
    "etcdserver: can only promote a learner member which is in sync with leader",
  ),
  TooManyLearners: etcdError(Code.FailedPrecondition, "etcdserver: too many learner members in cluster"),
  // Requests
  RequestTooLarge: etcdError(Code.InvalidArgument, "etcdserver: request is too large"),
  TooManyRequests: etcdError(Code.ResourceExhausted, "etcdserver: too many requests"),
  // Auth
  RootUserNotExist: etcdError(Code.FailedPrecondition, "etcdserver: root user does not exist"),
  RootRoleNotExist: etcdError(Code.FailedPrecondition, "etcdserver: root user does not have root role"),
  UserAlreadyExist: etcdError(Code.FailedPrecondition, "etcdserver: user name already exists"),
  UserEmpty: etcdError(Code.InvalidArgument, "etcdserver: user name is empty"),
  UserNotFound: etcdError(Code.FailedPrecondition, "etcdserver: user name not found"),
  RoleAlreadyExist: etcdError(Code.FailedPrecondition, "etcdserver: role name already exists"),
  RoleNotFound: etcdError(Code.FailedPrecondition, "etcdserver: role name not found"),
  RoleEmpty: etcdError(Code.InvalidArgument, "etcdserver: role name is empty"),
  AuthFailed: etcdError(Code.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password"),
  PermissionDenied: etcdError(Code.PermissionDenied, "etcdserver: permission denied"),
  RoleNotGranted: etcdError(Code.FailedPrecondition, "etcdserver: role is not granted to the user"),
  PermissionNotGranted: etcdError(Code.FailedPrecondition, "etcdserver: permission is not granted to the role"),
  AuthNotEnabled: etcdError(Code.FailedPrecondition, "etcdserver: authentication is not enabled"),
  InvalidAuthToken: etcdError(Code.Unauthenticated, "etcdserver: invalid auth token"),
  InvalidAuthMgmt: etcdError(Code.InvalidArgument, "etcdserver: invalid auth management"),
  AuthOldRevision: etcdError(Code.InvalidArgument, "etcdserver: revision of auth store is old"),
  // Cluster health
  NoLeader: etcdError(Code.Unavailable, "etcdserver: no leader"),
  NotLeader: etcdError(Code.FailedPrecondition, "etcdserver: not leader"),
  LeaderChanged: etcdError(Code.Unavailable, "etcdserver: leader changed"),
  NotCapable: etcdError(Code.Unavailable, "etcdserver: not capable"),
  Stopped: etcdError(Code.Unavailable, "etcdserver: server stopped"),
  Timeout: etcdError(Code.Unavailable, "etcdserver: request timed out"),
  TimeoutDueToLeaderFail: etcdError(
    Code.Unavailable,
    "etcdserver: request timed out, possibly due to previous leader failure",
  ),
  TimeoutDueToConnectionLost: etcdError(
    Code.Unavailable,
    "etcdserver: request timed out, possibly due to connection lost",
  ),
  TimeoutWaitAppliedIndex: etcdError(
    Code.Unavailable,
    "etcdserver: request timed out, waiting for the applied index took too long",
  ),
  Unhealthy: etcdError(Code.Unavailable, "etcdserver: unhealthy cluster"),
  Corrupt: etcdError(Code.DataLoss, "etcdserver: corrupt cluster"),
  NotSupportedForLearner: etcdError(Code.Unavailable, "etcdserver: rpc not supported for learner"),
  BadLeaderTransferee: etcdError(Code.FailedPrecondition, "etcdserver: bad leader transferee"),
  // Not in etcd's gRPC table: grpc-go answers them as Unknown with the Go error's text.
  /** MoveLeader did not finish within the request timeout (etcdserver.ErrTimeoutLeaderTransfer). */
  TimeoutLeaderTransfer: etcdError(Code.Unknown, "etcdserver: request timed out, leader transfer took too long"),
  /** Authenticate of a user added with no_password (auth.ErrNoPasswordUser, missing from etcd 3.4's table). */
  NoPasswordUser: etcdError(Code.Unknown, "auth: authentication failed, password was given for no password user"),
  /** A write that never entered Raft (no leader the whole time): etcd returns Go's context.DeadlineExceeded. */
  ContextDeadlineExceeded: etcdError(Code.Unknown, "context deadline exceeded"),
  /** A write whose client went away before it was applied (etcdserver.ErrCanceled, v3_server.go). */
  Canceled: etcdError(Code.Unknown, "etcdserver: request cancelled"),
} as const;
