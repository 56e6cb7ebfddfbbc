/**
 * `put` workload: each request is a KV.Put of a `--key-size` key (random or sequential in `--key-space-size`) with
 * a `--val-size` value. Mirrors `benchmark put` of etcd's tools/benchmark.
 */
import { create } from "@bufbuild/protobuf";
import { KV, PutRequestSchema } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Workload } from "../workload.ts";
import { keyNumber, keyedTable, makeValue } from "./keys.ts";

/** The put workload. */
export const putWorkload: Workload = {
  mode: "put",
  describe: (o) => `put (key ${o.keySize} B, value ${o.valSize} B, key space ${o.keySpaceSize}${o.sequentialKeys ? " sequential" : ""})`,
  operation({ options, caller }) {
    const value = makeValue(options.valSize);
    const put = keyedTable(options, (key) => caller.prepareUnary(KV.method.put, create(PutRequestSchema, { key, value })));
    return (seq, client) => put(keyNumber(seq, options))(client);
  },
};
