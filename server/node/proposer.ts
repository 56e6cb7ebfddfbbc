/**
 * The member's proposal path (etcd's EtcdServer.processInternalRaftRequestOnce): a write is
 * checked against the member's limits, encoded as an InternalRaftRequest log entry, registered
 * with a waiter and handed to Raft; the caller gets the entry's outcome once it is applied and
 * durable, or the error etcd gives when it is not applied in time (parseProposeCtxErr).
 */
import { ConnectError } from "@connectrpc/connect";
import { create, toBinary } from "@bufbuild/protobuf";
import { InternalRaftRequestSchema, RequestHeaderSchema, type InternalRaftRequest } from "../../proto/gen/etcdserverpb/raft_internal_pb.ts";
import type { ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { AuthInfo } from "../auth/store.ts";
import { Errors } from "../errors.ts";
import type { MemberCounters } from "../metrics/member-counters.ts";
import type { MemberRecord } from "../storage/members.ts";
import type { AppliedOutcome, ApplyOutcome, AppliedResponse } from "./applier.ts";
import type { MemberEnv } from "./env.ts";
import { MAX_APPLY_LAG_ENTRIES, MAX_PENDING_PROPOSAL_BYTES, MAX_PENDING_PROPOSALS } from "./limits.ts";
import type { RaftDriver } from "./raft-driver.ts";
import { encodeRequestEntry } from "./request-entry.ts";
import type { MemberStateMachine } from "./state-machine.ts";
import type { Cancellation } from "./types.ts";

/** What the proposal path reads from its member. */
export interface ProposerDeps {
  memberId: bigint;
  /** The proposal waiters and the proposed-request map the applier reads. */
  sm: Pick<MemberStateMachine, "waiters" | "proposed">;
  raft: Pick<RaftDriver, "propose" | "leader">;
  counters: MemberCounters;
  env: MemberEnv;
  /** A fresh request ID (etcd's reqIDGen). */
  nextRequestId: () => bigint;
  /** `--max-request-bytes`, bytes. */
  maxRequestBytes: number;
  /** etcd's ReqTimeout, ms. */
  requestTimeoutMs: number;
  /** `--election-timeout`, ms. */
  electionMs: number;
  /** Entries appended but not yet applied (EtcdNode.applyLagEntries). */
  applyLagEntries: () => number;
  /** When a leader was last elected, epoch ms (0: never). */
  leaderElectedAt: () => number;
  /** When the stream to peer `id` came up, epoch ms; undefined when it is down. Absent without a transport (tests). */
  activeSince?: (id: bigint) => number | undefined;
  /** The member records as applied. */
  members: () => MemberRecord[];
  /** Throws Errors.Stopped() once the member is closed. */
  assertOpen: () => void;
  isClosed: () => boolean;
  /** The response header for this member now. */
  header: () => ResponseHeader;
}

/** Proposes writes for one member and maps their timeouts to etcd's errors. */
export class Proposer {
  constructor(private readonly d: ProposerDeps) {}

  /**
   * Encodes a write and proposes it; resolves with its response, its header at the applied
   * revision, once applied and durable. Errors: TooManyRequests (ResourceExhausted,
   * `etcdserver: too many requests`) while apply lags commit by more than MAX_APPLY_LAG_ENTRIES
   * or MAX_PENDING_PROPOSALS / MAX_PENDING_PROPOSAL_BYTES wait already; RequestTooLarge
   * (InvalidArgument) over `--max-request-bytes`; Timeout (Unavailable, `etcdserver: request
   * timed out`) and its variants (see timeoutError) when not applied within the request timeout;
   * Canceled (Unknown, `etcdserver: request cancelled`) once `signal` aborted (the client went
   * away: a proposal still queued for a leader is then never proposed); Stopped after close();
   * the request's own etcd error.
   */
  async propose(fields: Partial<InternalRaftRequest>, ai?: AuthInfo, signal?: Cancellation): Promise<AppliedResponse> {
    const { response, revision } = await this.proposeEntry(fields, ai, signal);
    // Every client request has an answer (server/node/applier.ts); member attributes and v2 requests have none.
    if (!response) throw new Error("applied entry has no response");
    response.header = this.d.header();
    response.header.revision = BigInt(revision);
    return response;
  }

  /** {@link propose}, resolving with the entry's whole outcome (a v2 request's is in `v2`; member attributes have no response). */
  async proposeEntry(fields: Partial<InternalRaftRequest>, ai?: AuthInfo, signal?: Cancellation): Promise<AppliedOutcome> {
    const { sm, counters } = this.d;
    this.d.assertOpen();
    if (signal?.aborted) throw Errors.Canceled();
    // Publishing this member's attributes is exempt, as etcd's publish (a v2 request) is: a member
    // restarting behind a long unapplied tail must still become ready.
    const limited = !fields.memberAttributes;
    if (limited && this.d.applyLagEntries() > MAX_APPLY_LAG_ENTRIES) throw Errors.TooManyRequests();
    if (limited && sm.waiters.size >= MAX_PENDING_PROPOSALS) throw Errors.TooManyRequests();
    const id = this.d.nextRequestId();
    const req = create(InternalRaftRequestSchema, { ...fields, ID: id });
    // The sender, checked when the entry is applied (etcd's RequestHeader username/auth_revision).
    if (ai) req.header = create(RequestHeaderSchema, { ID: id, username: ai.username, authRevision: BigInt(ai.revision) });
    // A put or a delete (nearly every write) is written by hand, the same bytes as toBinary's.
    const data = encodeRequestEntry(id, fields, req.header) ?? toBinary(InternalRaftRequestSchema, req);
    // etcd checks --max-request-bytes on v3 requests only; a v2 form is capped at 10 MiB by Go's ParseForm.
    if (data.length > this.d.maxRequestBytes && !fields.v2) throw Errors.RequestTooLarge();
    if (limited && sm.waiters.size > 0 && sm.waiters.bytes + data.length > MAX_PENDING_PROPOSAL_BYTES) {
      throw Errors.TooManyRequests();
    }
    const start = this.d.env.now();
    let accepted = false;
    const outcome = sm.waiters.register(
      id,
      this.d.requestTimeoutMs,
      () => {
        counters.proposalsFailed++;
        return this.timeoutError(start, accepted);
      },
      data.length,
    );
    const onAbort = () => {
      counters.proposalsFailed++;
      sm.waiters.cancel(id, Errors.Canceled());
    };
    // No `once`: the listener is removed below whether or not it ran.
    signal?.addEventListener("abort", onAbort);
    // Not changed from here on: the state machine applies this object instead of decoding `data`.
    sm.proposed.set(data, req);
    this.d.raft.propose({
      data,
      wanted: () => !this.d.isClosed() && sm.waiters.has(id),
      accepted: () => (accepted = true),
    });
    let result: ApplyOutcome;
    try {
      result = await outcome;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (result instanceof ConnectError) throw result;
    return result;
  }

  /**
   * The error of a proposal not applied within the request timeout (etcd's parseProposeCtxErr),
   * for a proposal made at `start` (epoch ms) that Raft took (`accepted`) or not: never taken
   * (no leader all along) → Unknown `context deadline exceeded`, as etcd's blocked Propose
   * returns; a leader elected since shortly before the request → TimeoutDueToLeaderFail; the
   * leader's peer stream (or, when leading, a quorum's) down since the request →
   * TimeoutDueToConnectionLost; else Timeout (all Unavailable).
   */
  timeoutError(start: number, accepted: boolean): ConnectError {
    if (!accepted) return Errors.ContextDeadlineExceeded();
    const elected = this.d.leaderElectedAt();
    if (start > elected - 2 * this.d.electionMs && start < elected) return Errors.TimeoutDueToLeaderFail();
    const { activeSince, memberId } = this.d;
    if (!activeSince) return Errors.Timeout();
    const lead = this.d.raft.leader;
    const connectedSince = (id: bigint) => {
      const t = activeSince(id);
      return t !== undefined && t <= start;
    };
    if (lead === memberId) {
      const members = this.d.members();
      const connected = members.filter((m) => m.id === memberId || connectedSince(m.id)).length;
      if (connected < Math.floor(members.length / 2) + 1) return Errors.TimeoutDueToConnectionLost();
    } else if (lead !== 0n && !connectedSince(lead)) {
      return Errors.TimeoutDueToConnectionLost();
    }
    return Errors.Timeout();
  }
}
