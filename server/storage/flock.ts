/**
 * An exclusive flock(2) on a file, held through a descriptor of its own: the lock bbolt takes on
 * etcd's db file (bolt.Open: `flock(fd, LOCK_EX|LOCK_NB)`), so a second etcd fails on it at once.
 *
 * Why not only SQLite's own lock: SQLite locks with POSIX record locks (fcntl), which a process
 * loses, all of them, as soon as it closes ANY descriptor of the file, e.g. one that copied it
 * (server/storage/backend-copy.ts), and SQLite would never notice. A flock belongs to its open
 * file description and lasts until that one is closed; on Linux the two kinds do not interact.
 * Node and Bun have no flock, so it is called in libc through Bun's FFI (server/runtime/libc.ts).
 */
import { closeSync, constants, fstatSync, openSync, statSync } from "node:fs";
import { errno, libc } from "../runtime/libc.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
/** EWOULDBLOCK (= EAGAIN) on Linux: someone else holds the lock. */
const EWOULDBLOCK = 11;

/**
 * The files (`dev:ino`) this process holds a lock on. A second lock of one is refused before a
 * descriptor is opened: closing that descriptor after a failed flock would drop the process's
 * POSIX locks on the file, those of the connection holding it included.
 */
const heldFiles = new Set<string>();

/** The key of a file in {@link heldFiles}: `dev:ino` of its stat. */
function inodeKey(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

/** {@link inodeKey} of `path`, undefined when it does not exist (stat(2): no descriptor opened). */
function fileKey(path: string): string | undefined {
  try {
    return inodeKey(statSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Moves the file offset of `fd` (e.g. a lock's descriptor) back to the start, for a reader that
 * reads from the current offset (Bun's file copy). Throws `lseek: errno <n>` on failure.
 */
export function rewind(fd: number): void {
  if (libc().lseek(fd, 0, 0 /* SEEK_SET */) !== 0n) throw new Error(`lseek: errno ${errno()}`);
}

/** A held lock; `release()` (idempotent) closes its descriptor and so ends it. */
export interface FileLock {
  /**
   * The lock's read-only descriptor of the file, open until release(). Read the file through it
   * rather than through a descriptor of your own: closing that one would drop the process's
   * POSIX locks on the file (SQLite's).
   */
  readonly fd: number;
  release(): void;
}

/**
 * Takes an exclusive flock on `path` (created empty, mode 0600, when missing) without waiting.
 * Returns the lock, or undefined when another process holds one or this one does (then without
 * opening the file: see heldFiles). Throws open(2)'s error, or `flock <path>: errno <n>` for any
 * other flock failure.
 */
export function tryLockFile(path: string): FileLock | undefined {
  const known = fileKey(path);
  if (known !== undefined && heldFiles.has(known)) return undefined;
  const fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  if (libc().flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const code = errno();
    closeSync(fd);
    if (code === EWOULDBLOCK) return undefined;
    throw new Error(`flock ${path}: errno ${code}`);
  }
  const key = inodeKey(fstatSync(fd));
  heldFiles.add(key);
  let held = true;
  return {
    fd,
    release() {
      if (!held) return;
      held = false;
      heldFiles.delete(key);
      closeSync(fd);
    },
  };
}
