/**
 * `etcdctl backup` for OUR data dir (`<data-dir>/member/db`, server/storage/schema.ts), following
 * etcd 3.4's v2 disaster-recovery backup (`etcdctl/ctlv2/command/backup_command.go`): a copy of a
 * (stopped) member's data that keeps the keys but none of the cluster's identity, to be started
 * with `etcd --force-new-cluster` (server/recovery/force-new-cluster.ts).
 *
 * What is carried: every table (the v2 store's `v2_*` tables included, whatever they are) except
 * the Raft log, the hard state and the membership ({@link CLUSTER_TABLES}), which are emptied;
 * `meta` loses the Raft position of the log's snapshot ({@link RAFT_META_KEYS}, kept only as
 * the applied index and the term (from the hard state) a restart continues from). New random member and cluster IDs are
 * written, as etcd's backup writes new ones into the WAL metadata. Without `--with-v3` the v3
 * keyspace ({@link V3_TABLES}) is emptied too, as etcd's backup then carries only the v2 store.
 *
 * The copy is SQLite's `VACUUM INTO` (one consistent read), built under a temporary name and
 * renamed into `<backup-dir>/member/db`; a failed backup leaves nothing behind. Runs under Bun
 * and Deno (`node:sqlite`), so the compiled etcdctl needs no server at run time.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MetaKeys } from "../storage/meta.ts";
import { RaftMetaKeys } from "../storage/raft-meta-keys.ts";

/** Tables that describe the cluster rather than the data: dropped by a backup, rebuilt by --force-new-cluster. */
export const CLUSTER_TABLES = ["raft_log", "hard_state", "members", "removed_members"] as const;

/** `meta` keys of the Raft log's position, rewritten by --force-new-cluster. */
export const RAFT_META_KEYS = Object.values(RaftMetaKeys);

/** The v3 keyspace and its companions (etcd's bbolt `key`, `lease`, `auth*`, `alarm` buckets). */
export const V3_TABLES = ["kv", "leases", "auth_users", "auth_roles", "alarms"] as const;

/** v3 `meta` keys dropped with the v3 tables. */
const V3_META_KEYS = [MetaKeys.compactRevision, MetaKeys.compactFinishedRevision, MetaKeys.authEnabled, MetaKeys.authRevision];

/** Options of `etcdctl backup`. */
export interface BackupOptions {
  /** `--data-dir` of the stopped member. */
  dataDir: string;
  /** `--backup-dir`: where `member/db` is written (created; must not hold a backend yet). */
  backupDir: string;
  /** `--with-v3`: keep the v3 keyspace. */
  withV3: boolean;
}

/** A random non-zero uint64 (etcd's idutil generator seeds from the clock; any unique value serves). */
function randomId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE();
    if (id !== 0n) return id;
  }
}

/**
 * Writes the backup.
 * @throws Error `open <data-dir>/member/db: no such file or directory` when there is no backend;
 *   `<backup-dir>/member/db exists` when the target already has one; `database is locked`
 *   (SQLite) while a member still runs on the data dir
 */
export function backupDataDir(opts: BackupOptions): { memberId: bigint; clusterId: bigint } {
  const src = join(opts.dataDir, "member", "db");
  if (!existsSync(src)) throw new Error(`open ${src}: no such file or directory`);
  const destDir = join(opts.backupDir, "member");
  const dest = join(destDir, "db");
  if (existsSync(dest)) throw new Error(`${dest} exists`);
  mkdirSync(destDir, { recursive: true, mode: 0o700 });
  const tmp = join(destDir, `.db.backup-${randomBytes(6).toString("hex")}`);
  try {
    const source = new DatabaseSync(src);
    try {
      source.prepare("VACUUM INTO ?").run(tmp);
    } finally {
      source.close();
    }
    const db = new DatabaseSync(tmp);
    const ids = { memberId: randomId(), clusterId: randomId() };
    try {
      db.exec("BEGIN");
      // The Raft term goes with the hard state; keep it so the restarted member does not go back in terms.
      const hs = db.prepare("SELECT term FROM hard_state WHERE id = 1").get() as { term: number } | undefined;
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      const emptied = [...CLUSTER_TABLES, ...(opts.withV3 ? [] : V3_TABLES)];
      for (const t of emptied) if (tables.has(t)) db.exec(`DELETE FROM ${t}`);
      const delMeta = db.prepare("DELETE FROM meta WHERE key = ?");
      for (const k of [...RAFT_META_KEYS, ...(opts.withV3 ? [] : V3_META_KEYS)]) delMeta.run(k);
      const putMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
      putMeta.run(MetaKeys.memberId, ids.memberId.toString());
      putMeta.run(MetaKeys.clusterId, ids.clusterId.toString());
      if (hs) putMeta.run(MetaKeys.term, hs.term);
      db.exec("COMMIT");
    } finally {
      db.close();
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, dest);
    return ids;
  } finally {
    rmSync(tmp, { force: true });
  }
}
