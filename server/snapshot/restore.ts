/**
 * `etcdctl snapshot restore`: a new data directory in OUR format (`<data-dir>/member/db`, the
 * SQLite backend of server/storage/schema.ts) from an etcd snapshot file, whether saved from
 * the real etcd 3.4 or from us. Follows etcdctl 3.4 (clientv3/snapshot/v3_snapshot.go
 * Restore): the same checks and error texts in the same order, the members of the new cluster
 * from `--initial-cluster` and `--initial-cluster-token` (IDs computed as etcd does), the
 * snapshot's own membership dropped; keys with their revisions, leases, users, roles, the
 * auth state and raised alarms kept. The restored member starts with an empty Raft log and bootstraps it from
 * the stored members, as a new cluster does (server/node/bootstrap.ts).
 *
 * Unlike etcdctl, a failed restore writes nothing: the directory is built under a temporary
 * name beside `--data-dir` and renamed into place at the end.
 *
 * Runs under Bun and Deno: it uses `node:sqlite` (not bun:sqlite), so our etcdctl restores
 * under either runtime and the compiled binary needs no server code at run time.
 * Extensions from etcd 3.5.10+: `bumpRevision` and `markCompacted`.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { goPathError } from "../../cli/go/errno.ts";
import { AlarmMemberSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { KeyValueSchema } from "../../proto/gen/mvccpb/kv_pb.ts";
import { LeaseSchema } from "../../proto/gen/leasepb/lease_pb.ts";
import { parseInitialCluster, parseUrls } from "../config.ts";
import { bootstrapCluster } from "../membership/ids.ts";
import { createSchema } from "../storage/schema.ts";
import { MetaKeys } from "../storage/meta.ts";
import { BboltReader } from "./bbolt/reader.ts";
import {
  AUTH_ENABLED,
  AUTH_REVISION,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
  memberKey,
  parseRevisionKey,
  readU64be,
} from "./etcd-schema.ts";

/** Options, as etcdctl's flags give them (see `etcdctl snapshot restore --help`). */
export interface RestoreOptions {
  /** The snapshot file. */
  snapshotPath: string;
  /** `--name` (default `default`). */
  name: string;
  /** `--data-dir`; empty: `<name>.etcd`. */
  dataDir: string;
  /** `--initial-cluster`, `name=url,...`. */
  initialCluster: string;
  /** `--initial-cluster-token`. */
  initialClusterToken: string;
  /** `--initial-advertise-peer-urls`, comma-separated. */
  initialAdvertisePeerUrls: string;
  /** `--skip-hash-check`: accept a file without (or with a wrong) SHA-256, e.g. a copied `member/snap/db`. */
  skipHashCheck: boolean;
  /** etcd 3.5.10+ `--bump-revision`: raise the latest revision by this much (requires markCompacted). */
  bumpRevision?: number;
  /** etcd 3.5.10+ `--mark-compacted`: compact at the (bumped) latest revision. */
  markCompacted?: boolean;
}

/** etcd's log lines during a restore (zap's caller, message and fields). */
export type RestoreLog = (caller: string, msg: string, fields: Record<string, unknown>) => void;

/** What was restored. IDs are uint64. */
/** What was restored: the data dir, the new IDs (uint64), the store's revision and the number of revision rows copied. */
export type RestoreResult = { dataDir: string; memberId: bigint; clusterId: bigint; revision: number; keys: number };

/** bbolt's size of the SHA-256 etcd appends to a snapshot. */
const SHA256_SIZE = 32;

/** etcd's hasChecksum: a snapshot with its hash is 32 bytes past a multiple of 512. */
export function hasChecksum(size: number): boolean {
  return size % 512 === SHA256_SIZE;
}

/** Go's %v of a []byte: `[1 2 3]`. */
function goBytes(b: Uint8Array): string {
  return `[${[...b].join(" ")}]`;
}

/** etcd's ServerConfig.VerifyBootstrap for restore (etcdserver/config.go). */
function verifyBootstrap(name: string, peerUrls: string[], cluster: Map<string, string[]>): void {
  const own = cluster.get(name);
  if (!own) throw new Error(`couldn't find local name "${name}" in the initial cluster configuration`);
  const a = [...peerUrls].sort();
  const b = [...own].sort();
  if (a.join(",") !== b.join(",")) {
    const why =
      a.length !== b.length
        ? `len(${JSON.stringify(a)}) != len(${JSON.stringify(b)})`
        : (() => {
            const i = a.findIndex((u, j) => u !== b[j]);
            return `resolved urls: "${a[i]}" != "${b[i]}"`;
          })();
    throw new Error(
      `--initial-cluster has ${own.map((u) => `${name}=${u}`).join(",")} but missing from --initial-advertise-peer-urls=${a.join(",")} (${why})`,
    );
  }
  const seen = new Set<string>();
  for (const urls of cluster.values()) {
    for (const u of urls) {
      if (seen.has(u)) throw new Error(`initial cluster ${[...cluster].map(([n, us]) => us.map((x) => `${n}=${x}`).join(",")).join(",")} has duplicate url`);
      seen.add(u);
    }
  }
}

/** Checks the appended SHA-256 as etcdctl's saveDB does. Throws its errors. */
function checkHash(path: string, skip: boolean): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new Error(goPathError("open", path, e));
  }
  try {
    const size = statSync(path).size;
    const withHash = hasChecksum(size);
    if (!withHash && !skip) throw new Error("snapshot missing hash but --skip-hash-check=false");
    if (!withHash || skip) return;
    const h = createHash("sha256");
    const buf = new Uint8Array(1 << 16);
    let off = 0;
    const end = size - SHA256_SIZE;
    while (off < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - off), off);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      off += n;
    }
    const want = new Uint8Array(SHA256_SIZE);
    readSync(fd, want, 0, SHA256_SIZE, end);
    const got = new Uint8Array(h.digest());
    if (Buffer.compare(want, got) !== 0) throw new Error(`expected sha256 ${goBytes(want)}, got ${goBytes(got)}`);
  } finally {
    closeSync(fd);
  }
}

const dec = new TextDecoder();

/**
 * Restores `opts.snapshotPath` into a new data dir. Throws Error with etcdctl 3.4's texts:
 * URL errors (`URL scheme must be http, https, unix, or unixs: x`), `couldn't find local name
 * "n" in the initial cluster configuration`, `--initial-cluster has ... but missing from
 * --initial-advertise-peer-urls=...`, `data-dir "d" exists`, `open f: no such file or
 * directory`, `snapshot missing hash but --skip-hash-check=false`, `expected sha256 [...],
 * got [...]`; bbolt errors (`invalid database`...) for a damaged file. Nothing is left behind
 * on failure.
 */
export function restoreSnapshot(opts: RestoreOptions, log: RestoreLog = () => {}): RestoreResult {
  const peerUrls = parseUrls(opts.initialAdvertisePeerUrls);
  const cluster = parseInitialCluster(opts.initialCluster);
  verifyBootstrap(opts.name, peerUrls, cluster);
  const { members, clusterId } = bootstrapCluster(cluster, opts.initialClusterToken);
  const memberId = members.find((m) => m.name === opts.name)!.id;
  const dataDir = opts.dataDir || `${opts.name}.etcd`;
  if (existsSync(dataDir)) throw new Error(`data-dir "${dataDir}" exists`);
  const walDir = join(dataDir, "member", "wal");
  const snapDir = join(dataDir, "member", "snap");
  const paths = { path: opts.snapshotPath, "wal-dir": walDir, "data-dir": dataDir, "snap-dir": snapDir };
  log("snapshot/v3_snapshot.go:296", "restoring snapshot", paths);
  checkHash(opts.snapshotPath, opts.skipHashCheck);

  const tmp = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${randomBytes(6).toString("hex")}`);
  try {
    mkdirSync(join(tmp, "member"), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(join(tmp, "member", "db"));
    let result: { revision: number; keys: number };
    try {
      // As openBackend creates a backend: incremental vacuum (defragment) needs it before any table.
      db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      db.exec("BEGIN");
      createSchema({ run: (sql: string) => db.exec(sql) } as unknown as Parameters<typeof createSchema>[0]);
      result = copyState(db, opts);
      const putMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
      putMeta.run("storage_schema", 1);
      putMeta.run(MetaKeys.memberId, memberId.toString());
      putMeta.run(MetaKeys.clusterId, clusterId.toString());
      const putMember = db.prepare("INSERT INTO members (id, name, peer_urls, client_urls, is_learner) VALUES (?, ?, ?, ?, 0)");
      for (const m of members) {
        putMember.run(memberKey(m.id), m.name, JSON.stringify(m.peerUrls), "[]");
        log("membership/cluster.go:392", "added member", {
          "cluster-id": memberKey(clusterId),
          "local-member-id": "0",
          "added-peer-id": memberKey(m.id),
          "added-peer-peer-urls": m.peerUrls,
        });
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
    chmodSync(join(tmp, "member", "db"), 0o600);
    renameSync(tmp, dataDir);
    log("snapshot/v3_snapshot.go:309", "restored snapshot", paths);
    return { dataDir, memberId, clusterId, ...result };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * etcd's compaction at revision `rev` on the `kv` rows: of each key's writes up to `rev` only the
 * last stays, and not even that one when it is a delete (mvcc/kvstore_compaction.go, key_index.go).
 */
function compactRows(db: DatabaseSync, rev: number): void {
  db.prepare("DELETE FROM kv WHERE main <= ? AND id NOT IN (SELECT max(id) FROM kv WHERE main <= ? GROUP BY key)").run(rev, rev);
  db.prepare("DELETE FROM kv WHERE main <= ? AND tombstone = 1").run(rev);
}

/** Copies keys, leases, users, roles and the auth/compaction state from the snapshot into `db`. */
function copyState(db: DatabaseSync, opts: RestoreOptions): { revision: number; keys: number } {
  const r = BboltReader.open(opts.snapshotPath);
  try {
    const putKv = db.prepare(
      "INSERT INTO kv (id, main, sub, key, value, create_revision, version, lease, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    let id = 0;
    let latest = 1;
    for (const e of r.entries("key")) {
      const rev = parseRevisionKey(e.key);
      const kv = fromBinary(KeyValueSchema, e.value);
      latest = rev.main;
      if (e.value.length === 0 && !rev.tombstone) continue; // etcd 3.5's bump-revision marker
      putKv.run(
        ++id,
        rev.main,
        rev.sub,
        kv.key,
        rev.tombstone ? new Uint8Array(0) : kv.value,
        rev.tombstone ? 0 : kv.createRevision,
        rev.tombstone ? 0 : kv.version,
        rev.tombstone ? 0 : kv.lease,
        rev.tombstone ? 1 : 0,
      );
    }
    const putLease = db.prepare("INSERT INTO leases (id, ttl, remaining_ttl) VALUES (?, ?, ?)");
    for (const e of r.entries("lease")) {
      const l = fromBinary(LeaseSchema, e.value);
      putLease.run(l.ID, l.TTL, l.RemainingTTL);
    }
    // Names as BLOBs, as server/storage/auth.ts writes them (authpb's name is bytes).
    for (const [bucket, table] of [["authUsers", "auth_users"], ["authRoles", "auth_roles"]] as const) {
      const put = db.prepare(`INSERT INTO ${table} (name, data) VALUES (?, ?)`);
      for (const e of r.entries(bucket)) put.run(e.key, e.value);
    }
    const putMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    for (const e of r.entries("auth")) {
      const k = dec.decode(e.key);
      if (k === AUTH_ENABLED) putMeta.run(MetaKeys.authEnabled, e.value[0] === 1 ? 1 : 0);
      if (k === AUTH_REVISION && e.value.length === 8) putMeta.run(MetaKeys.authRevision, Number(readU64be(e.value)));
    }
    // Raised alarms stay raised, as etcd keeps its `alarm` bucket (their member IDs are the old cluster's).
    const putAlarm = db.prepare("INSERT OR REPLACE INTO alarms (member_id, alarm) VALUES (?, ?)");
    for (const e of r.entries("alarm")) {
      const a = fromBinary(AlarmMemberSchema, e.key);
      putAlarm.run(a.memberID.toString(), a.alarm);
    }
    let finished = 0;
    let scheduled = 0;
    for (const e of r.entries("meta")) {
      const k = dec.decode(e.key);
      if (k === META_FINISHED_COMPACT) finished = parseRevisionKey(e.value).main;
      if (k === META_SCHEDULED_COMPACT) scheduled = parseRevisionKey(e.value).main;
    }
    // A compaction scheduled but not finished (or marked by etcd 3.5's bump) is finished here,
    // as etcd finishes it when it starts.
    let compacted = Math.max(finished, scheduled);
    if (opts.markCompacted) {
      latest += opts.bumpRevision ?? 0;
      compacted = latest;
    }
    if (compacted > finished) compactRows(db, compacted);
    if (compacted > 0) {
      putMeta.run(MetaKeys.compactRevision, compacted);
      putMeta.run(MetaKeys.compactFinishedRevision, compacted);
    }
    return { revision: Math.max(latest, compacted), keys: id };
  } finally {
    r.close();
  }
}
