/**
 * `v2-set` workload: each request is a v2 keys API set (`PUT /v2/keys/bench/<key> value=...`, as
 * `etcdctl set` sends it with ETCDCTL_API=2) of a `--key-size` key (hex in the path, random or
 * sequential in `--key-space-size`) with a `--val-size` value, over HTTP/1.1 keep-alive fetch.
 * Both servers run with `--enable-v2` when this workload is in the run (scripts/benchmark.ts).
 */
import type { Workload } from "../workload.ts";
import { encodeKey, keyNumber, keyedTable } from "./keys.ts";

/** The v2-set workload. */
export const v2SetWorkload: Workload = {
  mode: "v2-set",
  describe: (o) => `v2 set (key ${o.keySize} B, value ${o.valSize} B, key space ${o.keySpaceSize}${o.sequentialKeys ? " sequential" : ""})`,
  operation({ options, endpoint }) {
    const body = "value=" + Buffer.from(encodeKey(1, Math.ceil(options.valSize / 2))).toString("hex").slice(0, options.valSize).padEnd(options.valSize, "v");
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const url = keyedTable(options, (key) => `${endpoint}/v2/keys/bench/${Buffer.from(key).toString("hex")}`);
    return async (seq) => {
      const res = await fetch(url(keyNumber(seq, options)), { method: "PUT", body, headers });
      await res.arrayBuffer();
      if (res.status !== 200 && res.status !== 201) throw new Error(`v2 set: HTTP ${res.status}`);
    };
  },
};
