/**
 * The libc calls Node and Bun do not offer, through Bun's FFI, bound once per process: unix
 * datagrams for systemd's readiness notification (server/systemd/notify.ts: socket, connect,
 * send, close) and the data dir lock (server/storage/flock.ts: flock, lseek). Linux x86-64
 * (`libc.so.6`), the only target of the release.
 */
import { dlopen, FFIType, read } from "bun:ffi";

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    lseek: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

let symbols: ReturnType<typeof openLibc> | undefined;

/** The bound functions (dlopen on first use). Throws dlopen's error when libc cannot be loaded. */
export function libc(): ReturnType<typeof openLibc> {
  return (symbols ??= openLibc());
}

/** This thread's errno after a failed call (read right after it, before any other libc call). */
export function errno(): number {
  return read.i32(libc().__errno_location()!, 0);
}
