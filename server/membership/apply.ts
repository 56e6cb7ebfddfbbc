/**
 * Applying membership changes to the `members` table: Raft configuration changes (their
 * context carries the member record as JSON, like etcd's ConfChange context) and published
 * member attributes (name, client URLs). Source: etcd `etcdserver/server.go`
 * applyConfChange, `etcdserver/api/membership/cluster.go` AddMember/RemoveMember/UpdateAttributes.
 */
import { ConfChangeType, type ConfChange } from "../raft/types.ts";
import type { MemberRecord, MembersTable } from "../storage/members.ts";

/** JSON shape of a member record inside a ConfChange context (IDs as decimal strings). */
interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** Encodes a member record as a ConfChange context (UTF-8 JSON). */
export function encodeMemberContext(m: MemberRecord): Uint8Array {
  const json: MemberJson = { ...m, id: m.id.toString() };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** Decodes a ConfChange context; undefined when it holds no member record. */
export function decodeMemberContext(context: Uint8Array): MemberRecord | undefined {
  if (context.length === 0) return undefined;
  try {
    const j = JSON.parse(new TextDecoder().decode(context)) as MemberJson;
    return { id: BigInt(j.id), name: j.name ?? "", peerURLs: j.peerURLs ?? [], clientURLs: j.clientURLs ?? [], isLearner: !!j.isLearner };
  } catch {
    return undefined;
  }
}

/**
 * Applies a committed configuration change to `members`. AddNode of an existing learner
 * promotes it; AddLearnerNode adds a learner; RemoveNode deletes; UpdateNode replaces the
 * peer URLs. Returns the member record after the change (undefined when removed).
 */
export function applyMemberConfChange(members: MembersTable, cc: ConfChange): MemberRecord | undefined {
  const ctx = decodeMemberContext(cc.context);
  const existing = members.get(cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
    case ConfChangeType.ConfChangeAddLearnerNode: {
      const learner = cc.type === ConfChangeType.ConfChangeAddLearnerNode;
      const record: MemberRecord = existing
        ? { ...existing, isLearner: learner && existing.isLearner }
        : { id: cc.nodeId, name: ctx?.name ?? "", peerURLs: ctx?.peerURLs ?? [], clientURLs: ctx?.clientURLs ?? [], isLearner: learner };
      members.put(record);
      return record;
    }
    case ConfChangeType.ConfChangeRemoveNode:
      members.remove(cc.nodeId);
      return undefined;
    case ConfChangeType.ConfChangeUpdateNode: {
      if (!existing) return undefined;
      const record = { ...existing, peerURLs: ctx?.peerURLs ?? existing.peerURLs };
      members.put(record);
      return record;
    }
    default:
      return existing;
  }
}

/** Records a member's published name and client URLs (ignored for unknown or removed members). */
export function applyMemberAttributes(members: MembersTable, id: bigint, name: string, clientURLs: string[]): void {
  const existing = members.get(id);
  if (existing) members.put({ ...existing, name, clientURLs });
}
