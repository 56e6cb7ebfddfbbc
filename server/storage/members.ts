/**
 * The persisted cluster membership, table `members` (etcd's `members` bucket and
 * `/0/members/<id>` v2 store entries, etcdserver/api/membership/store.go), and the IDs of
 * removed members, table `removed_members` (etcd's `members_removed` bucket): a removed ID is
 * never accepted again (peers refuse it, a conf change naming it fails).
 *
 * `id` is stored as etcd prints member IDs (types.ID.String(): lowercase hex, no padding);
 * URL lists are JSON arrays.
 */
import type { Database, Statement } from "bun:sqlite";

/** One member. `id` is the uint64 member ID; URLs are absolute (e.g. `http://127.0.0.1:2380`). */
export type MemberRecord = {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
};

type MemberRow = { id: string; name: string; peer_urls: string; client_urls: string; is_learner: number };

/** Member ID as etcd prints it: lowercase hex without leading zeros (types.ID.String()). */
export function memberIdToHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

function toRecord(row: MemberRow): MemberRecord {
  return {
    id: BigInt(`0x${row.id}`),
    name: row.name,
    peerURLs: JSON.parse(row.peer_urls) as string[],
    clientURLs: JSON.parse(row.client_urls) as string[],
    isLearner: row.is_learner !== 0,
  };
}

/** Reads and writes rows of `members` with cached statements. */
export class MembersTable {
  private readonly allStmt: Statement<MemberRow, []>;
  private readonly getStmt: Statement<MemberRow, [string]>;
  private readonly putStmt: Statement<unknown, [string, string, string, string, number]>;
  private readonly delStmt: Statement<unknown, [string]>;
  private readonly markRemovedStmt: Statement<unknown, [string]>;
  private readonly isRemovedStmt: Statement<{ id: string }, [string]>;

  /** `db` must have the schema (server/storage/schema.ts). */
  constructor(db: Database) {
    this.allStmt = db.query("SELECT id, name, peer_urls, client_urls, is_learner FROM members");
    this.getStmt = db.query("SELECT id, name, peer_urls, client_urls, is_learner FROM members WHERE id = ?");
    this.putStmt = db.query(
      "INSERT OR REPLACE INTO members (id, name, peer_urls, client_urls, is_learner) VALUES (?, ?, ?, ?, ?)",
    );
    this.delStmt = db.query("DELETE FROM members WHERE id = ?");
    this.markRemovedStmt = db.query("INSERT OR IGNORE INTO removed_members (id) VALUES (?)");
    this.isRemovedStmt = db.query("SELECT id FROM removed_members WHERE id = ?");
  }

  /** Every member, ordered by ID (ascending uint64). */
  all(): MemberRecord[] {
    return this.allStmt
      .all()
      .map(toRecord)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The member with this ID, or undefined. */
  get(id: bigint): MemberRecord | undefined {
    const row = this.getStmt.get(memberIdToHex(id));
    return row ? toRecord(row) : undefined;
  }

  /** Inserts or replaces a member (add, update URLs, promote). */
  put(m: MemberRecord): void {
    this.putStmt.run(
      memberIdToHex(m.id),
      m.name,
      JSON.stringify(m.peerURLs),
      JSON.stringify(m.clientURLs),
      m.isLearner ? 1 : 0,
    );
  }

  /** Removes a member; returns whether it existed. */
  remove(id: bigint): boolean {
    return this.delStmt.run(memberIdToHex(id)).changes > 0;
  }

  /** Removes a member and records its ID as removed (a RemoveNode conf change). */
  removeForever(id: bigint): void {
    this.remove(id);
    this.markRemovedStmt.run(memberIdToHex(id));
  }

  /** Whether `id` belongs to a removed member (etcd's IsIDRemoved). */
  isRemoved(id: bigint): boolean {
    return this.isRemovedStmt.get(memberIdToHex(id)) !== null;
  }
}
