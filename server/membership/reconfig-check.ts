/**
 * The checks a member runs before proposing a membership change, as etcd 3.4 does
 * (etcdserver/server.go mayAddMember, mayRemoveMember, mayPromoteMember, isLearnerReady;
 * membership/cluster.go IsReadyToAddVotingMember, IsReadyToRemoveVotingMember,
 * IsReadyToPromoteMember; etcdserver/util.go isConnectedFullySince, numConnectedSince).
 * With `--strict-reconfig-check` (etcd's default: on) a change that could cost the cluster its
 * quorum is refused. A member counts as started once it has published its name.
 */
import type { ConnectError } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import type { MemberRecord } from "../storage/members.ts";

/** How long peers must have been connected for the cluster to count as healthy, ms (etcd's HealthInterval). */
export const HEALTH_INTERVAL_MS = 5000;

/** A learner may be promoted once its match index is at least this share of the leader's (etcd's readyPercent). */
export const LEARNER_READY_PERCENT = 0.9;

/** What the checks need to know about the cluster, seen from the member that got the request. */
export interface ReconfigView {
  /** This member's ID. */
  self: bigint;
  /** The applied membership. */
  members: MemberRecord[];
  /** Epoch ms since which the stream to peer `id` is up; undefined when it is down. */
  activeSince(id: bigint): number | undefined;
  /** Now, epoch ms. */
  now: number;
}

function isStarted(m: MemberRecord): boolean {
  return m.name !== "";
}

function voters(members: MemberRecord[]): MemberRecord[] {
  return members.filter((m) => !m.isLearner);
}

/** Members among `of` this member is connected to since `since` (itself included). */
function numConnectedSince(view: ReconfigView, since: number, of: MemberRecord[]): number {
  let n = 0;
  for (const m of of) {
    if (m.id === view.self) {
      n++;
      continue;
    }
    const t = view.activeSince(m.id);
    if (t !== undefined && t <= since) n++;
  }
  return n;
}

/**
 * May a member be added? Errors: MemberNotEnoughStarted (FailedPrecondition) when adding a
 * voter would leave fewer started voters than the new quorum; Unhealthy (Unavailable
 * "etcdserver: unhealthy cluster") unless this member has been connected to every voter for
 * {@link HEALTH_INTERVAL_MS}.
 */
export function mayAddMember(view: ReconfigView, isLearner: boolean): ConnectError | undefined {
  const vs = voters(view.members);
  if (!isLearner) {
    const nmembers = vs.length + 1;
    const nstarted = vs.filter(isStarted).length;
    // Adding a second member to a one-member cluster (restoring from a backup) is allowed.
    const restoring = nstarted === 1 && nmembers === 2;
    if (!restoring && nstarted < Math.floor(nmembers / 2) + 1) return Errors.MemberNotEnoughStarted();
  }
  if (numConnectedSince(view, view.now - HEALTH_INTERVAL_MS, vs) !== vs.length) return Errors.Unhealthy();
  return undefined;
}

/**
 * May member `id` be removed? Learners and members whose stream is down always may.
 * Errors: MemberNotEnoughStarted when the remaining started voters would be fewer than their
 * quorum; Unhealthy when the voters this member has been connected to for
 * {@link HEALTH_INTERVAL_MS}, less the removed one, would be fewer than a quorum.
 */
export function mayRemoveMember(view: ReconfigView, id: bigint): ConnectError | undefined {
  const target = view.members.find((m) => m.id === id);
  if (target?.isLearner) return undefined;
  const rest = voters(view.members).filter((m) => m.id !== id);
  if (rest.filter(isStarted).length < Math.floor(rest.length / 2) + 1) return Errors.MemberNotEnoughStarted();
  if (id !== view.self && view.activeSince(id) === undefined) return undefined;
  const vs = voters(view.members);
  const active = numConnectedSince(view, view.now - HEALTH_INTERVAL_MS, vs);
  if (active - 1 < 1 + Math.floor((vs.length - 1) / 2)) return Errors.Unhealthy();
  return undefined;
}

/**
 * May learner `id` be promoted, counting it as a started voter? Errors: MemberNotEnoughStarted
 * when the started voters would be fewer than the new quorum.
 */
export function mayPromoteMember(view: ReconfigView): ConnectError | undefined {
  const vs = voters(view.members);
  const nmembers = vs.length + 1;
  const nstarted = vs.filter(isStarted).length + 1;
  return nstarted < Math.floor(nmembers / 2) + 1 ? Errors.MemberNotEnoughStarted() : undefined;
}

/**
 * Has learner `id` caught up enough to be promoted? Needs the leader's replication progress
 * (`progress`: match index by member, undefined when this member is not the leader).
 * Errors: NotLeader (FailedPrecondition) without progress; LearnerNotReady (FailedPrecondition)
 * when its match index is below {@link LEARNER_READY_PERCENT} of the leader's. Unknown IDs
 * pass (the applied change refuses them).
 */
export function isLearnerReady(progress: Map<bigint, { match: number }> | undefined, leader: bigint, id: bigint): ConnectError | undefined {
  if (!progress) return Errors.NotLeader();
  const learner = progress.get(id);
  if (!learner) return undefined;
  const leaderMatch = progress.get(leader)?.match ?? 0;
  return learner.match < leaderMatch * LEARNER_READY_PERCENT ? Errors.LearnerNotReady() : undefined;
}
