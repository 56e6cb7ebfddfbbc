/**
 * `delete` workload: each request is a KV.DeleteRange of one `--key-size` key. Before the warm-up it writes
 * `--delete-keys` keys numbered 0, 1, 2... (encoded as the put workload's keys) with `--val-size` values; request
 * `seq` deletes key `seq mod deleteKeys`, so the first `deleteKeys` requests of a server each remove a key (one new
 * revision) and later ones find nothing to delete. etcd's tools/benchmark has no delete mode; this one follows its
 * put mode.
 */
import { create } from "@bufbuild/protobuf";
import { DeleteRangeRequestSchema, KV } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Workload } from "../workload.ts";
import { encodeKey, makeValue } from "./keys.ts";
import { preloadKeys } from "./preload.ts";

/** The delete workload. */
export const deleteWorkload: Workload = {
  mode: "delete",
  describe: (o) => `delete (key ${o.keySize} B, ${o.deleteKeys.toLocaleString("en-US")} keys pre-written, deleted in order)`,
  async prepare({ options, caller }) {
    await preloadKeys(caller, options.deleteKeys, (n) => encodeKey(n, options.keySize), makeValue(options.valSize));
  },
  operation({ options, caller }) {
    const request = (key: Uint8Array) => caller.prepareUnary(KV.method.deleteRange, create(DeleteRangeRequestSchema, { key }));
    return (seq, client) => request(encodeKey(seq % options.deleteKeys, options.keySize))(client);
  },
};
