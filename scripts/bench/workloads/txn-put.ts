/**
 * `txn-put` workload: each request is a KV.Txn with no compares whose success branch holds `--txn-ops` puts of
 * `--key-size` keys with `--val-size` values. The keys of one txn are consecutive numbers (mod `--key-space-size`,
 * which must be ≥ `--txn-ops` since etcd rejects duplicate keys in a txn) starting at `seq * txnOps` with
 * `--sequential-keys`, else at a random key. Mirrors `benchmark txn-put` of etcd's tools/benchmark.
 */
import { create } from "@bufbuild/protobuf";
import { KV, RequestOpSchema, TxnRequestSchema, type RequestOp } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { Workload } from "../workload.ts";
import { keyNumber, keyedTable, makeValue } from "./keys.ts";

/** The txn-put workload. */
export const txnPutWorkload: Workload = {
  mode: "txn-put",
  describe: (o) =>
    `txn-put (${o.txnOps} put${o.txnOps === 1 ? "" : "s"}/txn, key ${o.keySize} B, value ${o.valSize} B, ` +
    `key space ${o.keySpaceSize}${o.sequentialKeys ? " sequential" : ""})`,
  operation({ options: o, caller }) {
    const value = makeValue(o.valSize);
    const putOp = (key: Uint8Array) => create(RequestOpSchema, { request: { case: "requestPut", value: { key, value } } });
    const prepareTxn = (success: RequestOp[]) => caller.prepareUnary(KV.method.txn, create(TxnRequestSchema, { success }));
    if (o.txnOps === 1) {
      const txn = keyedTable(o, (key) => prepareTxn([putOp(key)]));
      return (seq, client) => txn(keyNumber(seq, o))(client);
    }
    const op = keyedTable(o, putOp);
    return (seq, client) => {
      const first = keyNumber(seq * o.txnOps, o);
      const success: RequestOp[] = [];
      for (let i = 0; i < o.txnOps; i++) success.push(op((first + i) % o.keySpaceSize));
      return prepareTxn(success)(client);
    };
  },
};
