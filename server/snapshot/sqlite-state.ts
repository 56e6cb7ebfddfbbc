/**
 * An {@link EtcdState} read from our SQLite backend (server/storage/schema.ts): the `kv` rows
 * become etcd's revision records, `leases`, `auth_*`, `members`, `removed_members`, `alarms`
 * and `meta` the other buckets. Reads go through cursors (Statement.iterate), one row at a time.
 * The caller provides consistency: a private copy of the backend (see ./stream.ts) or one
 * read transaction. The connection may change between reads to one holding the same data (the
 * frozen backend file, then its copy: ./stream.ts): every read asks `source()` for the
 * connection, and the revisions resume after the last row read (by `id`).
 */
import type { Database } from "bun:sqlite";
import { create, toBinary } from "@bufbuild/protobuf";
import { AlarmMemberSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { keyValueSizeOf } from "../mvcc/key-value-wire.ts";
import { MembersTable } from "../storage/members.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import type { AuthRecord, EtcdState, LeaseRecord, RevisionRecord, RevisionSize } from "./etcd-state.ts";

type KvRow = {
  id: bigint;
  main: bigint;
  sub: bigint;
  key: Uint8Array;
  value: Uint8Array;
  create_revision: bigint;
  version: bigint;
  lease: bigint;
  tombstone: bigint;
};

type KvSizeRow = {
  main: bigint;
  sub: bigint;
  key_bytes: number;
  value_bytes: number;
  create_revision: bigint;
  version: bigint;
  lease: bigint;
  tombstone: bigint;
};

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

const KV_COLUMNS = "id, main, sub, key, value, create_revision, version, lease, tombstone";

/** The kv rows of `db` in `id` order, after `afterId` when given. */
function kvRows(db: Database, afterId: bigint | undefined): IterableIterator<KvRow> {
  const stmt =
    afterId === undefined ? db.query(`SELECT ${KV_COLUMNS} FROM kv ORDER BY id`) : db.query(`SELECT ${KV_COLUMNS} FROM kv WHERE id > ?1 ORDER BY id`);
  stmt.safeIntegers(true);
  return (afterId === undefined ? stmt.iterate() : stmt.iterate(afterId)) as unknown as IterableIterator<KvRow>;
}

/**
 * The state of a backend (which must have our schema) in etcd's terms, read through
 * `source()` (a connection, or a function giving the one to read now; see the module doc).
 * `clusterVersion` e.g. `3.4.0`.
 */
export function sqliteEtcdState(source: Database | (() => Database), clusterVersion: string): EtcdState {
  const conn = typeof source === "function" ? source : () => source;
  const meta = new Meta(conn());
  const applied = meta.getNumber(MetaKeys.appliedIndex, 0);
  return {
    *revisions(): IterableIterator<RevisionRecord> {
      let db = conn();
      let rows = kvRows(db, undefined);
      let lastId: bigint | undefined;
      try {
        for (;;) {
          if (conn() !== db) {
            rows.return?.();
            db = conn();
            rows = kvRows(db, lastId);
          }
          const next = rows.next();
          if (next.done) return;
          const r = next.value;
          lastId = r.id;
          const main = Number(r.main);
          const tombstone = r.tombstone !== 0n;
          yield {
            main,
            sub: Number(r.sub),
            tombstone,
            kv: tombstone
              ? { key: r.key, value: EMPTY, createRevision: 0n, modRevision: 0n, version: 0n, lease: 0n }
              : { key: r.key, value: r.value, createRevision: r.create_revision, modRevision: r.main, version: r.version, lease: r.lease },
          };
        }
      } finally {
        rows.return?.();
      }
    },
    // octet_length reads a blob's length from the record header, not its (overflow) pages.
    *revisionSizes(): IterableIterator<RevisionSize> {
      const stmt = conn().query(
        "SELECT main, sub, octet_length(key) AS key_bytes, octet_length(value) AS value_bytes, create_revision, version, lease, tombstone FROM kv ORDER BY id",
      );
      stmt.safeIntegers(true);
      for (const r of stmt.iterate() as unknown as IterableIterator<KvSizeRow>) {
        const tombstone = r.tombstone !== 0n;
        const keyBytes = Number(r.key_bytes);
        yield {
          main: Number(r.main),
          sub: Number(r.sub),
          tombstone,
          size: tombstone
            ? keyValueSizeOf(keyBytes, 0n, 0n, 0n, 0, 0n)
            : keyValueSizeOf(keyBytes, r.create_revision, r.main, r.version, Number(r.value_bytes), r.lease),
        };
      }
    },
    *leases(): IterableIterator<LeaseRecord> {
      const stmt = conn().query("SELECT id, ttl, remaining_ttl FROM leases ORDER BY id");
      stmt.safeIntegers(true);
      for (const r of stmt.iterate() as unknown as IterableIterator<{ id: bigint; ttl: bigint; remaining_ttl: bigint }>) {
        yield { id: r.id, ttl: r.ttl, remainingTtl: r.remaining_ttl };
      }
    },
    users: () => authRows(conn(), "auth_users"),
    roles: () => authRows(conn(), "auth_roles"),
    members: () => new MembersTable(conn()).all(),
    removedMembers: () =>
      (conn().query("SELECT id FROM removed_members").all() as { id: string }[]).map((r) => BigInt(`0x${r.id}`)),
    alarms: () =>
      (conn().query("SELECT member_id, alarm FROM alarms").all() as { member_id: string; alarm: number }[]).map((r) =>
        toBinary(AlarmMemberSchema, create(AlarmMemberSchema, { memberID: BigInt(r.member_id), alarm: r.alarm })),
      ),
    consistentIndex: BigInt(applied),
    compactRevision: meta.getNumber(MetaKeys.compactRevision, 0),
    // Absent: every compaction finished at once (server/storage/meta.ts).
    finishedCompactRevision: meta.getNumber(MetaKeys.compactFinishedRevision, meta.getNumber(MetaKeys.compactRevision, 0)),
    authEnabled: meta.getNumber(MetaKeys.authEnabled, 0) === 1,
    authRevision: BigInt(meta.getNumber(MetaKeys.authRevision, 0)),
    clusterVersion,
  };
}

function* authRows(db: Database, table: "auth_users" | "auth_roles"): IterableIterator<AuthRecord> {
  const stmt = db.query(`SELECT name, data FROM ${table} ORDER BY name`);
  // Names are BLOBs (authpb names are bytes): ORDER BY compares them as bytes, bbolt's order.
  for (const r of stmt.iterate() as unknown as IterableIterator<{ name: Uint8Array | string; data: Uint8Array }>) {
    yield { name: typeof r.name === "string" ? enc.encode(r.name) : r.name, data: r.data };
  }
}
