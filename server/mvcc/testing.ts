/**
 * Helpers for the MVCC tests: a store on a temporary data dir (removed by `cleanup`),
 * latin1 byte/string conversion and request builders with etcd's field names.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Code, ConnectError } from "@connectrpc/connect";
import { afterEach } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Compare,
  CompareSchema,
  DeleteRangeRequestSchema,
  type PutRequest,
  PutRequestSchema,
  type RangeRequest,
  RangeRequestSchema,
  type RangeResponse,
  RequestOpSchema,
  TxnRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { KV_COLUMNS } from "../storage/schema.ts";
import { openBackend } from "../storage/sqlite.ts";
import { MvccStore, type MvccStoreOptions } from "./store.ts";

/** Bytes of a latin1 string (one byte per char). */
export function b(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Latin1 string of bytes. */
export function str(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/**
 * Replaces the (empty) `kv` table of `db` with one in the column order of data files made before
 * `value` moved last (KV_COLUMNS, server/storage/schema.ts); reopen the store afterwards.
 */
export function useFirstKvLayout(db: Database): void {
  const type = (c: string) => (c === "id" ? "INTEGER PRIMARY KEY" : c === "key" || c === "value" ? "BLOB NOT NULL" : "INTEGER NOT NULL");
  db.run("DROP TABLE kv");
  db.run(`CREATE TABLE kv (${KV_COLUMNS.map((c) => `${c} ${type(c)}`).join(", ")})`);
}

/** A store on a fresh temporary data dir; `reopen` closes and restores it from disk. */
export class TempStore {
  readonly dir = mkdtempSync(join(tmpdir(), "etcd-mvcc-"));
  db: Database;
  store: MvccStore;
  private readonly options: MvccStoreOptions;

  constructor(options: MvccStoreOptions = {}) {
    this.options = options;
    this.db = openBackend(this.dir);
    this.store = new MvccStore(this.db, options);
  }

  /** Closes the database and opens a new store over the same data dir. */
  reopen(options: MvccStoreOptions = this.options): MvccStore {
    this.db.close();
    this.db = openBackend(this.dir);
    this.store = new MvccStore(this.db, options);
    return this.store;
  }

  /** Number of rows in the `kv` table. */
  rowCount(): number {
    return (this.db.query("SELECT count(*) AS n FROM kv").get() as { n: number }).n;
  }

  /** Closes the database and removes the data dir. */
  cleanup(): void {
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Request fields other than the message marker and the byte fields the helpers fill. */
type Fields<T> = Partial<Omit<T, "$typeName" | "$unknown" | "key" | "value" | "rangeEnd">>;

/** PutRequest for latin1 `key`/`value`. */
export function putReq(key: string, value: string, extra: Fields<PutRequest> = {}) {
  return create(PutRequestSchema, { key: b(key), value: b(value), ...extra });
}

/** RangeRequest for latin1 `key` and optional `rangeEnd`. */
export function rangeReq(
  key: string,
  rangeEnd = "",
  extra: Fields<RangeRequest> = {},
) {
  return create(RangeRequestSchema, { key: b(key), rangeEnd: b(rangeEnd), ...extra });
}

/** DeleteRangeRequest for latin1 `key` and optional `rangeEnd`. */
export function deleteReq(key: string, rangeEnd = "", prevKv = false) {
  return create(DeleteRangeRequestSchema, { key: b(key), rangeEnd: b(rangeEnd), prevKv });
}

/** Compare for latin1 `key` and optional latin1 `rangeEnd` (use with {@link txnReq}). */
export function cmp(key: string, init: Pick<Compare, "target" | "result" | "targetUnion">, rangeEnd = "") {
  return create(CompareSchema, { key: b(key), rangeEnd: b(rangeEnd), ...init });
}

type Op = MessageInitShape<typeof RequestOpSchema>["request"];

/** TxnRequest from compares and success/failure ops given as RequestOp `request` unions. */
export function txnReq(
  compare: MessageInitShape<typeof CompareSchema>[],
  success: Op[] = [],
  failure: Op[] = [],
) {
  return create(TxnRequestSchema, {
    compare,
    success: success.map((request) => ({ request })),
    failure: failure.map((request) => ({ request })),
  });
}

/** Compact view of a KeyValue: [key, value, create_revision, mod_revision, version]. */
export function kvTuple(kv: KeyValue): [string, string, number, number, number] {
  return [str(kv.key), str(kv.value), Number(kv.createRevision), Number(kv.modRevision), Number(kv.version)];
}

/** Compact view of a range answer. */
export function rangeTuples(r: RangeResponse): [string, string, number, number, number][] {
  return r.kvs.map(kvTuple);
}

/** Returns an opener of {@link TempStore}s that the current test file cleans up after each test. */
export function tempStores(): (options?: MvccStoreOptions) => TempStore {
  const stores: TempStore[] = [];
  afterEach(() => {
    for (const t of stores.splice(0)) t.cleanup();
  });
  return (options) => {
    const t = new TempStore(options);
    stores.push(t);
    return t;
  };
}

/** Runs `fn` and returns the etcd error (ConnectError) it throws as [code, message]; throws if none. */
export function etcdError(fn: () => unknown): [Code, string] {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    return [err.code, err.rawMessage];
  }
  throw new Error("expected an etcd error");
}
