/**
 * A point-in-time copy of the member's SQLite backend file without blocking the event loop
 * (what etcd gets from a long bbolt read transaction, mvcc/backend/backend.go Snapshot).
 *
 * The backend runs in WAL mode with an exclusive lock (server/storage/sqlite.ts), so no second
 * connection can read it. Instead, the WAL is checkpointed into the main file once (bounded by
 * the auto-checkpoint size, about 4 MiB), then automatic checkpoints are switched off: from then
 * on every write goes to the WAL only and the main file is frozen at that point in time. The
 * frozen file is copied off the main thread (Bun's native file copy on its thread pool) through
 * the descriptor the data dir lock keeps open (server/storage/sqlite.ts
 * backendDescriptor): opening and closing a descriptor of its own, as `fs.copyFile` does, would
 * drop the process's POSIX locks on the file, SQLite's exclusive lock among them. A database not
 * opened by openBackend (the simulation's disks) is copied with `fs.promises.copyFile`. Then
 * automatic checkpoints are switched back on. The WAL grows by what is written during the copy
 * and shrinks at the next checkpoint.
 *
 * {@link startBackendCopy} hands the freeze to its caller instead: it resolves once the file is
 * frozen, with the copy running, and the freeze lasts until the caller releases it, so the caller
 * may read the frozen main file meanwhile (a streamed snapshot, server/snapshot/stream.ts).
 *
 * Copies of one database run one after another, each with its own freeze, so every copy is at
 * least as new as the moment it was asked for (a Raft snapshot's image must not be older than
 * its index). Whoever else checkpoints or rewrites the file (Defragment) waits for
 * {@link backendCopyRunning} to turn false first.
 */
import type { Database } from "bun:sqlite";
import { chmodSync, fstatSync, openSync, writeSync, closeSync } from "node:fs";
import { copyFile, rm } from "node:fs/promises";
import { backendDescriptor } from "./sqlite.ts";
import { rewind } from "./flock.ts";

/**
 * Copies the file open as `fd` to a new file `destPath` (mode 0600) with Bun's native file copy
 * (copy_file_range on its thread pool), without opening or closing any descriptor of it. That
 * copy reads from the descriptor's offset, so the offset is rewound first (copies of one
 * database run one at a time) and the count checked. Errors: the copy's (e.g. ENOSPC), or
 * `backend copy: copied <n> of <size> bytes`.
 */
async function copyFromDescriptor(fd: number, destPath: string): Promise<void> {
  const size = fstatSync(fd).size;
  rewind(fd);
  const copied = await Bun.write(destPath, Bun.file(fd));
  if (copied !== size) throw new Error(`backend copy: copied ${copied} of ${size} bytes`);
  chmodSync(destPath, 0o600);
}

/** SQLite's default `wal_autocheckpoint`, pages, restored after a copy. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/** Per database: the copy chain's tail and whether a copy holds the file frozen now. */
const state = new WeakMap<Database, { tail: Promise<void>; frozen: boolean }>();

/** True while a copy of `db` holds its main file frozen: do not checkpoint or VACUUM it now. */
export function backendCopyRunning(db: Database): boolean {
  return state.get(db)?.frozen ?? false;
}

/** Switches automatic checkpoints back on; a database closed meanwhile (member stopping) has none to switch. */
function restoreAutocheckpoint(db: Database): void {
  try {
    db.run(`PRAGMA wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  } catch (e) {
    if (!/closed/i.test(String(e))) throw e;
  }
}

/** A copy under way ({@link startBackendCopy}): the main file stays frozen until {@link HeldCopy.release}. */
export interface HeldCopy {
  /**
   * Resolves once the copy at `destPath` is complete (a plain rollback-journal file, see
   * {@link copyBackendFile}); rejects with the copy's error, `destPath` removed. Never reported
   * as an unhandled rejection.
   */
  readonly copied: Promise<void>;
  /**
   * Ends the freeze: automatic checkpoints run again and the next copy may start. Call it once
   * nothing reads the frozen main file any more, also when the copy failed; later calls do nothing.
   */
  release(): void;
}

/**
 * Freezes `db`'s main file (as of the call, or later when copies queue) and starts copying it to
 * `destPath`; resolves once the file is frozen, with the copy still running. Until
 * {@link HeldCopy.release} the main file does not change, so a reader may read it meanwhile
 * through its own connection opened with `immutable=1` (SQLite URI parameter: no locks, no WAL,
 * sqlite.org/uri.html), e.g. while the copy runs. `db` must not be inside a transaction. `signal`
 * abandons the copy. Errors (rejections): the checkpoint's, as SQLite raises them, or Error
 * `backend copy: the WAL checkpoint did not complete`; the copy's come through `copied`.
 */
export function startBackendCopy(db: Database, destPath: string, signal?: AbortSignal): Promise<HeldCopy> {
  const s = state.get(db) ?? { tail: Promise.resolve(), frozen: false };
  state.set(db, s);
  let freezeEnded!: () => void;
  const ended = new Promise<void>((resolve) => (freezeEnded = resolve));
  const start = (): HeldCopy => {
    signal?.throwIfAborted();
    const cp = db.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get();
    if (cp?.busy) throw new Error("backend copy: the WAL checkpoint did not complete");
    db.run("PRAGMA wal_autocheckpoint = 0");
    s.frozen = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      s.frozen = false;
      restoreAutocheckpoint(db);
      freezeEnded();
    };
    const copied = (async () => {
      try {
        const source = backendDescriptor(db);
        await (source === undefined ? copyFile(db.filename, destPath) : copyFromDescriptor(source, destPath));
        signal?.throwIfAborted();
        const fd = openSync(destPath, "r+");
        try {
          writeSync(fd, Uint8Array.of(1, 1), 0, 2, 18);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        await rm(destPath, { force: true });
        throw e;
      }
    })();
    copied.catch(() => {}); // handled by whoever awaits it
    return { copied, release };
  };
  const started = s.tail.then(start, start);
  // The next copy starts once this one's freeze ended (at once when it could not start).
  s.tail = started.then(
    () => ended,
    () => {},
  );
  return started;
}

/**
 * Writes a copy of `db`'s file (as of the call, or later when copies queue) to `destPath`, as a
 * plain rollback-journal SQLite file (header bytes 18 and 19 set to 1, SQLite file format §1.3)
 * that opens read-only or ATTACHes without a WAL. `db` must not be inside a transaction when the
 * copy starts (the caller's apply loop commits synchronously, so an async caller never is).
 * `signal` abandons the copy (and removes `destPath`) with the signal's reason. Errors: file
 * system errors (e.g. ENOSPC) and SQLite errors as they are; the freeze always ends.
 */
export async function copyBackendFile(db: Database, destPath: string, signal?: AbortSignal): Promise<void> {
  const held = await startBackendCopy(db, destPath, signal);
  try {
    await held.copied;
  } finally {
    held.release();
  }
}
