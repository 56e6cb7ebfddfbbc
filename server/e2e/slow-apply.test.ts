/**
 * `--experimental-warning-apply-duration`: with a threshold of 1ns every request is "slow", so the
 * release binary and real etcd 3.4.23 log `apply request took too long` for each of the same
 * requests (Go etcdctl put, get, txn, lease grant, a failing compaction); the lines must carry the
 * same fields, request texts and response sizes (request IDs and durations aside), and
 * `etcd_server_slow_apply_total` counts them.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, goEtcdctl, httpGet, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(60_000);

let servers: { name: string; p: EtcdProcess }[] = [];
beforeAll(async () => {
  const flags = ["--experimental-warning-apply-duration", "1ns", "--logger", "zap"];
  const [ours, real] = await Promise.all([
    startEtcd({ name: "slow", extraArgs: flags }),
    startEtcd({ name: "slow-ref", bin: "/usr/bin/etcd", extraArgs: flags }),
  ]);
  servers = [{ name: "ours", p: ours }, { name: "etcd 3.4", p: real }];
});
afterAll(cleanup);

/** The slow/failed-request lines of `log` for our requests, IDs and durations blanked. */
function warnings(log: string): Record<string, unknown>[] {
  return log
    .split("\n")
    .filter((l) => l.startsWith("{") && /"(apply request took too long|failed to apply request)"/.test(l))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => String(l.prefix ?? "") !== "" || String(l.request).startsWith("header:"))
    .map(({ level, msg, took, request, ...rest }) => ({
      level,
      msg,
      took: typeof took === "string" && /^[\d.]+(ns|µs|ms|s)$/.test(took) ? "<took>" : took,
      request: String(request).replace(/ID:\d+/, "ID:<id>"),
      ...Object.fromEntries(Object.entries(rest).filter(([k]) => !["ts", "caller"].includes(k))),
    }));
}

test("the same requests give the same `apply request took too long` lines as etcd 3.4, and are counted", async () => {
  const logs: Record<string, Record<string, unknown>[]> = {};
  for (const { name, p } of servers) {
    const ctl = (args: string[], stdin?: string) => goEtcdctl(p.endpoint, args, stdin === undefined ? {} : { stdin });
    const before = warnings(p.log()).length;
    await ctl(["put", "foo", "bar"]);
    await ctl(["get", "foo"]);
    await ctl(["txn"], 'value("foo") = "bar"\n\nput foo x\nget foo --prefix\n\ndel foo\n\n');
    await ctl(["put", "--prev-kv", "k\u0001", "v"]);
    await ctl(["compact", "2"]);
    await ctl(["compact", "2"]); // already compacted: also `failed to apply request`
    await Bun.sleep(300);
    logs[name] = warnings(p.log()).slice(before);
    const metrics = await httpGet(p.endpoint, "/metrics");
    expect(Number(/^etcd_server_slow_apply_total (\d+)/m.exec(metrics.body)?.[1])).toBeGreaterThanOrEqual(logs[name]!.filter((l) => l.msg === "apply request took too long").length);
  }
  expect(logs["etcd 3.4"]!.length).toBe(7);
  expect(logs["etcd 3.4"]!.at(-1)).toMatchObject({ msg: "failed to apply request", error: "mvcc: required revision has been compacted" });
  expect(logs.ours).toEqual(logs["etcd 3.4"]!);
});
