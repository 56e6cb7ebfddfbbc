/**
 * Makes the backend's last commits durable without blocking the event loop: fdatasync(2) of
 * SQLite's write-ahead log (`<db>-wal`) on the runtime's thread pool.
 *
 * The Ready loop (server/node/raft-driver.ts) commits its transaction with `synchronous=NORMAL`
 * (SQLite writes the WAL frames but does not fsync them), then calls {@link LogSync.sync} and
 * holds back everything that promises durability (answers, watch events, a follower's
 * acknowledgements and votes) until it reports success. While the disk flushes, the member parses
 * and proposes the next requests, as etcd's goroutines do while its WAL fsyncs (etcdserver/raft.go).
 *
 * Why this is enough: fdatasync flushes every write made to the file before the call, from any
 * descriptor, so after it the log on disk is the log SQLite wrote, including the commit (a later
 * crash cannot lose it; SQLite's WAL recovery keeps every complete, checksummed transaction). The
 * backend holds `locking_mode=EXCLUSIVE`, so the `-wal` file exists (and keeps its inode: a
 * checkpoint truncates or overwrites it, never replaces it) for as long as the connection is open.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fdatasync, openSync } from "node:fs";

/** An fsync of the backend's log that runs off the event loop. */
export interface LogSync {
  /**
   * Called right before the commit that {@link sync} will be asked to make durable. The WAL needs
   * nothing here; the simulated disk (server/sim/disk.ts) keeps the image a crash falls back to.
   */
  willCommit?(): void;
  /**
   * Flushes everything committed so far to disk; `done(null)` once it is durable, `done(error)`
   * when the flush failed (the member must treat that as fatal: etcd's WAL sync failure).
   */
  sync(done: (error: Error | null) => void): void;
  /** Releases the descriptor (after the flush in flight, if any). */
  close(): void;
}

/**
 * Opens the write-ahead log of `db` (a WAL-mode connection on a file) for {@link LogSync.sync}.
 * Throws the open(2) error (e.g. ENOENT when `db` is not in WAL mode).
 */
export function openWalSync(db: Database): LogSync {
  const fd = openSync(`${db.filename}-wal`, "r");
  let inFlight = 0;
  let closing = false;
  let closed = false;
  const release = () => {
    if (closing && inFlight === 0 && !closed) {
      closed = true;
      closeSync(fd);
    }
  };
  return {
    sync(done) {
      if (closing) {
        done(new Error("write-ahead log already closed"));
        return;
      }
      inFlight++;
      fdatasync(fd, (error) => {
        inFlight--;
        release();
        done(error ?? null);
      });
    },
    close() {
      closing = true;
      release();
    },
  };
}
