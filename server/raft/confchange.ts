/**
 * Single-member configuration changes (Raft thesis 4.1, 4.3) applied to a ProgressTracker, and restoring a
 * tracker from a ConfState. Changes take effect when the entry is applied (etcd's rule); applying is
 * deterministic so every member reaches the same membership. Invalid changes are ignored (no-op), never
 * half-applied:
 * - AddNode on a voter: no-op; on a learner: promotes it; otherwise adds a voter.
 * - AddLearnerNode on a learner: no-op; on a voter: refused (demotion is not a single-member change here).
 * - RemoveNode: removes the member; removing the last voter is refused.
 * - UpdateNode: no membership effect.
 *
 * Mirrors go.etcd.io/etcd/raft/confchange (Changer.Simple, Restore) in behaviour, without joint consensus.
 */
import type { ProgressTracker } from "./tracker.ts";
import { type ConfChange, ConfChangeType, type ConfState } from "./types.ts";

/**
 * Applies one change to the tracker. lastIndex initialises the Progress of new members.
 * Returns a reason string when the change was refused (and nothing changed), undefined when applied.
 */
export function applySimpleChange(tr: ProgressTracker, cc: ConfChange, lastIndex: number): string | undefined {
  const id = cc.nodeId;
  if (id === 0n) return "node ID 0 is reserved";
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
      if (!tr.isVoter(id)) tr.setMember(id, false, lastIndex);
      return undefined;
    case ConfChangeType.ConfChangeAddLearnerNode:
      if (tr.isVoter(id)) return `cannot demote voter ${id} to learner`;
      if (!tr.isLearner(id)) tr.setMember(id, true, lastIndex);
      return undefined;
    case ConfChangeType.ConfChangeRemoveNode:
      if (tr.isVoter(id) && tr.voters.length === 1) return "removing the last voter";
      tr.removeMember(id);
      return undefined;
    case ConfChangeType.ConfChangeUpdateNode:
      return undefined;
    default:
      return `unknown conf change type ${cc.type}`;
  }
}

/** Rebuilds the membership of an empty tracker from a ConfState (start-up or snapshot restore). */
export function restoreConfState(tr: ProgressTracker, cs: ConfState, lastIndex: number): void {
  for (const id of cs.voters) tr.setMember(id, false, lastIndex);
  for (const id of cs.learners) {
    if (cs.voters.includes(id)) throw new Error(`node ${id} is both voter and learner in ${JSON.stringify(cs, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
    tr.setMember(id, true, lastIndex);
  }
}
