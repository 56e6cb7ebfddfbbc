/**
 * HashKV and Hash (etcd's mvcc/kvstore.go HashByRev, mvcc/backend Hash; Maintenance.HashKV/Hash).
 *
 * HashKV(rev): a CRC-32 over the MVCC history up to `rev` — every `kv` row with
 * compact_revision < main <= rev, plus the rows at or below the compact revision that a compaction
 * at `rev` would keep (etcd's kvindex.Keep: each key's latest write at or below `rev`, unless a
 * tombstone) — in write order. Like etcd's, the number depends on the history up to `rev` and on
 * the compact revision: members that applied the same log up to the same compaction agree, which
 * is what the corruption check compares. The number is not etcd's (different row encoding).
 *
 * Rows are read in pages of HASH_PAGE_ROWS, one page per event-loop turn, so hashing millions of
 * revisions does not stall heartbeats; new writes land above `rev` and do not change the result;
 * a compaction in between restarts the pass.
 *
 * Hash: a CRC-32 over every state-machine table of the backend (all but the Raft log, the hard
 * state and `meta`, which holds the member's own identity), tables by name, rows in key order.
 */
import type { Database } from "bun:sqlite";
import { crc32 } from "node:zlib";
import { Errors } from "../errors.ts";
import type { RevisionRow } from "../storage/revisions.ts";
import { KV_COLUMNS } from "../storage/schema.ts";
import type { MvccStore } from "./store.ts";

/** Rows hashed per event-loop turn. */
export const HASH_PAGE_ROWS = 10_000;
/** Passes HashKV restarts after a compaction in between before it gives up and hashes in one go. */
const MAX_HASH_RESTARTS = 3;

/** Result of HashKV: the hash, the store revision when it started, the compact revision it used (0: none). */
export interface KvHash {
  hash: number;
  revision: number;
  compactRevision: number;
}

const enc = new TextEncoder();

/** The bytes of one row fed to the CRC: revision, key, value and metadata, length-prefixed where variable. */
function rowBytes(r: RevisionRow): Uint8Array {
  const head = enc.encode(`${r.main}.${r.sub}|${r.key.length}|${r.value.length}|${r.createRevision}|${r.version}|${r.lease}|${r.tombstone ? 1 : 0}|`);
  const out = new Uint8Array(head.length + r.key.length + r.value.length);
  out.set(head, 0);
  out.set(r.key, head.length);
  out.set(r.value, head.length + r.key.length);
  return out;
}

/**
 * HashKV at `rev` (0: the current revision). `nextTurn` schedules the next page (the member's
 * env `setImmediate`); without it every page is read in one go. Errors: Compacted (OutOfRange
 * `etcdserver: mvcc: required revision has been compacted`) when 0 < rev <= compact revision;
 * FutureRev (OutOfRange `etcdserver: mvcc: required revision is a future revision`) when rev > current.
 */
export async function hashKV(store: MvccStore, rev: number, nextTurn?: (fn: () => void) => void): Promise<KvHash> {
  for (let attempt = 0; ; attempt++) {
    const compactRev = store.compactMainRevision;
    const currentRev = store.currentRevision;
    if (rev > 0 && rev <= compactRev) throw Errors.Compacted();
    if (rev > 0 && rev > currentRev) throw Errors.FutureRev();
    const at = rev === 0 ? currentRev : rev;
    const paged = nextTurn && attempt < MAX_HASH_RESTARTS;
    let h = crc32(enc.encode("key"));
    let after = 0;
    let restarted = false;
    for (;;) {
      const rows = store.revisions.page(after, at, HASH_PAGE_ROWS);
      for (const r of rows) {
        if (r.main <= compactRev && !store.keptAt(r.key, r.id, at)) continue;
        h = crc32(rowBytes(r), h);
      }
      if (rows.length < HASH_PAGE_ROWS) break;
      after = rows[rows.length - 1]!.id;
      if (paged) {
        await new Promise<void>((resolve) => nextTurn(resolve));
        if (store.compactMainRevision !== compactRev) {
          restarted = true;
          break;
        }
      }
    }
    if (!restarted) return { hash: h >>> 0, revision: currentRev, compactRevision: Math.max(compactRev, 0) };
  }
}

/**
 * Tables left out: those that are not the replicated state machine, and the v2 store's, which
 * etcd 3.4 keeps outside its bbolt backend (so its Hash never covers them).
 */
const NOT_HASHED = new Set(["raft_log", "hard_state", "meta", "v2_events", "v2_nodes", "v2_state"]);

/** Hash of the backend's state-machine tables (see the file comment); synchronous. */
export function hashBackend(db: Database): number {
  const tables = db
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name)
    .filter((t) => !NOT_HASHED.has(t));
  let h = 0;
  for (const t of tables) {
    h = crc32(enc.encode(t), h);
    const cols = db.query<{ name: string; pk: number }, []>(`PRAGMA table_info("${t}")`).all();
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
    const order = pk.length > 0 ? pk.join(", ") : cols.map((c) => `"${c.name}"`).join(", ");
    // Columns in one order whatever the file's layout (`kv` moved `value` last, KV_COLUMNS).
    const names = t === "kv" ? KV_COLUMNS.map((c) => `"${c}"`).join(", ") : "*";
    const stmt = db.query(`SELECT ${names} FROM "${t}" ORDER BY ${order}`);
    stmt.safeIntegers(true);
    for (const row of stmt.values() as unknown[][]) {
      for (const v of row) {
        h = v instanceof Uint8Array ? crc32(v, crc32(enc.encode(`b${v.length}:`), h)) : crc32(enc.encode(`v${String(v)};`), h);
      }
    }
  }
  return h >>> 0;
}
