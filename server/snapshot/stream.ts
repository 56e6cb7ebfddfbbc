/**
 * Maintenance.Snapshot's data: a point-in-time image of the backend in etcd 3.4's bbolt format
 * (./write-etcd-db.ts), sent in 32 KiB chunks with the bytes still to come, then one last
 * message carrying the SHA-256 of everything sent (etcdserver/api/v3rpc/maintenance.go
 * Snapshot: snapshotSendBufferSize, the `RemainingBytes: 0, Blob: sha` message).
 *
 * Consistency and memory: the backend file is first copied at one point in time without
 * blocking the event loop (server/storage/backend-copy.ts) into a private file beside it; the bbolt file is then built from that copy page by page into a second
 * temporary file, yielding to the event loop between steps, and streamed from disk 1 MiB per
 * read. Memory stays bounded (a few pages plus one read) whatever the database size; disk needs about
 * twice the backend size for the duration. Both files are removed when the stream ends, fails
 * or the client goes away.
 */
import { Database } from "bun:sqlite";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { copyBackendFile } from "../storage/backend-copy.ts";
import { FileSink } from "./bbolt/file-sink.ts";
import { DEFAULT_PAGE_SIZE } from "./bbolt/format.ts";
import { sqliteEtcdState } from "./sqlite-state.ts";
import { writeEtcdDb } from "./write-etcd-db.ts";

/** etcd's snapshotSendBufferSize: bytes per SnapshotResponse blob. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

/** One SnapshotResponse's fields. */
export type SnapshotChunk = { remainingBytes: bigint; blob: Uint8Array };

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

/** Bytes of the bbolt file read at once (32 chunks); a garbage check follows each read. */
const READ_BYTES = 32 * SNAPSHOT_CHUNK_BYTES;
/** RSS growth over the snapshot's start that triggers a full collection, bytes. */
const GC_RSS_GROWTH_BYTES = 48 * 1024 * 1024;

/** Lets other work run (the event loop's I/O and timers) between snapshot-building steps. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Streams a snapshot of backend `db` (the member's open connection; only read). Temporary
 * files go to `<db file>.snapshot-<random>.{sqlite,bolt}`. `signal` (the client went away)
 * removes them at once, even while the stream waits for its reader, and ends the stream with
 * the signal's reason. Errors: SQLite and file system errors are thrown as they are (e.g. no
 * space left for the copy).
 */
export async function* snapshotChunks(
  db: Database,
  clusterVersion: string,
  events: SnapshotEvents = {},
  signal?: AbortSignal,
): AsyncGenerator<SnapshotChunk> {
  signal?.throwIfAborted();
  // Every build step and chunk leaves row, value and frame buffers behind, which the collector,
  // left alone, lets pile up by 100-300 MiB on a large snapshot. A full collection whenever RSS
  // grew by GC_RSS_GROWTH_BYTES since the start keeps the peak near that (measured: ~51 MiB above
  // idle at 256 MiB of values, puts meanwhile p99 22 ms / max 185 ms); it blocks for as long as
  // the live heap takes to mark, so it runs only when that much garbage is there. Otherwise a
  // non-blocking hint.
  const startRss = process.memoryUsage.rss();
  const collectGarbage = () => {
    if (process.memoryUsage.rss() > startRss + GC_RSS_GROWTH_BYTES) Bun.gc(true);
    else Bun.gc(false);
  };
  const base = `${db.filename}.snapshot-${randomBytes(6).toString("hex")}`;
  const copyPath = `${base}.sqlite`;
  const boltPath = `${base}.bolt`;
  let fd: number | undefined;
  const removeFiles = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    rmSync(copyPath, { force: true });
    rmSync(`${copyPath}-journal`, { force: true });
    rmSync(boltPath, { force: true });
  };
  signal?.addEventListener("abort", removeFiles, { once: true });
  try {
    await copyBackendFile(db, copyPath, signal);
    fd = openSync(boltPath, "w+", 0o600);
    let pages: number;
    const copy = new Database(copyPath, { readonly: true });
    try {
      const steps = writeEtcdDb(sqliteEtcdState(copy, clusterVersion), new FileSink(fd, DEFAULT_PAGE_SIZE));
      for (;;) {
        const r = steps.next();
        if (r.done) {
          pages = r.value;
          break;
        }
        collectGarbage();
        await breathe();
        signal?.throwIfAborted();
      }
    } finally {
      copy.close();
      rmSync(copyPath, { force: true });
    }
    const total = pages * DEFAULT_PAGE_SIZE;
    events.sending?.(total);
    const hash = createHash("sha256");
    let sent = 0;
    // One read per READ_BYTES (few syscalls); the chunks are views of that fresh buffer, so a
    // consumer may keep them.
    let buf = new Uint8Array(0);
    let bufAt = 0;
    while (sent < total) {
      signal?.throwIfAborted();
      if (bufAt === buf.length) {
        buf = new Uint8Array(Math.min(READ_BYTES, total - sent));
        bufAt = 0;
        let got = 0;
        while (got < buf.length) {
          const n = readSync(fd!, buf, got, buf.length - got, sent + got);
          if (n === 0) throw new Error("snapshot file shorter than its pages");
          got += n;
        }
        hash.update(buf);
        collectGarbage();
      }
      const blob = buf.subarray(bufAt, Math.min(buf.length, bufAt + SNAPSHOT_CHUNK_BYTES));
      bufAt += blob.length;
      sent += blob.length;
      yield { remainingBytes: BigInt(total - sent), blob };
    }
    yield { remainingBytes: 0n, blob: new Uint8Array(hash.digest()) };
    events.sent?.(total);
  } finally {
    signal?.removeEventListener("abort", removeFiles);
    removeFiles();
  }
}
