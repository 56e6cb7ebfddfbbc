/**
 * `range` workload: each request is a KV.Range of one key (or `[key, end)`), linearizable (`--consistency l`, the
 * default) or serializable (`--consistency s`). Before the warm-up it writes a `--val-size` value at the key so
 * every read returns data. Mirrors `benchmark range <key> [end]` of etcd's tools/benchmark.
 */
import { create } from "@bufbuild/protobuf";
import { KV, PutRequestSchema, RangeRequestSchema } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Workload, WorkloadOptions } from "../workload.ts";
import { encodeKey, makeValue } from "./keys.ts";

const utf8 = new TextEncoder();

/** The key range mode reads: the range key argument as UTF-8, or key number 0 of the put key space. */
function rangeKey(o: WorkloadOptions): Uint8Array {
  return o.rangeKey ? utf8.encode(o.rangeKey) : encodeKey(0, o.keySize);
}

/** The range workload. */
export const rangeWorkload: Workload = {
  mode: "range",
  describe: (o) =>
    `range (${o.consistency === "s" ? "serializable" : "linearizable"}, ${o.rangeEnd ? "key range" : `1 key, value ${o.valSize} B`})`,
  async prepare({ options, caller }) {
    const put = create(PutRequestSchema, { key: rangeKey(options), value: makeValue(options.valSize) });
    await caller.prepareUnary(KV.method.put, put)(0);
  },
  operation({ options, caller }) {
    const range = caller.prepareUnary(
      KV.method.range,
      create(RangeRequestSchema, {
        key: rangeKey(options),
        rangeEnd: options.rangeEnd ? utf8.encode(options.rangeEnd) : new Uint8Array(0),
        serializable: options.consistency === "s",
      }),
    );
    return (_seq, client) => range(client);
  },
};
