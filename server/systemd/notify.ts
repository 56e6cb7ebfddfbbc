/**
 * systemd readiness notification (sd_notify(3)), as etcd sends it once the member serves
 * clients (etcdmain/main.go notifySystemd → go-systemd daemon.SdNotify): the text `READY=1`
 * in one datagram to the unix socket named by `NOTIFY_SOCKET` (a path, or `@name` for the
 * abstract namespace). Without `NOTIFY_SOCKET` nothing is sent.
 *
 * Node's and Bun's socket APIs cannot send unix datagrams (node:dgram is UDP only), and the
 * `systemd-notify` command sends from its own PID, which systemd ignores under the default
 * `NotifyAccess=main`. So the datagram is sent from this process through libc (socket,
 * connect, send, close) with Bun's FFI, as go-systemd does with DialUnix("unixgram").
 */
import { ptr } from "bun:ffi";
import { errno as lastErrno, libc } from "../runtime/libc.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(sockaddr_un.sun_path) on Linux. */
const SUN_PATH_BYTES = 108;

/** Go's texts of the errnos connect/send meet here (syscall.Errno.Error). */
const ERRNO_TEXT: Record<number, string> = {
  1: "operation not permitted",
  2: "no such file or directory",
  13: "permission denied",
  11: "resource temporarily unavailable",
  20: "not a directory",
  91: "protocol wrong type for socket",
  111: "connection refused",
};

/** The `sockaddr_un` of `name` (`@x` = abstract `\0x`) and its length, bytes. */
function socketAddress(name: string): { addr: Uint8Array; length: number } {
  const path = new TextEncoder().encode(name.startsWith("@") ? `\0${name.slice(1)}` : name);
  if (path.length >= SUN_PATH_BYTES) throw new Error(`dial unixgram ${name}: invalid argument`);
  const addr = new Uint8Array(2 + SUN_PATH_BYTES);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(path, 2);
  // Abstract names are exactly as long as given; paths end with their NUL (as Go computes it).
  return { addr, length: 2 + path.length + (name.startsWith("@") ? 0 : 1) };
}

/**
 * Sends `state` (e.g. `READY=1`) to `notifySocket` (the value of `NOTIFY_SOCKET`). Resolves
 * false without a socket name, true once sent. Throws an Error with go-systemd's text,
 * e.g. `dial unixgram /run/x: connect: no such file or directory`.
 */
export function sdNotify(state: string, notifySocket: string | undefined = process.env.NOTIFY_SOCKET): boolean {
  if (!notifySocket) return false;
  const c = libc();
  const { addr, length } = socketAddress(notifySocket);
  const errno = () => {
    const code = lastErrno();
    return ERRNO_TEXT[code] ?? `errno ${code}`;
  };
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`dial unixgram ${notifySocket}: socket: ${errno()}`);
  try {
    if (c.connect(fd, ptr(addr), length) !== 0) throw new Error(`dial unixgram ${notifySocket}: connect: ${errno()}`);
    const data = new TextEncoder().encode(state);
    if (Number(c.send(fd, ptr(data), data.length, MSG_NOSIGNAL)) !== data.length) {
      throw new Error(`write unixgram ->${notifySocket}: write: ${errno()}`);
    }
    return true;
  } finally {
    c.close(fd);
  }
}
