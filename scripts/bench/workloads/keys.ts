/**
 * Keys and values of the write workloads, encoded like etcd's `tools/benchmark`: a key is `--key-size` bytes holding
 * the key number as a zig-zag varint (Go's binary.PutVarint) followed by zero bytes; a value is `--val-size` random
 * bytes shared by every request.
 */
import { randomBytes } from "node:crypto";
import type { WorkloadOptions } from "../workload.ts";

/** Key spaces up to this many keys are pre-built once; larger ones are encoded per request. */
const PREBUILT_KEYS_MAX = 1 << 16;

/** Encodes key number `n` into a fresh `size`-byte key (zig-zag varint, zero padded; truncated if too long). */
export function encodeKey(n: number, size: number): Uint8Array {
  const key = new Uint8Array(size);
  let v = n * 2; // zig-zag of a non-negative number
  for (let i = 0; i < size; i++) {
    if (v < 0x80) {
      key[i] = v;
      break;
    }
    key[i] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  return key;
}

/** Random value of `size` bytes (`--val-size`), made once per workload. */
export function makeValue(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

/**
 * Picks the key number of request `seq`: `seq mod keySpaceSize` with `--sequential-keys`, otherwise uniformly random
 * in [0, keySpaceSize).
 */
export function keyNumber(seq: number, options: WorkloadOptions): number {
  return options.sequentialKeys ? seq % options.keySpaceSize : Math.floor(Math.random() * options.keySpaceSize);
}

/**
 * A table of pre-built per-key objects (e.g. prepared requests) for key spaces up to 2^16 keys; larger key spaces
 * build the object on each call.
 */
export function keyedTable<T>(options: WorkloadOptions, build: (key: Uint8Array) => T): (keyNo: number) => T {
  const make = (n: number) => build(encodeKey(n, options.keySize));
  if (options.keySpaceSize > PREBUILT_KEYS_MAX) return make;
  const table = Array.from({ length: options.keySpaceSize }, (_, n) => make(n));
  return (n) => table[n]!;
}
