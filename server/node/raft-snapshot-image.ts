/**
 * The files behind Raft snapshots sent to followers, so that neither side ever holds the image
 * in memory (etcd: snapshot_merge.go streams the bbolt file; snap/db.go SaveDBFrom writes the
 * received one to `<snap dir>/<index>.snap.db` and applySnapshot opens it by index).
 *
 * - Leader: a point-in-time copy of the backend file (server/storage/backend-copy.ts, off the
 *   event loop) at `<db>.snapshot-<random>.raft-send`, read in chunks and removed when the
 *   transfer ends.
 * - Follower: chunks are appended to `<db>.snapshot-raft-<index, 16 hex digits>.part`, renamed
 *   to `….db` once complete ({@link receivedImagePath}); the apply loop attaches it by the
 *   snapshot's index (./snapshot-restore.ts) and removes it.
 *
 * Every name starts with `<db>.snapshot-`, so files of a transfer cut short by a crash are
 * removed at the next start (server/snapshot/stream.ts removeSnapshotLeftovers).
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { rmSync, statSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { EMPTY_BYTES, type Message } from "../raft/types.ts";
import { copyBackendFile } from "../storage/backend-copy.ts";
import type { IncomingSnapshot, OutgoingSnapshot } from "../transport/snapshot-data.ts";

/** Path of the complete image received for the snapshot at Raft `index`, next to backend file `dbFile`. */
export function receivedImagePath(dbFile: string, index: number): string {
  return `${dbFile}.snapshot-raft-${index.toString(16).padStart(16, "0")}.db`;
}

/**
 * The leader's image for a MsgSnap: a copy of `db`'s file made now (applied index inside it
 * >= the snapshot's index, which the follower relies on), streamed from disk. Errors: those of
 * copyBackendFile (file system, SQLite).
 */
export async function outgoingImage(db: Database): Promise<OutgoingSnapshot> {
  const path = `${db.filename}.snapshot-${randomBytes(6).toString("hex")}.raft-send`;
  await copyBackendFile(db, path);
  const sizeBytes = statSync(path).size;
  return {
    sizeBytes,
    async *read(chunkBytes) {
      const fh = await open(path, "r");
      try {
        for (let off = 0; off < sizeBytes; ) {
          const buf = new Uint8Array(Math.min(chunkBytes, sizeBytes - off));
          const { bytesRead } = await fh.read(buf, 0, buf.length, off);
          if (bytesRead === 0) throw new Error(`snapshot image ${path} shorter than ${sizeBytes} bytes`);
          off += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    },
    release() {
      rmSync(path, { force: true });
    },
  };
}

/**
 * The follower's sink for the image of MsgSnap `m`: written to a `.part` file next to
 * `dbFile`, renamed to {@link receivedImagePath} by finish() (the message then carries no data).
 */
export function incomingImage(dbFile: string, m: Message): IncomingSnapshot {
  const final = receivedImagePath(dbFile, m.snapshot?.metadata.index ?? 0);
  const part = final.replace(/\.db$/, ".part");
  const opened = open(part, "w", 0o600);
  opened.catch(() => {}); // a failed open is reported by write()/finish(), which await it
  let offset = 0;
  return {
    async write(piece) {
      const fh = await opened;
      let done = 0;
      while (done < piece.length) done += (await fh.write(piece, done, piece.length - done, offset + done)).bytesWritten;
      offset += piece.length;
    },
    async finish() {
      const fh = await opened;
      await fh.sync();
      await fh.close();
      await rename(part, final);
      return EMPTY_BYTES;
    },
    abort() {
      void opened.then((fh) => fh.close()).catch(() => {}).finally(() => rm(part, { force: true }));
    },
  };
}
