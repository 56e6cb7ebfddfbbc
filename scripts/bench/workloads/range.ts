/**
 * `range` workload: each request is a KV.Range, linearizable (`--consistency l`, the default) or serializable
 * (`--consistency s`), of one of:
 * - the `[key, end)` arguments (or the single key) given on the command line; before the warm-up it writes a
 *   `--val-size` value at the key;
 * - without arguments and `--range-keys 1` (the default): key number 0 of the put key space, written first;
 * - without arguments and `--range-keys n > 1`: the n keys `range-bench/00000` ... written first in Txns, all read
 *   by every request (prefix `range-bench/`).
 * Mirrors `benchmark range <key> [end]` of etcd's tools/benchmark.
 */
import { create } from "@bufbuild/protobuf";
import { KV, PutRequestSchema, RangeRequestSchema } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Workload, WorkloadOptions } from "../workload.ts";
import { encodeKey, makeValue } from "./keys.ts";
import { preloadKeys } from "./preload.ts";

const utf8 = new TextEncoder();

/** Prefix of the keys of `--range-keys n > 1`. */
const MANY_KEYS_PREFIX = "range-bench/";

/** Whether the workload reads the `--range-keys` prefix rather than one key or the given range. */
function readsPrefix(o: WorkloadOptions): boolean {
  return !o.rangeKey && o.rangeKeys > 1;
}

/** The key range mode reads: the range key argument as UTF-8, the prefix, or key number 0 of the put key space. */
function rangeKey(o: WorkloadOptions): Uint8Array {
  if (o.rangeKey) return utf8.encode(o.rangeKey);
  return readsPrefix(o) ? utf8.encode(MANY_KEYS_PREFIX) : encodeKey(0, o.keySize);
}

/** The range_end: the argument, the prefix's end, or empty (one key). */
function rangeEnd(o: WorkloadOptions): Uint8Array {
  if (o.rangeKey) return o.rangeEnd ? utf8.encode(o.rangeEnd) : new Uint8Array(0);
  if (!readsPrefix(o)) return new Uint8Array(0);
  const end = utf8.encode(MANY_KEYS_PREFIX);
  end[end.length - 1]! += 1;
  return end;
}

/** The range workload. */
export const rangeWorkload: Workload = {
  mode: "range",
  describe: (o) =>
    `range (${o.consistency === "s" ? "serializable" : "linearizable"}, ` +
    `${o.rangeKey && o.rangeEnd ? "key range" : readsPrefix(o) ? `${o.rangeKeys} keys` : "1 key"}, value ${o.valSize} B)`,
  async prepare({ options, caller }) {
    const value = makeValue(options.valSize);
    if (readsPrefix(options)) {
      const width = String(options.rangeKeys - 1).length;
      await preloadKeys(caller, options.rangeKeys, (n) => utf8.encode(MANY_KEYS_PREFIX + String(n).padStart(width, "0")), value);
      return;
    }
    await caller.prepareUnary(KV.method.put, create(PutRequestSchema, { key: rangeKey(options), value }))(0);
  },
  operation({ options, caller }) {
    const range = caller.prepareUnary(
      KV.method.range,
      create(RangeRequestSchema, { key: rangeKey(options), rangeEnd: rangeEnd(options), serializable: options.consistency === "s" }),
    );
    return (_seq, client) => range(client);
  },
};
