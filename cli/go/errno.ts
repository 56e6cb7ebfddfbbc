/**
 * Go's text for a system call error (syscall.Errno.Error()) from a Node-style error's `code`,
 * e.g. ENOENT → `no such file or directory`, for messages such as Go's *PathError
 * (`open <path>: <text>`). Unknown codes fall back to the error's own message.
 */
const GO_ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EEXIST: "file exists",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
};

/** The Go errno text of `e` (see module doc). */
export function goErrnoText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && GO_ERRNO_TEXT[code]) return GO_ERRNO_TEXT[code];
  return e instanceof Error ? e.message : String(e);
}

/** Go's *PathError text: `<op> <path>: <errno text>`. */
export function goPathError(op: string, path: string, e: unknown): string {
  return `${op} ${path}: ${goErrnoText(e)}`;
}
