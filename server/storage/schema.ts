/**
 * The SQLite schema of a member's data file (`<data-dir>/member/db`).
 *
 * One file holds what etcd spreads over its WAL, snapshots and bbolt buckets:
 * - `meta`: small named values (cluster/member IDs, applied and consistent index, compact revision...);
 *   see server/storage/meta.ts.
 * - `raft_log` and `hard_state`: the Raft log and the persisted (term, vote, commit) triple;
 *   see server/storage/raft-log.ts and server/storage/hard-state.ts.
 * - `kv`: one row per MVCC revision of a key, like etcd's `key` bucket keyed by (main, sub)
 *   revision (mvcc/kvstore.go, mvcc/revision.go); see server/storage/revisions.ts.
 * - `members`: the cluster membership (etcd's `members` bucket); see server/storage/members.ts.
 * - `removed_members`: IDs of removed members, never reusable (etcd's `members_removed` bucket).
 * - `leases`: granted leases (etcd's `lease` bucket); see server/storage/leases.ts.
 * - `auth_users`, `auth_roles`: users and roles (etcd's `authUsers` and `authRoles` buckets);
 *   see server/storage/auth.ts. The auth store's enabled flag and revision live in `meta`.
 * - `alarms`: raised alarms, one row per (member, alarm type) (etcd's `alarm` bucket); see
 *   server/alarm/store.ts.
 * - `v2_nodes`, `v2_state`, `v2_events`: the v2 keys store (`--enable-v2`, etcd's v2store kept in
 *   its snapshots), one row per directory or file, the store's index, and the watcher hub's last
 *   1000 events; see server/v2store/tables.ts.
 * - `applied_requests`: the request IDs of recently applied entries, so that a proposal delivered
 *   twice is applied once (ours; etcd has none); see server/node/applied-requests.ts.
 */
import type { Database } from "bun:sqlite";

/** Statements that create every table; each is idempotent (IF NOT EXISTS). */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (
     key TEXT PRIMARY KEY,
     value
   )`,
  `CREATE TABLE IF NOT EXISTS raft_log (
     idx INTEGER PRIMARY KEY,
     term INTEGER NOT NULL,
     type INTEGER NOT NULL,
     data BLOB
   )`,
  `CREATE TABLE IF NOT EXISTS hard_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     term INTEGER NOT NULL,
     vote TEXT NOT NULL,
     commit_index INTEGER NOT NULL
   )`,
  // id: write order of the rows; it grows with (main, sub), so scanning by id replays history.
  // A tombstone row (tombstone = 1) has an empty value and zero create_revision/version/lease.
  // `value` comes last: restoring the key index at start reads every row but its value, and
  // SQLite reaches a column stored after a large value only through the value's overflow pages
  // (10 GB of 256 KiB values: 0.7-2.0 s to scan 40,960 rows, 37-77 ms without the value). Files
  // made before kept the order of KV_COLUMNS; statements name their columns, so either works.
  `CREATE TABLE IF NOT EXISTS kv (
     id INTEGER PRIMARY KEY,
     main INTEGER NOT NULL,
     sub INTEGER NOT NULL,
     key BLOB NOT NULL,
     create_revision INTEGER NOT NULL,
     version INTEGER NOT NULL,
     lease INTEGER NOT NULL,
     tombstone INTEGER NOT NULL,
     value BLOB NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS members (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     peer_urls TEXT NOT NULL,
     client_urls TEXT NOT NULL,
     is_learner INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS removed_members (
     id TEXT PRIMARY KEY
   )`,
  // id: int64 lease ID; ttl and remaining_ttl in seconds (remaining_ttl 0 = no checkpoint).
  `CREATE TABLE IF NOT EXISTS leases (
     id INTEGER PRIMARY KEY,
     ttl INTEGER NOT NULL,
     remaining_ttl INTEGER NOT NULL
   )`,
  // name: the user/role name (UTF-8 bytes); data: its authpb.User / authpb.Role message.
  `CREATE TABLE IF NOT EXISTS auth_users (
     name BLOB PRIMARY KEY,
     data BLOB NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS auth_roles (
     name BLOB PRIMARY KEY,
     data BLOB NOT NULL
   )`,
  // member_id: uint64 as decimal text; alarm: etcdserverpb.AlarmType number.
  `CREATE TABLE IF NOT EXISTS alarms (
     member_id TEXT NOT NULL,
     alarm INTEGER NOT NULL,
     PRIMARY KEY (member_id, alarm)
   )`,
  // path: the clean key (`/a/b`; the root is not stored); dir: 1 for a directory (value '');
  // expire_ms: epoch ms of its TTL expiry, 0 when permanent.
  `CREATE TABLE IF NOT EXISTS v2_nodes (
     path TEXT PRIMARY KEY,
     dir INTEGER NOT NULL,
     value TEXT NOT NULL,
     created_index INTEGER NOT NULL,
     modified_index INTEGER NOT NULL,
     expire_ms INTEGER NOT NULL
   )`,
  // key 'cluster_version'; key 'index': the store's index (etcd's CurrentIndex) as older builds
  // wrote it on every change (now the newest v2_events row's idx is the index; v2store/tables.ts).
  `CREATE TABLE IF NOT EXISTS v2_state (
     key TEXT PRIMARY KEY,
     value INTEGER NOT NULL
   )`,
  // The v2 watcher hub's event history (etcd's EventHistory, 1000 events): slot is idx % 1000, so
  // writing an event replaces the one 1000 indexes older; event: the event as JSON (tables.ts).
  `CREATE TABLE IF NOT EXISTS v2_events (
     slot INTEGER PRIMARY KEY,
     idx INTEGER NOT NULL,
     event TEXT NOT NULL
   )`,
  // idx: the Raft index of the entry; id: its request ID (InternalRaftRequest.ID or ConfChange ID) as int64.
  `CREATE TABLE IF NOT EXISTS applied_requests (
     idx INTEGER PRIMARY KEY,
     id INTEGER NOT NULL
   )`,
  // IDs are looked up in memory (server/node/applied-requests.ts): the index on id that older
  // versions made only cost every insert another B-tree.
  `DROP INDEX IF EXISTS applied_requests_id`,
];

/**
 * The columns of `kv` in their first order (value before create_revision), which data files
 * made before `value` moved last still have: the order hashes read them in (server/mvcc/hash.ts),
 * so members with either layout agree.
 */
export const KV_COLUMNS = ["id", "main", "sub", "key", "value", "create_revision", "version", "lease", "tombstone"] as const;

/**
 * Creates the tables if they are missing (safe to call on every open).
 * Runs outside any transaction handling of its own: call it inside one.
 */
export function createSchema(db: Database): void {
  for (const sql of SCHEMA) db.run(sql);
}
