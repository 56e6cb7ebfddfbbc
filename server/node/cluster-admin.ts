/**
 * Membership administration of a member: MemberAdd, MemberRemove, MemberUpdate, MemberPromote
 * and MoveLeader as etcd 3.4's EtcdServer runs them (etcdserver/server.go AddMember,
 * RemoveMember, UpdateMember, PromoteMember, configure, MoveLeader).
 *
 * A change is proposed as a Raft ConfChange whose ID names the caller's waiter; the caller gets
 * the membership once the change is applied here (or the error the applied change produced:
 * every member validates it alike, server/membership/apply.ts). Any member may propose (Raft
 * forwards a follower's proposal to the leader) except promotions, which only the leader can
 * judge: a follower forwards them to the leader's peer port (server/membership/promote-http.ts).
 */
import type { PeerClientTls } from "../transport/peer-tls.ts";
import { ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { MemberSchema, type Member } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import { encodeMemberContext } from "../membership/apply.ts";
import { computeMemberId } from "../membership/ids.ts";
import { forwardPromote } from "../membership/promote-http.ts";
import {
  isLearnerReady,
  mayAddMember,
  mayPromoteMember,
  mayRemoveMember,
  type ReconfigView,
} from "../membership/reconfig-check.ts";
import { ConfChangeType, type ConfChange } from "../raft/types.ts";
import type { MemberRecord } from "../storage/members.ts";
import type { ProposalWaiters } from "./proposals.ts";
import type { RaftDriver } from "./raft-driver.ts";
import type { ClusterAdminApi, MembershipResult } from "./types.ts";
import type { MemberEnv } from "./env.ts";

/** Outcome of an applied configuration change: the membership after it, or the refusal. */
export type ConfChangeOutcome = MemberRecord[] | ConnectError;

/** What the administration needs from its member (EtcdNode). */
export interface ClusterAdminContext {
  readonly memberId: bigint;
  readonly raft: RaftDriver;
  /** The applied membership, sorted by ID. */
  members(): MemberRecord[];
  /** Waiters of configuration changes, by ConfChange ID (answered by the member's apply). */
  readonly confWaiters: ProposalWaiters<ConfChangeOutcome>;
  /** A fresh unique request ID. */
  nextRequestId(): bigint;
  /** etcd's request timeout, ms. */
  readonly requestTimeoutMs: number;
  /** `--heartbeat-interval`, ms (MoveLeader polls the leader this often). */
  readonly heartbeatMs: number;
  /** `--election-timeout`, ms (a dropped proposal is re-sent this often). */
  readonly electionMs: number;
  /** `--strict-reconfig-check`. */
  readonly strictReconfigCheck: boolean;
  /** Epoch ms since which the peer stream to `id` is up (undefined: down or no transport). */
  activeSince(id: bigint): number | undefined;
  /** The error a proposal that was not applied in time fails with (`accepted`: Raft took it). */
  timeoutError(start: number, accepted: boolean): ConnectError;
  /** True once the member is closed. */
  isClosed(): boolean;
  /** The member's clock and timers (server/node/env.ts). */
  readonly env: MemberEnv;
  /** TLS for `https://` peer URLs when forwarding to the leader (server/transport/peer-tls.ts). */
  readonly peerTls?: PeerClientTls;
}

/** A member record as the Cluster service returns it. */
export function toMember(m: MemberRecord): Member {
  return create(MemberSchema, { ID: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner });
}

/** The {@link ClusterAdminApi} of one member. */
export class ClusterAdmin implements ClusterAdminApi {
  constructor(private readonly ctx: ClusterAdminContext) {}

  private view(): ReconfigView {
    return { self: this.ctx.memberId, members: this.ctx.members(), activeSince: (id) => this.ctx.activeSince(id), now: this.ctx.env.now() };
  }

  async add(peerURLs: string[], isLearner: boolean): Promise<MembershipResult & { member: Member }> {
    if (this.ctx.strictReconfigCheck) {
      const refused = mayAddMember(this.view(), isLearner);
      if (refused) throw refused;
    }
    // Added members hash their peer URLs with no token and the time in seconds (v3rpc/member.go).
    const record: MemberRecord = {
      id: computeMemberId(peerURLs, "", Math.floor(this.ctx.env.now() / 1000)),
      name: "",
      peerURLs,
      clientURLs: [],
      isLearner,
    };
    const type = isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode;
    const members = await this.configure({ type, nodeId: record.id, context: encodeMemberContext(record) }, true);
    return { member: toMember(record), members: members.map(toMember) };
  }

  async remove(id: bigint): Promise<MembershipResult> {
    if (this.ctx.strictReconfigCheck) {
      const refused = mayRemoveMember(this.view(), id);
      if (refused) throw refused;
    }
    const members = await this.configure({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id, context: new Uint8Array() }, true);
    return { members: members.map(toMember) };
  }

  async update(id: bigint, peerURLs: string[]): Promise<MembershipResult> {
    const record: MemberRecord = { id, name: "", peerURLs, clientURLs: [], isLearner: false };
    const cc = { type: ConfChangeType.ConfChangeUpdateNode, nodeId: id, context: encodeMemberContext(record) };
    // Not re-sent: a late duplicate could undo a newer update of the same member.
    const members = await this.configure(cc, false);
    return { members: members.map(toMember) };
  }

  async promote(id: bigint): Promise<MembershipResult> {
    try {
      return { members: (await this.promoteLocal(id)).map(toMember) };
    } catch (e) {
      if (!(e instanceof ConnectError) || e.rawMessage !== Errors.NotLeader().rawMessage) throw e;
    }
    const leaderUrls = () => {
      const lead = this.ctx.raft.leader;
      return lead === 0n ? [] : (this.ctx.members().find((m) => m.id === lead)?.peerURLs ?? []);
    };
    const members = await forwardPromote(leaderUrls, id, this.ctx.requestTimeoutMs, this.ctx.peerTls);
    return { members: members.map(toMember) };
  }

  /**
   * Promotes learner `id` if this member leads and the learner is in sync (etcd's promoteMember);
   * the leader's side of a forwarded promote. Errors: NotLeader when not leading, LearnerNotReady,
   * MemberNotEnoughStarted, and the applied change's MemberNotFound / MemberNotLearner.
   */
  async promoteLocal(id: bigint): Promise<MemberRecord[]> {
    const st = this.ctx.raft.status();
    const notReady = isLearnerReady(st.progress, st.id, id);
    if (notReady) throw notReady;
    if (this.ctx.strictReconfigCheck) {
      const refused = mayPromoteMember(this.view());
      if (refused) throw refused;
    }
    const record: MemberRecord = { id, name: "", peerURLs: [], clientURLs: [], isLearner: false };
    return this.configure({ type: ConfChangeType.ConfChangeAddNode, nodeId: id, context: encodeMemberContext(record, true) }, true);
  }

  async moveLeader(target: bigint): Promise<void> {
    if (this.ctx.raft.leader !== this.ctx.memberId) throw Errors.NotLeader();
    const transferee = this.ctx.members().find((m) => m.id === target);
    if (!transferee || transferee.isLearner) throw Errors.BadLeaderTransferee();
    this.ctx.raft.transferLeader(target);
    const { env } = this.ctx;
    const deadline = env.monotonicMs() + this.ctx.requestTimeoutMs;
    while (this.ctx.raft.leader !== target) {
      if (this.ctx.isClosed()) throw Errors.Stopped();
      if (env.monotonicMs() >= deadline) throw Errors.TimeoutLeaderTransfer();
      await new Promise<void>((r) => env.setTimeout(r, this.ctx.heartbeatMs));
    }
  }

  /**
   * Proposes `cc` and waits until it is applied here (etcd's configure). `resend`: propose again
   * every election timeout until applied, for changes that stay correct when applied twice (the
   * duplicate is refused by validation): Raft may drop a forwarded proposal silently (leader
   * change, another change pending). Errors: the applied change's refusal; the timeout error.
   */
  private async configure(cc: Omit<ConfChange, "id">, resend: boolean): Promise<MemberRecord[]> {
    if (this.ctx.isClosed()) throw Errors.Stopped();
    const full: ConfChange = { ...cc, id: this.ctx.nextRequestId() };
    const { env } = this.ctx;
    const start = env.now();
    let accepted = false;
    const outcome = this.ctx.confWaiters.register(full.id, this.ctx.requestTimeoutMs, () => this.ctx.timeoutError(start, accepted));
    const propose = () => {
      if (this.ctx.isClosed() || !this.ctx.confWaiters.has(full.id)) return;
      const ok = this.ctx.raft.proposeConfChange(full);
      accepted ||= ok;
      if (!ok) env.setTimeout(propose, 50);
      else if (resend) env.setTimeout(propose, this.ctx.electionMs);
    };
    propose();
    const result = await outcome;
    if (result instanceof ConnectError) throw result;
    return result;
  }
}
