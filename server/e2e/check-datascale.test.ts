/**
 * `etcdctl check datascale --load s --auto-compact` by Go etcdctl 3.4 and ours, one after the
 * other on one server: the same shape of output (the start line, the bar frames counting 10000
 * puts, the compaction lines, `PASS: Approximate system memory used : N MB.`; on a server without
 * `process_resident_memory_bytes` in `/metrics`, the same FAIL lines) and exit code.
 * Passes with E2E_ETCD_BIN=/usr/bin/etcd.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, ETCDCTLS, type EtcdProcess, startEtcd } from "./harness.ts";

setDefaultTimeout(120_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "datascale" });
});
afterAll(cleanup);

/** The output with the bar frames checked and collapsed and numbers (with their sign) as N. */
function shape(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      // The memory figure is after − before and goes negative when the server gave memory back.
      if (!l.startsWith("\r")) return l.replace(/-?\d+(\.\d+)?/g, "N");
      const frames = l.split("\r").slice(1);
      for (const f of frames.slice(0, -1)) expect(f).toMatch(/^ \d+ \/ 10000 +\d+\.\d\d%( \d\dm\d\ds)?$/);
      expect(frames.at(-1)).toMatch(/^ 10000 \/ 10000  100\.00% \d+m?\d*s$/);
      expect(frames[0]).toBe(" 0 / 10000    0.00%");
      return "<bar>";
    });
}

test("Go etcdctl and ours print the same shape and exit alike", async () => {
  const runs = [];
  for (const { run } of ETCDCTLS) runs.push(await run(etcd.endpoint, ["check", "datascale", "--auto-compact"], { timeoutMs: 100_000 }));
  const [go, ours] = runs.map((r) => ({ code: r.code, stderr: r.stderr, shape: shape(r.stdout) }));
  expect(ours).toEqual(go!);
  expect(go!.shape.at(-1)).toMatch(/^PASS: Approximate system memory used : N MB\.$|^FAIL: Could not read process_resident_memory_bytes before the put operations\.$/);
});
