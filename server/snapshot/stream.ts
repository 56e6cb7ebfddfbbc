/**
 * Maintenance.Snapshot's data: a point-in-time image of the backend in etcd 3.4's bbolt format
 * (./write-etcd-db.ts), sent in 32 KiB chunks with the bytes still to come, then one last
 * message carrying the SHA-256 of everything sent (etcdserver/api/v3rpc/maintenance.go
 * Snapshot: snapshotSendBufferSize, the `RemainingBytes: 0, Blob: sha` message).
 *
 * Consistency: the backend's main file is frozen at one point in time and copied without
 * blocking the event loop (server/storage/backend-copy.ts startBackendCopy) into a private file
 * beside it, removed when the stream ends, fails or the client goes away. The stream does not
 * wait for the copy: it reads the frozen main file itself (a second connection, `immutable=1`)
 * until the copy is complete, then goes on from the copy (the revisions resume after the last
 * row read, ./sqlite-state.ts) and ends the freeze. So the first byte no longer waits for the
 * copy (25-30 ms for a 65 MiB backend, about a second for 2 GiB), and the freeze lasts as long
 * as before, plus the layout pass when the copy is the quicker (the switch happens between
 * build steps only).
 *
 * Streamed as it is built, in two passes over the copy: a layout pass reads only sizes (the
 * lengths of keys and values, not the values) and computes the page layout, so the total size
 * (for `remaining_bytes`) and the meta pages (root page, high-water mark) are known before the
 * first byte; then the build pass encodes the pages in file order straight into the chunks
 * (./chunk-sink.ts), at most 2,000 entries or 1 MiB of values per step, each step's chunks
 * sent before the next step runs. Memory stays bounded (a step's chunks plus a few pages)
 * whatever the database size; no bbolt file is written to disk.
 */
import { constants, Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { startBackendCopy, type HeldCopy } from "../storage/backend-copy.ts";
import { DEFAULT_PAGE_SIZE } from "./bbolt/format.ts";
import { ChunkSink, HeadPagesSink, type SnapshotChunk } from "./chunk-sink.ts";
import { sqliteEtcdState } from "./sqlite-state.ts";
import { writeEtcdDb } from "./write-etcd-db.ts";

/** etcd's snapshotSendBufferSize: bytes per SnapshotResponse blob. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

export type { SnapshotChunk } from "./chunk-sink.ts";

/** Progress reports, for etcd's log lines. `totalBytes`: the database size without the hash. */
export interface SnapshotEvents {
  sending?(totalBytes: number): void;
  sent?(totalBytes: number): void;
}

/**
 * Removes temporary files of snapshot transfers next to backend file `dbPath` (left by a crash
 * during a transfer). Call only while holding the data dir, before serving.
 */
export function removeSnapshotLeftovers(dbPath: string): void {
  const dir = dirname(dbPath);
  const prefix = `${basename(dbPath)}.snapshot-`;
  for (const f of readdirSync(dir)) if (f.startsWith(prefix)) rmSync(join(dir, f), { force: true });
}

/** RSS growth over the snapshot's start that triggers a full collection, bytes. */
const GC_RSS_GROWTH_BYTES = 16 * 1024 * 1024;

/** Lets other work run (the event loop's I/O and timers) between build steps. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Streams a snapshot of backend `db` (the member's open connection; only read). The temporary
 * copy goes to `<db file>.snapshot-<random>.sqlite`. `signal` (the client went away) removes it
 * at once, even while the stream waits for its reader, and ends the stream with the signal's
 * reason. Errors: SQLite and file system errors are thrown as they are (e.g. no space left for
 * the copy); Error `snapshot: ...` if the build does not match its layout pass (a bug).
 */
export async function* snapshotChunks(
  db: Database,
  clusterVersion: string,
  events: SnapshotEvents = {},
  signal?: AbortSignal,
): AsyncGenerator<SnapshotChunk> {
  signal?.throwIfAborted();
  // Every build step leaves the row values SQLite handed over behind (about the snapshot's
  // size; chunks and frames are reused, ./chunk-sink.ts), which the collector, left alone, lets
  // pile up. A full collection whenever RSS grew by GC_RSS_GROWTH_BYTES since the start keeps
  // the peak about that much above where it started; a full collection blocks for as long as
  // the live heap takes to mark. Otherwise a non-blocking hint after every step: without it a
  // save took 40% more CPU (scripts/snapshot-repeat.ts). There is no full collection before the
  // build: it cost 15-25 ms, and the memory it handed back to the system had to be faulted in
  // again for the first rows (34 MiB saves 0.34 s against 0.37 s without and with it).
  const startRss = process.memoryUsage.rss();
  const collectGarbage = () => {
    if (process.memoryUsage.rss() > startRss + GC_RSS_GROWTH_BYTES) Bun.gc(true);
    else Bun.gc(false);
  };
  const copyPath = `${db.filename}.snapshot-${randomBytes(6).toString("hex")}.sqlite`;
  const removeFiles = () => {
    rmSync(copyPath, { force: true });
    rmSync(`${copyPath}-journal`, { force: true });
  };
  signal?.addEventListener("abort", removeFiles, { once: true });
  let held: HeldCopy | undefined;
  let frozen: Database | undefined;
  let copy: Database | undefined;
  try {
    held = await startBackendCopy(db, copyPath, signal);
    const copying = held;
    let copied = false;
    copying.copied.then(
      () => (copied = true),
      () => (copied = true), // the error comes out of the await below
    );
    frozen = new Database(`file:${db.filename}?immutable=1`, constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI);
    let source = frozen;
    /** Goes on from the copy once it is complete, and lets the main file go. */
    const switchWhenCopied = async () => {
      if (!copied || copy) return;
      await copying.copied;
      copy = new Database(copyPath, { readonly: true });
      source = copy;
      copying.release();
    };
    const state = sqliteEtcdState(() => source, clusterVersion);
    const head = new HeadPagesSink(DEFAULT_PAGE_SIZE);
    const layout = writeEtcdDb(state, head, { layoutOnly: true });
    let r = layout.next();
    for (; !r.done; r = layout.next()) {
      await breathe();
      signal?.throwIfAborted();
    }
    const total = r.value * DEFAULT_PAGE_SIZE;
    events.sending?.(total);
    const sink = new ChunkSink(head, total, SNAPSHOT_CHUNK_BYTES);
    const build = writeEtcdDb(state, sink);
    for (let done = false; !done; ) {
      await switchWhenCopied();
      done = build.next().done ?? false;
      for (const chunk of sink.take()) {
        signal?.throwIfAborted();
        yield chunk;
      }
      collectGarbage();
      // A consumer that never waits (in memory) would otherwise keep the loop to itself.
      await breathe();
    }
    yield { remainingBytes: 0n, blob: sink.digest() };
    events.sent?.(total);
  } finally {
    held?.release();
    frozen?.close();
    (copy as Database | undefined)?.close();
    signal?.removeEventListener("abort", removeFiles);
    // A copy still running writes on into the removed file, and its end finds no file (ignored).
    removeFiles();
  }
}
