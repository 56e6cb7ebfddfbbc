/**
 * `etcd --force-new-cluster` (etcd 3.4 `etcdserver/raft.go` restartAsStandaloneNode): a member
 * restarts on its data as the only member of its cluster. Keeps the member and cluster IDs, the
 * applied state (v3 keyspace, v2 store, leases, auth) and the Raft position; discards the log and
 * the old membership.
 *
 * In our data dir this means, in one transaction before the node starts:
 * - the Raft log is emptied and its position set to the applied index `A` (snapshot and compact
 *   point at `A`, conf state = this member alone); the hard state keeps its term, commit = `A`;
 *   committed entries not yet applied are dropped (etcd keeps and applies them: a difference only
 *   for a member stopped between commit and apply);
 * - the `members` table holds this member alone, with the peer URLs of
 *   `--initial-advertise-peer-urls` and the client URLs of `--advertise-client-urls`.
 * The node then starts as a lone voter at index `A` and elects itself. A data dir without a
 * member ID (never started) is left alone: the member bootstraps a new cluster as usual.
 * Also what a backup (server/recovery/backup.ts) needs to start.
 */
import type { Database } from "bun:sqlite";
import { MembersTable } from "../storage/members.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import { RaftMetaKeys } from "../storage/raft-meta-keys.ts";
import { RAFT_META_KEYS } from "./backup.ts";

/** What --force-new-cluster needs of the configuration. */
export interface ForceNewClusterConfig {
  name: string;
  initialAdvertisePeerUrls: string[];
  advertiseClientUrls: string[];
}

/**
 * Rewrites the cluster state of `db` for a one-member restart (see module doc).
 * @returns what was done (for etcd's "forcing restart of member" log line), or undefined for a new data dir
 */
export function forceNewCluster(db: Database, cfg: ForceNewClusterConfig): { memberId: bigint; clusterId: bigint; commitIndex: number; term: number } | undefined {
  const meta = new Meta(db);
  const memberId = meta.getBigint(MetaKeys.memberId);
  const clusterId = meta.getBigint(MetaKeys.clusterId);
  if (memberId === undefined || clusterId === undefined) return undefined;
  return db.transaction(() => {
    const applied = meta.getNumber(MetaKeys.appliedIndex, 0);
    const hs = db.query<{ term: number }, []>("SELECT term FROM hard_state WHERE id = 1").get();
    const entryTerm = db.query<{ term: number }, [number]>("SELECT term FROM raft_log WHERE idx = ?").get(applied)?.term;
    const snapIndex = meta.getNumber(RaftMetaKeys.snapIndex, -1);
    const snapTerm = snapIndex === applied ? meta.getNumber(RaftMetaKeys.snapTerm, 0) : 0;
    const term = Math.max(hs?.term ?? 0, meta.getNumber(MetaKeys.term, 0), entryTerm ?? 0, snapTerm);
    db.run("DELETE FROM raft_log");
    for (const k of RAFT_META_KEYS) db.run("DELETE FROM meta WHERE key = ?", [k]);
    const position = entryTerm ?? (snapTerm || term);
    meta.setNumber(RaftMetaKeys.snapIndex, applied);
    meta.setNumber(RaftMetaKeys.snapTerm, position);
    meta.setNumber(RaftMetaKeys.compactIndex, applied);
    meta.setNumber(RaftMetaKeys.compactTerm, position);
    // raft-storage.ts's encoding of a ConfState: IDs as decimal strings.
    meta.setString(RaftMetaKeys.confState, JSON.stringify({ voters: [memberId.toString()], learners: [] }));
    db.run("INSERT OR REPLACE INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, '0', ?)", [term, applied]);
    db.run("DELETE FROM members");
    new MembersTable(db).put({ id: memberId, name: cfg.name, peerURLs: cfg.initialAdvertisePeerUrls, clientURLs: cfg.advertiseClientUrls, isLearner: false });
    return { memberId, clusterId, commitIndex: applied, term };
  })();
}
