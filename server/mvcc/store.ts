/**
 * etcd's multi-version key-value store (mvcc/kvstore.go, kvstore_txn.go) with the request
 * semantics of etcd's v3 applier (etcdserver/apply.go): range, put, delete-range, txn and
 * compaction over the `kv` table, with an in-memory key index restored at open.
 *
 * Transactions: the store never begins a top-level SQLite transaction of its own. The
 * caller (server/node) wraps each batch of writes in `db.transaction(...)` together with the
 * applied index. Multi-row writes (txn, delete of a range, compact) run inside a SAVEPOINT so a
 * failing write leaves neither SQLite nor the index half-changed.
 *
 * Consistency between SQLite and memory: every etcd error (KeyNotFound, LeaseNotFound,
 * Compacted, FutureRev) is raised before anything is written. Each row is inserted before
 * the index records it, and if a SQLite statement throws part-way through a write, the
 * index changes already made by that write are undone and its savepoint rolled back before
 * the error propagates. If the caller then rolls back its own enclosing transaction, the
 * writes of earlier successful calls in that transaction are gone from SQLite but not from
 * memory: treat a SQLite error as fatal and reopen the store.
 */
import type { Database, Statement } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import {
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  PutResponseSchema,
  type RangeRequest,
  type RangeResponse,
  RangeResponseSchema,
  type RequestOp,
  type ResponseOp,
  ResponseOpSchema,
  ResponseHeaderSchema,
  type TxnRequest,
  type TxnResponse,
  TxnResponseSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, Event_EventType, type KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import { Errors } from "../errors.ts";
import { Meta, MetaKeys } from "../storage/meta.ts";
import { RevisionsTable } from "../storage/revisions.ts";
import { compareHolds } from "./compare.ts";
import type { FoundRevision, KeyIndex } from "./key-index.ts";
import { bytesToKey, type KeyInterval, keyInterval, keyToBytes } from "./keys.ts";
import { fetchLimit, finishRange } from "./range-options.ts";
import { TreeIndex } from "./tree-index.ts";

/**
 * Result of a write: etcd's response (top-level `header` left unset: the caller fills it
 * from {@link MvccStore.currentRevision} right after the call) and the mvccpb events of the
 * write in order, for the watch hub. PUT events carry the full new KeyValue; DELETE events a
 * KeyValue with only `key` and `modRevision` set (like etcd's watchableStoreTxnWrite).
 * `prevKv` is never filled in events.
 */
export type WriteResult<R> = { response: R; events: Event[] };

/** Optional collaborators of the store. */
export type MvccStoreOptions = {
  /**
   * Whether a lease ID is granted. When given, a put naming a lease it does not know
   * fails with LeaseNotFound (NotFound "etcdserver: requested lease not found"), before
   * any write, as etcd's applier checks with the lessor. Without it leases are not checked.
   */
  leaseExists?: (lease: bigint) => boolean;
  /**
   * Leave the `kv` rows a compaction frees to {@link MvccStore.compactStep} (called in bounded
   * batches by the member between apply rounds) instead of deleting them inside `compact`.
   * Default false: `compact` deletes them at once (tests of the store alone).
   */
  deferCompaction?: boolean;
  /**
   * Memory budget in bytes of the live-value cache (the current value and lease of each key,
   * so reads at the current revision skip SQLite; values above 4 KiB only once read, within
   * 16 MiB, and above 64 KiB never).
   * Default 256 MiB; 0 disables the cache.
   */
  cacheBytes?: number;
};

const EMPTY = new Uint8Array(0);
/** Default memory budget of the live-value cache: 256 MiB of values and entry overheads. */
const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;
/**
 * Values of up to this many bytes are cached when written and when read. Larger ones (up to
 * CACHE_MAX_VALUE) only when read, within CACHE_LARGE_BYTES: caching every 64 KiB value a write
 * brought kept a whole backend of them in memory (32 MiB of values made 32 MiB of RSS, README
 * "Memory"; etcd reads them from bbolt's page-cache-backed mmap), while a value read again and
 * again (a 64 KiB linearizable range: ~20-50 µs of server CPU per read from SQLite) stays cheap.
 */
const CACHE_WRITE_MAX_VALUE = 4 * 1024;
/** Values larger than this (bytes) are always read from SQLite. */
const CACHE_MAX_VALUE = 64 * 1024;
/** Budget (bytes, entry overheads included) of the cached values above CACHE_WRITE_MAX_VALUE. */
const CACHE_LARGE_BYTES = 16 * 1024 * 1024;
/**
 * Keys whose index history one deferred compaction step compacts (a few ms at 1,000,000 keys,
 * where the whole index takes 0.3–0.7 s on this project's 2-core machine).
 */
const COMPACTION_INDEX_KEYS_PER_STEP = 10_000;
/**
 * Per-entry cost (bytes) counted against the cache budget besides the value: the entry object
 * and the value's Uint8Array cell (about 80 bytes measured with bun:jsc heapStats; the key
 * lives in the index anyway).
 */
const CACHE_ENTRY_OVERHEAD = 128;

/** A (key, lease) pair found at restore, for re-attaching keys to leases. */
export type LeaseAttachment = { key: Uint8Array; lease: bigint };

/** Index change of one write, kept so a failed write can be undone. */
type Undo = { ki: KeyIndex; tombstone: boolean; created: boolean };

/** Branch choices of a txn and of the txns nested in the chosen branch (etcd's txnPath). */
type TxnPath = { succeeded: boolean; nested: TxnPath[] };

/** State of one write transaction (storeTxnWrite): all its rows share main revision beginRev + 1. */
class WriteTxn {
  readonly beginRev: number;
  /** Rows written so far; the next row's sub revision. */
  changes = 0;
  readonly events: Event[] = [];
  readonly undo: Undo[] = [];

  constructor(beginRev: number) {
    this.beginRev = beginRev;
  }

  /** Revision reads see: the txn's own revision once it has written (read-your-writes). */
  get rev(): number {
    return this.changes > 0 ? this.beginRev + 1 : this.beginRev;
  }
}

/**
 * The MVCC store of one member. All methods are synchronous; one caller applies writes in
 * log order. Returned messages are fresh objects, but their `key`/`value` byte arrays may be
 * shared with the store's cache and with events: treat them as read-only.
 */
export class MvccStore {
  private readonly rows: RevisionsTable;
  private readonly meta: Meta;
  private index = new TreeIndex();
  private readonly leaseExists: ((lease: bigint) => boolean) | undefined;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;
  private currentRev = 1;
  /** etcd's compactMainRev: -1 until the first compaction. */
  private compactMainRev = -1;
  private nextId = 1;
  private restoredLeases: LeaseAttachment[] = [];
  /** Row ids freed by compactions and not deleted yet (oldest first), with the next one to delete. */
  private pendingDeletes: number[] = [];
  private pendingAt = 0;
  /** A deferred compaction of the index still going: its revision and the next key to compact. */
  private indexCompaction: { rev: number; fromKey: string } | undefined;
  private readonly deferCompaction: boolean;
  private readonly cacheBudget: number;
  private cachedBytes = 0;
  /** The part of cachedBytes for values above CACHE_WRITE_MAX_VALUE. */
  private cachedLargeBytes = 0;

  /**
   * Opens the store over `db` (schema from server/storage/schema.ts) and restores the key
   * index, current revision and compact revision from the `kv` and `meta` tables
   * (store.restore in mvcc/kvstore.go). Cost: one scan of `kv` without values.
   */
  constructor(db: Database, options: MvccStoreOptions = {}) {
    this.rows = new RevisionsTable(db);
    this.meta = new Meta(db);
    this.leaseExists = options.leaseExists;
    this.cacheBudget = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.deferCompaction = options.deferCompaction ?? false;
    this.savepoint = db.query("SAVEPOINT mvcc_write");
    this.release = db.query("RELEASE mvcc_write");
    this.rollbackTo = db.query("ROLLBACK TO mvcc_write");
    this.restore();
  }

  /** The store revision: 1 on an empty store, +1 per write that changed something. */
  get currentRevision(): number {
    return this.currentRev;
  }

  /** Revision of the last compaction; 0 = never compacted. */
  get compactRevision(): number {
    return Math.max(this.compactMainRev, 0);
  }

  /** Number of live (not deleted) keys; walks the index, for `/metrics` at scrape time. */
  get liveKeys(): number {
    return this.index.countLive();
  }

  /** etcd's compactMainRev: -1 until the first compaction (HashKV compares against it). */
  get compactMainRevision(): number {
    return this.compactMainRev;
  }

  /** The `kv` table (HashKV pages through it). */
  get revisions(): RevisionsTable {
    return this.rows;
  }

  /**
   * Whether row `id` of `key` is the revision a compaction at `rev` would keep (etcd's
   * kvindex.Keep): the key's latest write at or below `rev`, when that is not a tombstone.
   */
  keptAt(key: Uint8Array, id: number, rev: number): boolean {
    const ki = this.index.get(bytesToKey(key));
    const f = ki?.find(rev);
    return !!f && f.gen.ids[f.i] === id;
  }

  /** Number of keys in the index (live, or deleted with uncompacted history). */
  get indexedKeys(): number {
    return this.index.size;
  }

  /**
   * Keys that were attached to a lease when the store was opened, from the latest put of
   * each live key (etcd's restore re-attaches them to the lessor).
   */
  leaseAttachmentsAtOpen(): LeaseAttachment[] {
    return this.restoredLeases;
  }

  /**
   * Rebuilds the key index, revisions and lease attachments from the tables after they were
   * replaced underneath (a Raft snapshot installed; etcd's store.Restore). Drops the value cache.
   */
  reload(): void {
    this.index = new TreeIndex();
    this.cachedBytes = 0;
    this.cachedLargeBytes = 0;
    this.restore();
  }

  private restore(): void {
    this.compactMainRev = this.meta.getNumber(MetaKeys.compactRevision, -1);
    const leases = new Map<string, bigint>();
    let maxMain = 1;
    let maxId = 0;
    for (const row of this.rows.scan()) {
      const key = bytesToKey(row.key);
      maxMain = row.main;
      maxId = row.id;
      const ki = this.index.get(key);
      if (row.tombstone) {
        ki?.tombstone(row.main, row.id);
        leases.delete(key);
        continue;
      }
      if (ki) ki.put(row.main, row.id);
      else this.index.getOrCreate(key).ki.restore(row.createRevision, row.main, row.id, row.version);
      if (row.lease !== 0n) leases.set(key, row.lease);
      else leases.delete(key);
    }
    this.currentRev = Math.max(maxMain, this.compactMainRev, 1);
    this.nextId = maxId + 1;
    // A compaction whose rows were not all deleted yet (a restart or a Raft snapshot taken
    // meanwhile): the index just rebuilt still has them; compacting it again finds them.
    this.pendingDeletes = [];
    this.pendingAt = 0;
    this.indexCompaction = undefined;
    const finished = this.meta.getNumber(MetaKeys.compactFinishedRevision, this.compactMainRev);
    if (this.compactMainRev > 0 && finished < this.compactMainRev) {
      this.pendingDeletes = this.index.compact(this.compactMainRev, true);
      if (!this.deferCompaction) this.compactStep(Infinity);
    }
    this.restoredLeases = [...leases].map(([key, lease]) => ({ key: keyToBytes(key), lease }));
  }

  // ---- reads -------------------------------------------------------------------------

  /** KeyValue of revision `f` of `ki`: from the live-value cache, else from its `kv` row. */
  private readKv(ki: KeyIndex, f: FoundRevision): KeyValue {
    const c = ki.cached;
    const main = f.gen.mains[f.i]!;
    if (c !== undefined && ki.isCurrent(f)) {
      return {
        $typeName: "mvccpb.KeyValue",
        key: keyToBytes(ki.key),
        createRevision: BigInt(f.gen.created),
        modRevision: BigInt(main),
        version: BigInt(f.gen.ver),
        value: c.value,
        lease: c.lease,
      };
    }
    const id = f.gen.ids[f.i]!;
    const r = this.rows.get(id);
    if (!r) throw new Error(`mvcc: index points at missing kv row ${id} (revision ${main})`);
    const kv: KeyValue = {
      $typeName: "mvccpb.KeyValue",
      key: r.key,
      createRevision: r.createRevision,
      modRevision: BigInt(main),
      version: r.version,
      value: r.value,
      lease: r.lease,
    };
    if (ki.isCurrent(f)) this.setCached(ki, r.value, r.lease, true);
    return kv;
  }

  /**
   * Caches `value` (not shared with anything mutable) and `lease` as the live revision of `ki`
   * (undefined clears), within the cache budget; a value above CACHE_WRITE_MAX_VALUE only when
   * `read` (it was just read from SQLite) and within CACHE_LARGE_BYTES.
   */
  private setCached(ki: KeyIndex, value: Uint8Array | undefined, lease: bigint, read = false): void {
    const old = ki.cached;
    if (old) {
      const oldSize = old.value.length + CACHE_ENTRY_OVERHEAD;
      this.cachedBytes -= oldSize;
      if (old.value.length > CACHE_WRITE_MAX_VALUE) this.cachedLargeBytes -= oldSize;
    }
    ki.cached = undefined;
    if (!value || value.length > CACHE_MAX_VALUE) return;
    const size = value.length + CACHE_ENTRY_OVERHEAD;
    if (this.cachedBytes + size > this.cacheBudget) return;
    if (value.length > CACHE_WRITE_MAX_VALUE) {
      if (!read || this.cachedLargeBytes + size > CACHE_LARGE_BYTES) return;
      this.cachedLargeBytes += size;
    }
    ki.cached = { value, lease };
    this.cachedBytes += size;
  }

  /** KeyValues of the interval visible at `rev`, in key order, at most `limit` (etcd's rangeKeys). */
  private readInterval(iv: KeyInterval, rev: number, limit: number): { kvs: KeyValue[]; count: number } {
    const kvs: KeyValue[] = [];
    let count = 0;
    this.index.visit(iv, (ki) => {
      const f = ki.find(rev);
      if (!f) return;
      if (count < limit) kvs.push(this.readKv(ki, f));
      count++;
    });
    return { kvs, count };
  }

  /**
   * Range at read revision `curRev` (the store's, or a write txn's own): storeTxnRead.rangeKeys
   * followed by applierV3backend.Range's filters, sort and limit.
   */
  private rangeAt(req: RangeRequest, curRev: number): RangeResponse {
    let rev = Number(req.revision);
    if (rev > curRev) throw Errors.FutureRev();
    if (rev <= 0) rev = curRev;
    if (rev < this.compactMainRev) throw Errors.Compacted();
    const iv = keyInterval(req.key, req.rangeEnd);
    if (req.countOnly) {
      const { count } = this.readInterval(iv, rev, 0);
      return create(RangeResponseSchema, { count: BigInt(count) });
    }
    const read = this.readInterval(iv, rev, fetchLimit(req));
    const { kvs, more } = finishRange(req, read.kvs);
    // kvs set after create: create() would copy the list and check every element is a message.
    const response = create(RangeResponseSchema, { more, count: BigInt(read.count) });
    response.kvs = kvs;
    return response;
  }

  /**
   * etcd Range (KV.Range, applied locally). Returns the KeyValues of `key` (or of
   * [key, range_end); range_end "\0" = every key >= key) at `revision` (<= 0 = current),
   * with `count` = matches before filters and limit, `more` when limit cut the answer.
   * Options: limit, sort_order/sort_target, keys_only, count_only, min/max_mod_revision,
   * min/max_create_revision. The response header is left unset.
   *
   * Errors: FutureRev (OutOfRange "etcdserver: mvcc: required revision is a future revision")
   * when revision > current; Compacted (OutOfRange "etcdserver: mvcc: required revision has
   * been compacted") when revision < compact revision.
   */
  range(req: RangeRequest): RangeResponse {
    return this.rangeAt(req, this.currentRev);
  }

  // ---- writes ------------------------------------------------------------------------

  /** Inserts a put row for `key` and records it in the index (storeTxnWrite.put). */
  private writePut(w: WriteTxn, keyBytes: Uint8Array, key: string, value: Uint8Array, lease: bigint): KeyValue {
    const main = w.beginRev + 1;
    const existing = this.index.get(key);
    const cur = existing?.current();
    const createRevision = cur ? cur.gen.created : main;
    const version = (cur ? cur.gen.ver : 0) + 1;
    const id = this.nextId;
    this.rows.insert({ id, main, sub: w.changes, key: keyBytes, value, createRevision, version, lease, tombstone: false });
    const { ki, created } = existing ? { ki: existing, created: false } : this.index.getOrCreate(key);
    ki.put(main, id);
    w.undo.push({ ki, tombstone: false, created });
    this.nextId++;
    w.changes++;
    const kv: KeyValue = {
      $typeName: "mvccpb.KeyValue",
      key: keyBytes,
      createRevision: BigInt(createRevision),
      modRevision: BigInt(main),
      version: BigInt(version),
      value,
      lease,
    };
    // The cache gets its own copy: request bytes may be views into a large request buffer
    // (and Buffer#slice, unlike Uint8Array#slice, would return another view).
    this.setCached(ki, new Uint8Array(value), lease);
    w.events.push({ $typeName: "mvccpb.Event", type: Event_EventType.PUT, kv });
    return kv;
  }

  /** Inserts a tombstone row for a live key and records it (storeTxnWrite.delete). */
  private writeDelete(w: WriteTxn, ki: KeyIndex): void {
    const main = w.beginRev + 1;
    const keyBytes = keyToBytes(ki.key);
    const id = this.nextId;
    this.rows.insert({
      id,
      main,
      sub: w.changes,
      key: keyBytes,
      value: EMPTY,
      createRevision: 0,
      version: 0,
      lease: 0n,
      tombstone: true,
    });
    ki.tombstone(main, id);
    this.setCached(ki, undefined, 0n);
    w.undo.push({ ki, tombstone: true, created: false });
    this.nextId++;
    w.changes++;
    const kv: KeyValue = {
      $typeName: "mvccpb.KeyValue",
      key: keyBytes,
      createRevision: 0n,
      modRevision: BigInt(main),
      version: 0n,
      value: EMPTY,
      lease: 0n,
    };
    w.events.push({ $typeName: "mvccpb.Event", type: Event_EventType.DELETE, kv });
  }

  /** Throws LeaseNotFound when a lease checker is set and does not know `lease`. */
  private checkLease(lease: bigint): void {
    if (lease !== 0n && this.leaseExists && !this.leaseExists(lease)) throw Errors.LeaseNotFound();
  }

  /** The KeyValue of `key` visible at read revision `rev`, if any. */
  private getKv(key: string, rev: number): KeyValue | undefined {
    const ki = this.index.get(key);
    const f = ki?.find(rev);
    return ki && f ? this.readKv(ki, f) : undefined;
  }

  /** Put inside write txn `w` (applierV3backend.Put after its checks). */
  private applyPut(w: WriteTxn, p: PutRequest): PutResponse {
    const key = bytesToKey(p.key);
    let value = p.value;
    let lease = p.lease;
    let prev: KeyValue | undefined;
    if (p.ignoreValue || p.ignoreLease || p.prevKv) prev = this.getKv(key, w.rev);
    if ((p.ignoreValue || p.ignoreLease) && !prev) throw Errors.KeyNotFound();
    if (p.ignoreValue) value = prev!.value;
    if (p.ignoreLease) lease = prev!.lease;
    this.writePut(w, p.key, key, value, lease);
    return create(PutResponseSchema, { prevKv: p.prevKv ? prev : undefined });
  }

  /** DeleteRange inside write txn `w` (applierV3backend.DeleteRange). */
  private applyDeleteRange(w: WriteTxn, dr: DeleteRangeRequest): DeleteRangeResponse {
    const iv = keyInterval(dr.key, dr.rangeEnd);
    const prevKvs = dr.prevKv ? this.readInterval(iv, w.rev, Infinity).kvs : [];
    let deleted = 0;
    if (iv.single) {
      // The common delete: one lookup, no visit callback or list.
      const ki = this.index.get(iv.key);
      if (ki?.current()) {
        this.writeDelete(w, ki);
        deleted = 1;
      }
    } else {
      const live: KeyIndex[] = [];
      this.index.visit(iv, (ki) => {
        if (ki.current()) live.push(ki);
      });
      for (const ki of live) this.writeDelete(w, ki);
      deleted = live.length;
    }
    // A literal rather than create() (which walks the schema's fields): one per delete.
    return { $typeName: "etcdserverpb.DeleteRangeResponse", header: undefined, deleted: BigInt(deleted), prevKvs };
  }

  /**
   * Runs `fn` as one write transaction at revision current + 1. With `savepoint`, its rows
   * are written inside a SAVEPOINT. On any error the index changes are undone (and the
   * savepoint rolled back); on success the revision advances if anything was written.
   */
  private write<R>(savepoint: boolean, fn: (w: WriteTxn) => R): WriteResult<R> {
    const w = new WriteTxn(this.currentRev);
    if (savepoint) this.savepoint.run();
    let response: R;
    try {
      response = fn(w);
    } catch (err) {
      for (let i = w.undo.length - 1; i >= 0; i--) {
        const u = w.undo[i]!;
        if (u.tombstone) u.ki.undoTombstone();
        else u.ki.undoPut();
        this.setCached(u.ki, undefined, 0n);
        if (u.created) this.index.remove(u.ki.key);
      }
      if (savepoint) {
        this.rollbackTo.run();
        this.release.run();
      }
      throw err;
    }
    if (savepoint) this.release.run();
    if (w.changes > 0) this.currentRev = w.beginRev + 1;
    return { response, events: w.events };
  }

  /**
   * etcd Put: writes `value` under `key` at revision current + 1. The key's version grows
   * by one and its create_revision is kept (a new key, or one re-created after a delete,
   * gets create_revision = mod_revision, version 1). `lease` is stored as given.
   * Options: prev_kv (answer the previous KeyValue), ignore_value (keep the current value),
   * ignore_lease (keep the current lease). The api layer rejects value + ignore_value.
   *
   * Errors (nothing written): LeaseNotFound (NotFound "etcdserver: requested lease not
   * found") with a lease checker that does not know `lease`; KeyNotFound (InvalidArgument
   * "etcdserver: key not found") for ignore_value/ignore_lease on a missing key.
   */
  put(req: PutRequest): WriteResult<PutResponse> {
    this.checkLease(req.lease);
    return this.write(false, (w) => this.applyPut(w, req));
  }

  /**
   * etcd DeleteRange: deletes `key` (or the keys of [key, range_end), "\0" = every key >=
   * key) by writing a tombstone per live key, all at revision current + 1; `deleted` counts
   * them and `prev_kvs` (with prev_kv) holds their last KeyValues. Deleting nothing does not
   * advance the revision. No etcd errors.
   */
  deleteRange(req: DeleteRangeRequest): WriteResult<DeleteRangeResponse> {
    // One key writes at most one row, which needs no savepoint to be all or nothing.
    return this.write(req.rangeEnd.length > 0, (w) => this.applyDeleteRange(w, req));
  }

  // ---- txn ---------------------------------------------------------------------------

  /** Chooses branches (compareToPath): compares of nested txns also read the pre-txn state. */
  private txnPath(rt: TxnRequest, rev: number): TxnPath {
    let succeeded = true;
    for (const c of rt.compare) {
      const { kvs } = this.readInterval(keyInterval(c.key, c.rangeEnd), rev, Infinity);
      if (!compareHolds(c, kvs)) {
        succeeded = false;
        break;
      }
    }
    const nested: TxnPath[] = [];
    for (const op of succeeded ? rt.success : rt.failure) {
      if (op.request.case === "requestTxn") nested.push(this.txnPath(op.request.value, rev));
    }
    return { succeeded, nested };
  }

  /** Calls `fn` on every non-txn op of the chosen branches (checkRequests). */
  private forEachChosenOp(rt: TxnRequest, path: TxnPath, fn: (op: RequestOp) => void): void {
    let n = 0;
    for (const op of path.succeeded ? rt.success : rt.failure) {
      if (op.request.case === "requestTxn") this.forEachChosenOp(op.request.value, path.nested[n++]!, fn);
      else fn(op);
    }
  }

  /** Executes the chosen branch of `rt` in `w` (applyTxn) and builds its response. */
  private applyTxn(w: WriteTxn, rt: TxnRequest, path: TxnPath): TxnResponse {
    const responses: ResponseOp[] = [];
    let n = 0;
    for (const op of path.succeeded ? rt.success : rt.failure) {
      const r = op.request;
      switch (r.case) {
        case "requestRange": {
          const resp = this.rangeAt(r.value, w.rev);
          resp.header = create(ResponseHeaderSchema, { revision: BigInt(w.rev) });
          responses.push(create(ResponseOpSchema, { response: { case: "responseRange", value: resp } }));
          break;
        }
        case "requestPut": {
          const resp = this.applyPut(w, r.value);
          resp.header = create(ResponseHeaderSchema, { revision: BigInt(w.rev) });
          responses.push(create(ResponseOpSchema, { response: { case: "responsePut", value: resp } }));
          break;
        }
        case "requestDeleteRange": {
          const resp = this.applyDeleteRange(w, r.value);
          resp.header = create(ResponseHeaderSchema, { revision: BigInt(w.rev) });
          responses.push(create(ResponseOpSchema, { response: { case: "responseDeleteRange", value: resp } }));
          break;
        }
        case "requestTxn": {
          const resp = this.applyTxn(w, r.value, path.nested[n++]!);
          resp.header = create(ResponseHeaderSchema);
          responses.push(create(ResponseOpSchema, { response: { case: "responseTxn", value: resp } }));
          break;
        }
        default:
          responses.push(create(ResponseOpSchema));
      }
    }
    return create(TxnResponseSchema, { succeeded: path.succeeded, responses });
  }

  /**
   * etcd Txn (applierV3backend.Txn): evaluates the compares against the current state
   * (nested txns' compares too), then runs the success or failure ops in order. All writes
   * share ONE revision (current + 1); ranges inside see the txn's earlier writes; a txn
   * whose chosen ops write nothing does not advance the revision. Responses nested in the
   * txn carry a header with only `revision` (nested txn responses an empty header), like
   * etcd; the top-level header is left unset.
   *
   * Errors, checked before any write, in etcd's order: for txns with any put/delete in any
   * branch, KeyNotFound (ignore_value/ignore_lease on a key missing before the txn) and
   * LeaseNotFound (with a lease checker); then, for ranges of the chosen branches, FutureRev
   * (revision > current) and Compacted (revision < compact revision).
   */
  txn(req: TxnRequest): WriteResult<TxnResponse> {
    const rev = this.currentRev;
    const path = this.txnPath(req, rev);
    const readOnly = isTxnReadOnly(req);
    if (!readOnly) {
      this.forEachChosenOp(req, path, (op) => {
        if (op.request.case !== "requestPut") return;
        const p = op.request.value;
        if ((p.ignoreValue || p.ignoreLease) && !this.index.get(bytesToKey(p.key))?.find(rev)) {
          throw Errors.KeyNotFound();
        }
        this.checkLease(p.lease);
      });
    }
    this.forEachChosenOp(req, path, (op) => {
      if (op.request.case !== "requestRange") return;
      const r = Number(op.request.value.revision);
      if (r === 0) return;
      if (r > rev) throw Errors.FutureRev();
      if (r < this.compactMainRev) throw Errors.Compacted();
    });
    return this.write(!readOnly, (w) => this.applyTxn(w, req, path));
  }

  // ---- compaction --------------------------------------------------------------------

  /**
   * etcd Compact: drops history at or below `revision`. Each key keeps its latest revision
   * <= `revision` unless the key was deleted at or below it; histories that end in such a
   * tombstone are removed entirely. Reads at revisions < `revision` then fail with Compacted;
   * reading at `revision` itself still works. The index changes at once and the compact revision
   * is persisted in `meta`; the index and the freed rows are compacted at once, or with
   * `deferCompaction` the index's first COMPACTION_INDEX_KEYS_PER_STEP keys at once and the rest,
   * with the row deletes, by {@link compactStep} (etcd runs both in a background job, the
   * deletes in batches). Until they are gone
   * they are invisible: reads go through the index, HashKV skips them (server/mvcc/hash.ts).
   *
   * Errors: Compacted (OutOfRange "etcdserver: mvcc: required revision has been compacted")
   * when revision <= the compact revision; FutureRev (OutOfRange "etcdserver: mvcc: required
   * revision is a future revision") when revision > current.
   */
  compact(revision: number): void {
    if (revision <= this.compactMainRev) throw Errors.Compacted();
    if (revision > this.currentRev) throw Errors.FutureRev();
    if (this.meta.getNumber(MetaKeys.compactFinishedRevision) === undefined) {
      this.meta.setNumber(MetaKeys.compactFinishedRevision, Math.max(this.compactMainRev, 0));
    }
    this.meta.setNumber(MetaKeys.compactRevision, revision);
    this.compactMainRev = revision;
    if (this.pendingAt === this.pendingDeletes.length) {
      this.pendingDeletes = [];
      this.pendingAt = 0;
    }
    if (!this.deferCompaction) {
      this.indexCompaction = undefined;
      for (const id of this.index.compact(revision, true)) this.pendingDeletes.push(id);
      this.compactStep(Infinity);
      return;
    }
    // A compaction still going restarts from the first key at the new revision, which
    // covers the old one (etcd runs its index compaction in the background job too).
    this.indexCompaction = { rev: revision, fromKey: "" };
    this.compactIndexStep();
  }

  /** Compacts the next COMPACTION_INDEX_KEYS_PER_STEP keys of a deferred index compaction. */
  private compactIndexStep(): void {
    const c = this.indexCompaction;
    if (!c) return;
    const next = this.index.compactSome(c.rev, c.fromKey, COMPACTION_INDEX_KEYS_PER_STEP, this.pendingDeletes);
    if (next === undefined) this.indexCompaction = undefined;
    else c.fromKey = next;
  }

  /**
   * Rows freed by compactions and not deleted yet; at least 1 while a deferred compaction still
   * has index keys to go through (they free more).
   */
  get pendingCompactionRows(): number {
    const rows = this.pendingDeletes.length - this.pendingAt;
    return this.indexCompaction && rows === 0 ? 1 : rows;
  }

  /**
   * Compacts the next keys of a deferred index compaction, if one is going, then deletes up to
   * `maxRows` of the rows compactions freed (etcd's scheduleCompaction deletes in batches of
   * 10 000 between pauses). When none are left and the index is done, records the compaction as finished
   * (`meta` compact_finished_revision), so a restart does not look for them again. Joins the
   * caller's transaction if one is open; call it between apply transactions otherwise. Returns
   * the rows still pending.
   */
  compactStep(maxRows: number): number {
    this.compactIndexStep();
    const end = Math.min(this.pendingDeletes.length, this.pendingAt + maxRows);
    this.savepoint.run();
    try {
      for (let k = this.pendingAt; k < end; k++) this.rows.delete(this.pendingDeletes[k]!);
      if (end === this.pendingDeletes.length && !this.indexCompaction) {
        this.meta.setNumber(MetaKeys.compactFinishedRevision, Math.max(this.compactMainRev, 0));
      }
    } catch (err) {
      this.rollbackTo.run();
      this.release.run();
      throw err;
    }
    this.release.run();
    this.pendingAt = end;
    if (end === this.pendingDeletes.length) {
      this.pendingDeletes = [];
      this.pendingAt = 0;
    }
    return this.pendingCompactionRows;
  }
}

/** Whether a txn has no put/delete in any branch, nested txns included (isTxnReadonly). */
export function isTxnReadOnly(rt: TxnRequest): boolean {
  for (const ops of [rt.success, rt.failure]) {
    for (const op of ops) {
      const c = op.request.case;
      if (c === "requestPut" || c === "requestDeleteRange") return false;
      if (c === "requestTxn" && !isTxnReadOnly(op.request.value)) return false;
    }
  }
  return true;
}
