/**
 * `--log-outputs` as etcd 3.4 with `--logger=zap` (embed/config_logging.go): a list of `default`
 * (stderr here; etcd logs to journald under systemd, and systemd sends our stderr to the journal
 * anyway), `stderr`, `stdout`, `journal` (also stderr: no journald socket client here) or file
 * paths, each line written to every output. Files are opened for appending and created if
 * missing (zap's file sink: O_WRONLY|O_APPEND|O_CREATE, 0666 before umask).
 */
import { closeSync, openSync, writeSync } from "node:fs";

/** Where log lines go. */
export interface LogOutputs {
  /** Writes one complete line (with its newline) to every output. */
  write(line: string): void;
  /** Closes the files. */
  close(): void;
}

/** The process's standard streams, replaceable in tests. */
export interface StdStreams {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Opens `outputs` (default `["default"]`). Throws an Error with etcd's text:
 * `multi logoutput for "default" is not supported yet` when `default` is listed with others;
 * `open sink "<path>": open <path>: <reason>` when a file cannot be opened (e.g. `no such file
 * or directory`, `permission denied`, `is a directory`).
 */
export function openLogOutputs(outputs: readonly string[] | undefined, std: StdStreams): LogOutputs {
  const list = outputs && outputs.length > 0 ? [...new Set(outputs)] : ["default"];
  if (list.length > 1 && list.includes("default")) throw new Error('multi logoutput for "default" is not supported yet');
  const writers: ((line: string) => void)[] = [];
  const fds: number[] = [];
  try {
    for (const out of list) {
      if (out === "default" || out === "stderr" || out === "journal") writers.push(std.stderr);
      else if (out === "stdout") writers.push(std.stdout);
      else {
        let fd: number;
        try {
          fd = openSync(out, "a", 0o666);
        } catch (e) {
          throw new Error(`open sink ${JSON.stringify(out)}: open ${out}: ${errnoText(e)}`);
        }
        fds.push(fd);
        writers.push((line) => void writeSync(fd, line));
      }
    }
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
  return {
    write(line) {
      for (const w of writers) w(line);
    },
    close() {
      for (const fd of fds.splice(0)) closeSync(fd);
    },
  };
}

/** Go's text of an errno (syscall.Errno.Error) for the codes a file sink meets. */
function errnoText(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    case "EROFS":
      return "read-only file system";
    default:
      return (e as Error).message;
  }
}
