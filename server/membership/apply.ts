/**
 * Applying membership changes to the `members` table: Raft configuration changes (their
 * context carries the member record as JSON, like etcd's ConfigChangeContext) and published
 * member attributes (name, client URLs). A committed change is validated first against the
 * membership as applied so far, exactly as every member applies it, so all members accept or
 * refuse it alike. Source: etcd `etcdserver/server.go` applyConfChange,
 * `etcdserver/api/membership/cluster.go` ValidateConfigurationChange, AddMember, RemoveMember,
 * PromoteMember, UpdateRaftAttributes, UpdateAttributes.
 */
import type { ConnectError } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import { ConfChangeType, type ConfChange } from "../raft/types.ts";
import type { MemberRecord, MembersTable } from "../storage/members.ts";

/** etcd allows at most one learner (membership/cluster.go maxLearners). */
export const MAX_LEARNERS = 1;

/** JSON shape of a member record inside a ConfChange context (IDs as decimal strings). */
interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
  /** Set on the AddNode change that promotes a learner (etcd's ConfigChangeContext.IsPromote). */
  isPromote?: boolean;
}

/** A decoded ConfChange context: the member record and whether the change promotes it. */
export type MemberContext = MemberRecord & { isPromote: boolean };

/** Encodes a member record as a ConfChange context (UTF-8 JSON); `isPromote` marks a promotion. */
export function encodeMemberContext(m: MemberRecord, isPromote = false): Uint8Array {
  const json: MemberJson = { ...m, id: m.id.toString() };
  if (isPromote) json.isPromote = true;
  return new TextEncoder().encode(JSON.stringify(json));
}

/** Decodes a ConfChange context; undefined when it holds no member record. */
export function decodeMemberContext(context: Uint8Array): MemberContext | undefined {
  if (context.length === 0) return undefined;
  try {
    const j = JSON.parse(new TextDecoder().decode(context)) as MemberJson;
    return {
      id: BigInt(j.id),
      name: j.name ?? "",
      peerURLs: j.peerURLs ?? [],
      clientURLs: j.clientURLs ?? [],
      isLearner: !!j.isLearner,
      isPromote: !!j.isPromote,
    };
  } catch {
    return undefined;
  }
}

/** The peer URLs in use by members other than `except`. */
function peerUrlsInUse(members: MembersTable, except?: bigint): Set<string> {
  const urls = new Set<string>();
  for (const m of members.all()) if (m.id !== except) for (const u of m.peerURLs) urls.add(u);
  return urls;
}

/**
 * Checks a committed change against the applied membership (etcd's ValidateConfigurationChange).
 * Returns the client's error, or undefined when the change may be applied:
 * MemberNotFound (NotFound) for a removed ID or an unknown member to promote, remove or update;
 * MemberExist for adding a known ID; PeerURLExist when another member has one of the peer URLs;
 * TooManyLearners past {@link MAX_LEARNERS}; MemberNotLearner for promoting a voter
 * (all FailedPrecondition).
 */
export function validateConfChange(members: MembersTable, cc: ConfChange): ConnectError | undefined {
  if (members.isRemoved(cc.nodeId)) return Errors.MemberNotFound();
  const existing = members.get(cc.nodeId);
  const ctx = decodeMemberContext(cc.context);
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
    case ConfChangeType.ConfChangeAddLearnerNode: {
      if (ctx?.isPromote) {
        if (!existing) return Errors.MemberNotFound();
        if (!existing.isLearner) return Errors.MemberNotLearner();
        return undefined;
      }
      if (existing) return Errors.MemberExist();
      const inUse = peerUrlsInUse(members);
      if ((ctx?.peerURLs ?? []).some((u) => inUse.has(u))) return Errors.PeerURLExist();
      if (cc.type === ConfChangeType.ConfChangeAddLearnerNode || ctx?.isLearner) {
        if (members.all().filter((m) => m.isLearner).length + 1 > MAX_LEARNERS) return Errors.TooManyLearners();
      }
      return undefined;
    }
    case ConfChangeType.ConfChangeRemoveNode:
      return existing ? undefined : Errors.MemberNotFound();
    case ConfChangeType.ConfChangeUpdateNode: {
      if (!existing) return Errors.MemberNotFound();
      const inUse = peerUrlsInUse(members, cc.nodeId);
      if ((ctx?.peerURLs ?? []).some((u) => inUse.has(u))) return Errors.PeerURLExist();
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Applies a validated committed change to `members`: AddNode with `isPromote` (or of an
 * existing learner) promotes it; AddNode/AddLearnerNode add the member of the context;
 * RemoveNode deletes it and records its ID as removed; UpdateNode replaces the peer URLs.
 * Returns the member record after the change (undefined when removed).
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
      members.removeForever(cc.nodeId);
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
