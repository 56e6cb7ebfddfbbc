/**
 * ProgressTracker: the current membership (voters, learners), the leader's Progress for each member and
 * the votes of the running election. Iteration is in ascending node ID order so behaviour is deterministic.
 *
 * Mirrors go.etcd.io/etcd/raft/tracker/tracker.go in behaviour (single configuration, no joint consensus).
 */
import { Progress } from "./progress.ts";
import { VoteResult, committedIndex, voteResult } from "./quorum.ts";
import type { ConfState, NodeId } from "./types.ts";

function sortIds(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export class ProgressTracker {
  /** Voting members, ascending. */
  voters: NodeId[] = [];
  /** Non-voting members, ascending. */
  learners: NodeId[] = [];
  /** Progress of every member (voters and learners). */
  readonly progress = new Map<NodeId, Progress>();
  /** Votes received in the current (pre-)election: true = granted. */
  readonly votes = new Map<NodeId, boolean>();
  /** Window of in-flight MsgApps per follower. */
  readonly maxInflight: number;
  private ids: NodeId[] = [];

  constructor(maxInflight: number) {
    this.maxInflight = maxInflight;
  }

  /** The membership as a ConfState (copies). */
  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.learners.includes(id);
  }

  /** Only one voter (ourselves, normally): every decision is local. */
  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  /**
   * Adds `id` as voter or learner (or switches its role), creating a Progress with next = lastIndex
   * (probed first) and recentActive = true when it is new.
   */
  setMember(id: NodeId, learner: boolean, lastIndex: number): void {
    let pr = this.progress.get(id);
    if (!pr) {
      pr = new Progress(Math.max(lastIndex, 1), this.maxInflight, learner);
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    pr.isLearner = learner;
    const voters = new Set(this.voters);
    const learners = new Set(this.learners);
    if (learner) {
      voters.delete(id);
      learners.add(id);
    } else {
      learners.delete(id);
      voters.add(id);
    }
    this.voters = sortIds(voters);
    this.learners = sortIds(learners);
    this.ids = sortIds([...this.voters, ...this.learners]);
  }

  /** Removes a member and its Progress (no-op when absent). */
  removeMember(id: NodeId): void {
    this.progress.delete(id);
    this.voters = this.voters.filter((v) => v !== id);
    this.learners = this.learners.filter((v) => v !== id);
    this.ids = this.ids.filter((v) => v !== id);
    this.votes.delete(id);
  }

  /** Calls fn for every member in ascending ID order. */
  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.ids) fn(id, this.progress.get(id)!);
  }

  /** Highest index replicated on a majority of voters (by Progress.match). */
  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** True when a majority of voters were recently active (CheckQuorum, thesis 6.2). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const id of this.voters) active.set(id, this.progress.get(id)?.recentActive ?? false);
    return voteResult(this.voters, active) === VoteResult.Won;
  }

  /** Voters whose acknowledgements are in `acks` form a majority. */
  quorumReached(acks: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voters) if (acks.has(id)) n++;
    return n >= Math.floor(this.voters.length / 2) + 1;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote from id (the first answer of each node counts). */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the recorded votes: granted, rejected, and the election outcome. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }
}
