/**
 * Opens a member's SQLite backend: `<data-dir>/member/db`.
 *
 * Mirrors etcd's backend open (mvcc/backend/backend.go, etcdserver/server.go): the member
 * directory is created with mode 0700 and the data file is held exclusively by this process
 * for its whole life: a flock(2) on it, as bbolt takes (server/storage/flock.ts), and SQLite's
 * own exclusive lock.
 */
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSchema } from "./schema.ts";
import { tryLockFile, type FileLock } from "./flock.ts";

/**
 * Thrown by {@link openBackend} when another process (or another open connection) already
 * holds the data dir. Message: `data dir "<dir>" is in use by another etcd process`.
 */
export class DataDirLockedError extends Error {
  /** The data dir that was asked for, as given. */
  readonly dataDir: string;

  constructor(dataDir: string) {
    super(`data dir "${dataDir}" is in use by another etcd process`);
    this.name = "DataDirLockedError";
    this.dataDir = dataDir;
  }
}

/** Path of the SQLite file inside a data dir: `<dataDir>/member/db`. */
export function backendPath(dataDir: string): string {
  return join(dataDir, "member", "db");
}

/** Go's text for the errno codes a data dir write can fail with (syscall.Errno.Error()). */
const GO_ERRNO_TEXT: Record<string, string> = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  ENOTDIR: "not a directory",
};

/**
 * etcd's `fileutil.TouchDirAll` check at start-up (etcdserver/server.go NewServer): creates
 * `dataDir` (mode 0700) and proves it writable by writing and removing `<dataDir>/.touch`.
 * Throws `cannot access data directory: open <dataDir>/.touch: read-only file system` (Go's
 * PathError text) when it is not.
 */
export function touchDataDir(dataDir: string): void {
  const touch = join(dataDir, ".touch");
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(touch, "", { mode: 0o600 });
    rmSync(touch);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    const text = GO_ERRNO_TEXT[code] ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`cannot access data directory: open ${touch}: ${text}`);
  }
}

/**
 * The backend's connection, holding the data dir's flock (server/storage/flock.ts) until it is
 * closed: SQLite's own exclusive lock alone is lost when the process closes any other descriptor
 * of the file (a copy of it), and a second etcd could then open the same data dir.
 */
class LockedBackend extends Database {
  constructor(
    path: string,
    readonly lock: FileLock,
  ) {
    super(path, { create: true, readwrite: true });
  }

  /** Closes the connection, then releases the data dir's lock. */
  override close(throwOnError?: boolean): void {
    try {
      super.close(throwOnError);
    } finally {
      this.lock.release();
    }
  }
}

/**
 * A read-only descriptor of `db`'s file that stays open as long as `db` (the data dir lock's), for
 * reading the file without opening it again: closing a descriptor of one's own would drop
 * SQLite's POSIX lock on it, and with it what keeps `etcdctl backup`/`migrate` off a running
 * member's data dir. Undefined for a connection not opened by {@link openBackend}.
 */
export function backendDescriptor(db: Database): number | undefined {
  return db instanceof LockedBackend ? db.lock.fd : undefined;
}

/** True when a bun:sqlite error says the file is locked by someone else. */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || /database is locked/i.test(String(err));
}

/**
 * Opens (creating if needed) the backend of `dataDir` and returns the connection.
 *
 * - creates `<dataDir>/member/` with mode 0700 and the file with mode 0600 (like bbolt's file);
 * - takes an exclusive flock on the file, released when the returned connection is closed;
 * - `locking_mode=EXCLUSIVE`, `auto_vacuum=INCREMENTAL` (new files), `journal_mode=WAL`, `synchronous=FULL`, `busy_timeout=0`;
 * - creates the schema (server/storage/schema.ts) in an immediate write transaction, which
 *   takes the file's exclusive lock and keeps it until `db.close()` or process exit.
 *
 * Errors: {@link DataDirLockedError} when another process holds the data dir (fails at once,
 * never waits); `cannot access data directory: ...` when it is not writable ({@link touchDataDir});
 * other filesystem/SQLite errors are rethrown as they are.
 */
export function openBackend(dataDir: string): Database {
  touchDataDir(dataDir);
  mkdirSync(join(dataDir, "member"), { recursive: true, mode: 0o700 });
  const lock = tryLockFile(backendPath(dataDir));
  if (!lock) throw new DataDirLockedError(dataDir);
  let db: Database;
  try {
    db = new LockedBackend(backendPath(dataDir), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
  try {
    db.run("PRAGMA busy_timeout = 0");
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    // Takes effect only on a new file (before its first table): lets Defragment free pages in
    // steps (server/storage/defrag.ts); older files are converted by their first Defragment.
    db.run("PRAGMA auto_vacuum = INCREMENTAL");
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = FULL");
    db.run("BEGIN IMMEDIATE");
    try {
      createSchema(db);
      // A real write, so the exclusive lock is taken now rather than at the first proposal.
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('storage_schema', 1)");
      db.run("COMMIT");
    } catch (err) {
      if (db.inTransaction) db.run("ROLLBACK");
      throw err;
    }
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new DataDirLockedError(dataDir);
    throw err;
  }
  chmodSync(backendPath(dataDir), 0o600);
  return db;
}
