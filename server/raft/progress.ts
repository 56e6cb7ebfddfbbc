/**
 * Progress: the leader's view of one follower's log (Raft paper 5.3 nextIndex/matchIndex) plus the
 * replication state machine used for flow control:
 * - Probe: one MsgApp per heartbeat interval until the follower's position is found;
 * - Replicate: pipelined MsgApps, bounded by the Inflights window (next is advanced optimistically);
 * - Snapshot: a snapshot is being sent; nothing else is sent until it is reported finished or failed.
 *
 * Mirrors go.etcd.io/etcd/raft/tracker/progress.go in behaviour.
 */
import { Inflights } from "./inflights.ts";

/** Replication state of a follower. */
export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot being sent (state Snapshot). */
  pendingSnapshot = 0;
  /** Heard from the follower since the last CheckQuorum (leader lease, thesis 6.2). */
  recentActive = false;
  /** Probe state: a MsgApp was sent and no answer came yet, so sending is paused. */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Acknowledged up to n: raises match/next; returns true when match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /** Replicate state: entries up to n were sent. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * A MsgApp at index `rejected` was refused; `matchHint` is the highest index that may still match
   * (from the follower's conflict hint). Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale rejection of an index already matched.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the answer to the latest probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  /** True when nothing should be sent right now (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  toString(): string {
    const s = ["probe", "replicate", "snapshot"][this.state];
    return `${s} match=${this.match} next=${this.next}${this.isLearner ? " learner" : ""}${
      this.pendingSnapshot ? ` pendingSnap=${this.pendingSnapshot}` : ""
    }`;
  }
}
