/**
 * `etcdctl migrate` for OUR data dir (etcd 3.4 `etcdctl/ctlv3/command/migrate_command.go`): moves
 * a stopped member's v2 keys into its v3 keyspace. etcd rebuilds its v2 store from the WAL and
 * snapshot first; ours is always current in the `v2_nodes` table (server/v2store/tables.ts), so
 * it is read from there.
 *
 * As etcd: the store is walked from the root, sorted, hidden (`_`) nodes left out; every node
 * goes to the transformer as Go's JSON of a v2 node (`key dir value nodes createdIndex
 * modifiedIndex expiration ttl`, directories without `nodes`), and every `mvccpb.KeyValue` the
 * transformer gives back becomes the revision `mod_revision` of its key. The default
 * transformer turns each file node into `{key, value, create_revision: createdIndex,
 * mod_revision: modifiedIndex, version: 1}` and drops directories; `--no-ttl` leaves out nodes
 * with a TTL (they are written without a lease otherwise, as etcd's).
 *
 * Where ours differs: the v3 keyspace must be empty (our key index is rebuilt from the `kv`
 * rows in insertion order, so migrated revisions cannot be slotted in among existing ones).
 * Runs under Bun and Deno (`node:sqlite`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";

/** A key to write into v3: a KeyValue without the lease (etcd writes migrated keys without one) or with it. */
export type MigratedKey = Pick<KeyValue, "key" | "value" | "createRevision" | "modRevision" | "version"> & { lease?: bigint };

/** A v2 node as etcd's JSON has it (v2store.NodeExtern), with `key` relative to the store root. */
export interface V2NodeJson {
  key: string;
  dir?: boolean;
  value?: string;
  nodes?: V2NodeJson[];
  createdIndex: number;
  modifiedIndex: number;
  /** RFC 3339 time of expiry (Go's time.Time JSON), when the node has a TTL. */
  expiration?: string;
  /** Seconds left, when the node has a TTL. */
  ttl?: number;
}

interface V2Row {
  path: string;
  dir: number;
  value: string;
  created_index: number;
  modified_index: number;
  expire_ms: number;
}

/** `<data-dir>/member/db`, or Go's open error when it is missing. */
function backendPath(dataDir: string): string {
  const path = join(dataDir, "member", "db");
  if (!existsSync(path)) throw new Error(`open ${path}: no such file or directory`);
  return path;
}

/** True when a path has a hidden (`_`-prefixed) element, which v2 listings leave out. */
function isHidden(path: string): boolean {
  return path.split("/").some((part) => part.startsWith("_"));
}

/**
 * The v2 store of a stopped member's data dir as etcd's migrate walks it: pre-order, children
 * sorted by key, hidden nodes left out, with `--no-ttl` nodes that have a TTL left out (their
 * children still walked, as etcd's writeKeys). `nowMs` dates the TTLs. Undefined when the
 * store holds no key at all (etcd: `no v2 keys to migrate`).
 * @throws Error `open <data-dir>/member/db: no such file or directory`; SQLite `database is locked` while a member runs on it
 */
export function readV2Nodes(dataDir: string, opts: { noTtl: boolean; nowMs: number }): V2NodeJson[] | undefined {
  const db = new DatabaseSync(backendPath(dataDir), { readOnly: true });
  let rows: V2Row[];
  try {
    rows = db.prepare("SELECT path, dir, value, created_index, modified_index, expire_ms FROM v2_nodes ORDER BY path").all() as unknown as V2Row[];
  } finally {
    db.close();
  }
  if (rows.length === 0) return undefined;
  const out: V2NodeJson[] = [{ key: "/", dir: true, createdIndex: 0, modifiedIndex: 0 }];
  for (const r of rows) {
    if (isHidden(r.path)) continue;
    const node: V2NodeJson = { key: r.path, createdIndex: r.created_index, modifiedIndex: r.modified_index };
    if (r.dir) node.dir = true;
    else node.value = r.value;
    if (r.expire_ms > 0) {
      if (opts.noTtl) continue;
      node.expiration = new Date(r.expire_ms).toISOString();
      node.ttl = Math.max(1, Math.ceil((r.expire_ms - opts.nowMs) / 1000));
    }
    out.push(node);
  }
  // ORDER BY path sorts '/' (0x2f) after '-' and '.', as Go's sorted children would not: re-sort per level.
  return preOrder(out);
}

/** Orders nodes as a sorted depth-first walk from the root: each directory, then its children by key. */
function preOrder(nodes: V2NodeJson[]): V2NodeJson[] {
  const children = new Map<string, V2NodeJson[]>();
  for (const n of nodes) {
    if (n.key === "/") continue;
    const parent = n.key.slice(0, n.key.lastIndexOf("/")) || "/";
    children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const out: V2NodeJson[] = [];
  const walk = (n: V2NodeJson) => {
    out.push(n);
    for (const c of (children.get(n.key) ?? []).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) walk(c);
  };
  walk(nodes[0]!);
  return out;
}

/** etcd's default transformer: a file node becomes a KeyValue with version 1; directories become nothing. */
export function defaultTransform(n: V2NodeJson): MigratedKey | undefined {
  if (n.dir) return undefined;
  const enc = new TextEncoder();
  return { key: enc.encode(n.key), value: enc.encode(n.value ?? ""), createRevision: BigInt(n.createdIndex), modRevision: BigInt(n.modifiedIndex), version: 1n };
}

/**
 * Writes `kvs` into the stopped member's v3 keyspace, one revision `mod_revision` each (etcd's
 * mvcc.WriteKV), in revision order, in one transaction.
 * @throws Error `the v3 keyspace of <data-dir> is not empty` when `kv` has rows; the open errors of {@link readV2Nodes}
 */
export function writeMigratedKeys(dataDir: string, kvs: MigratedKey[]): void {
  const db = new DatabaseSync(backendPath(dataDir));
  try {
    const { n } = db.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number };
    if (n > 0) throw new Error(`the v3 keyspace of ${dataDir} is not empty: migrate moves v2 keys into an empty v3 store`);
    const insert = db.prepare("INSERT INTO kv (main, sub, key, value, create_revision, version, lease, tombstone) VALUES (?, 0, ?, ?, ?, ?, ?, 0)");
    db.exec("BEGIN");
    try {
      for (const kv of [...kvs].sort((a, b) => (a.modRevision < b.modRevision ? -1 : a.modRevision > b.modRevision ? 1 : 0))) {
        insert.run(kv.modRevision, kv.key, kv.value, kv.createRevision, kv.version, kv.lease ?? 0n);
      }
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  } finally {
    db.close();
  }
}
