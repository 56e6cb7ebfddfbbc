/**
 * Reads the change history of the MVCC store back as watch events, for watchers that start
 * in the past or fell behind (etcd's `watchableStore.syncWatchers`, which range-reads the
 * `key` bucket from the watchers' minimum revision to the current one, mvcc/watchable_store.go,
 * and turns rows into events with `kvsToEvents`).
 *
 * The `kv` table (server/storage/revisions.ts) has one row per write, `id` growing with the
 * (main, sub) revision, so the rows of revisions [from, to] are one contiguous `id` range. The
 * first row of `from` is found by a binary search over `id` (each step one primary-key seek),
 * then rows are read in `id` order. Events have etcd's shapes: a PUT carries the stored
 * KeyValue, a DELETE (tombstone row) a KeyValue with only `key` and `mod_revision`.
 */
import type { Database, Statement } from "bun:sqlite";
import { type Event, Event_EventType, type KeyValue } from "../../../proto/gen/mvccpb/kv_pb.ts";

/** Events of a run of whole revisions, in revision order. */
export interface HistoryChunk {
  /** Events of revisions [from, upTo], in (main, sub) order. */
  events: Event[];
  /** Last revision fully contained in `events` (>= from - 1; from - 1 only when from > to). */
  upTo: number;
}

/** A `kv` row as read with safe integers. */
type Row = [id: bigint, main: bigint, key: Uint8Array, value: Uint8Array, create: bigint, version: bigint, lease: bigint, tombstone: bigint];

/** Prepared statements over the `kv` table for history reads. */
export class HistoryReader {
  private readonly firstAtOrAfter: Statement;
  private readonly bounds: Statement;
  private readonly rowsFrom: Statement;
  private readonly rowsOfRevision: Statement;

  /** `db` must have the schema of server/storage/schema.ts. */
  constructor(db: Database) {
    this.firstAtOrAfter = db.query("SELECT main FROM kv WHERE id >= ? ORDER BY id LIMIT 1");
    this.bounds = db.query("SELECT min(id), max(id) FROM kv");
    const cols = "id, main, key, value, create_revision, version, lease, tombstone";
    this.rowsFrom = db.query(`SELECT ${cols} FROM kv WHERE id >= ? ORDER BY id LIMIT ?`);
    this.rowsFrom.safeIntegers(true);
    this.rowsOfRevision = db.query(`SELECT ${cols} FROM kv WHERE main = ? AND id >= ? ORDER BY id`);
    this.rowsOfRevision.safeIntegers(true);
  }

  /** Smallest row id whose revision is >= `rev`, or undefined when no row is that new. */
  private firstIdOf(rev: number): number | undefined {
    const [min, max] = this.bounds.values()[0] as [number | null, number | null];
    if (min === null || max === null) return undefined;
    const mainAt = (id: number) => (this.firstAtOrAfter.values(id)[0] as [number] | undefined)?.[0];
    if ((mainAt(max) ?? 0) < rev) return undefined;
    let lo = min;
    let hi = max; // invariant: the first row at or after `hi` has main >= rev
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if ((mainAt(mid) ?? Infinity) >= rev) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Events of revisions [from, to], at most about `maxRows` rows: when the limit cuts a
   * revision, the chunk ends before it (`upTo` says where), except that a first revision
   * larger than the limit is read whole, so every call makes progress and a revision is never
   * split. `from` must not be below the compact revision (older rows are gone).
   */
  read(from: number, to: number, maxRows: number): HistoryChunk {
    if (from > to) return { events: [], upTo: to };
    const startId = this.firstIdOf(from);
    if (startId === undefined) return { events: [], upTo: to };
    const rows = this.rowsFrom.values(startId, maxRows + 1) as unknown as Row[];
    let upTo = to;
    let kept = rows.filter((r) => Number(r[1]) <= to);
    if (rows.length > maxRows && kept.length === rows.length) {
      // The limit was hit inside [from, to]: drop the possibly partial last revision.
      const lastMain = Number(rows[rows.length - 1]![1]);
      const firstMain = Number(rows[0]![1]);
      if (lastMain > firstMain) {
        kept = rows.filter((r) => Number(r[1]) < lastMain);
        upTo = lastMain - 1;
      } else {
        kept = this.rowsOfRevision.values(firstMain, startId) as unknown as Row[];
        upTo = firstMain;
      }
    }
    return { events: kept.map(rowToEvent), upTo };
  }
}

/** The watch event of one `kv` row (kvsToEvents). */
function rowToEvent(r: Row): Event {
  const modRevision = BigInt(r[1]);
  const tombstone = Number(r[7]) !== 0;
  const kv: KeyValue = tombstone
    ? { $typeName: "mvccpb.KeyValue", key: r[2], createRevision: 0n, modRevision, version: 0n, value: new Uint8Array(0), lease: 0n }
    : { $typeName: "mvccpb.KeyValue", key: r[2], createRevision: r[4], modRevision, version: r[5], value: r[3], lease: r[6] };
  return { $typeName: "mvccpb.Event", type: tombstone ? Event_EventType.DELETE : Event_EventType.PUT, kv };
}
