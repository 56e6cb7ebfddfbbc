/**
 * Majority quorum arithmetic over a set of voters (Raft paper 5.2 elections, 5.3/5.4 commitment).
 * Single configuration only (no joint consensus).
 *
 * Mirrors go.etcd.io/etcd/raft/quorum/majority.go in behaviour.
 */
import type { NodeId } from "./types.ts";

/** Outcome of counting votes. */
export enum VoteResult {
  /** Not decided yet: missing votes could go either way. */
  Pending = 1,
  Lost = 2,
  Won = 3,
}

/**
 * The highest index acknowledged by a majority of `voters`, given each voter's acked index
 * (missing = 0). An empty voter set commits everything (Infinity), as in etcd.
 */
export function committedIndex(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return Infinity;
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = acked(voters[i]!);
  xs.sort((a, b) => b - a);
  // The (n/2+1)-th largest value is held by a majority.
  return xs[Math.floor(n / 2)]!;
}

/** Tallies `votes` (true = granted) of `voters`. An empty voter set wins (as in etcd). */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(voters.length / 2) + 1;
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}
