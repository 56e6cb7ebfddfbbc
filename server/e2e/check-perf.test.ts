/**
 * `etcdctl check perf --load s --auto-compact --auto-defrag` (a 60 s run) by Go etcdctl 3.4 and
 * ours side by side on one server, each with its own `--prefix`: the output has the same shape
 * (the progress bar frames without a terminal, the compaction and defragment lines, the verdict
 * lines; not the numbers nor the verdict, which depends on the machine's load), each verdict follows
 * its three checks and the exit code follows the verdict, and the prefix is empty afterwards.
 * Also the refusals before a run: an unknown load (exit 4) and a prefix that has keys (exit 3).
 * Passes with E2E_ETCD_BIN=/usr/bin/etcd.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cleanup, ETCDCTLS, type EtcdProcess, goEtcdctl, startEtcd } from "./harness.ts";

setDefaultTimeout(180_000);

let etcd: EtcdProcess;

beforeAll(async () => {
  etcd = await startEtcd({ name: "checkperf" });
});
afterAll(cleanup);

/** A frame of the bar without a terminal, and the finished one. */
const FRAME = /^ \d+ \/ 60 +\d+\.\d\d%( \d\dm\d\ds)?$/;
const FINAL = /^ \d+ \/ 60 +\d+\.\d\d% \d+m\d+s$/;

/**
 * The shape of a run's stdout: the bar frames checked and collapsed, the finished bar line moved
 * to the end of the bar (etcdctl's bar goroutine races with the compaction lines), numbers as N.
 */
function shape(stdout: string, endpoint: string): string[] {
  const firstNewline = stdout.indexOf("\n");
  const frames = stdout.slice(0, firstNewline).split("\r").slice(1);
  const lastFrame = frames.pop()!;
  let rest = stdout.slice(firstNewline + 1).split("\n");
  let final = lastFrame;
  if (!FINAL.test(lastFrame)) {
    // Go: "...\r 59 / 60   98.33%Compacting with revision 9007\n\r 60 / 60  100.00% 1m0s\n"
    const m = /^( \d+ \/ 60 +\d+\.\d\d%(?: \d\dm\d\ds)?)(.*)$/.exec(lastFrame)!;
    frames.push(m[1]!);
    const at = rest.findIndex((l) => l.startsWith("\r"));
    final = rest[at]!.slice(1);
    rest = [m[2]!, ...rest.slice(0, at), ...rest.slice(at + 1)];
  }
  for (const f of frames) expect(f).toMatch(FRAME);
  expect(final).toMatch(FINAL);
  expect(frames[0]).toBe(" 0 / 60    0.00%");
  return [
    "<bar>",
    ...rest
      .filter((l) => l !== "")
      .map((l) =>
        l
          .replaceAll(endpoint, "<endpoint>")
          .replace(/^FAIL: Throughput too low: \d+ writes\/s$|^PASS: Throughput is \d+ writes\/s$/, "<throughput>")
          .replace(/^PASS: Slowest request took [\d.]+s$|^Slowest request took too long: [\d.]+s$/, "<slowest>")
          .replace(/^PASS: Stddev is [\d.]+s$|^Stddev too high: [\d.]+s$/, "<stddev>")
          .replace(/^(PASS|FAIL)$/, "<verdict>")
          .replace(/\d+/g, "N"),
      ),
  ];
}

test("Go etcdctl and ours: same shape of output; exit code follows the verdict; the prefix is cleaned up", async () => {
  const hostport = etcd.endpoint.replace("http://", "");
  const runs = await Promise.all(
    ETCDCTLS.map(({ name, run }) =>
      run(hostport, ["check", "perf", "--load", "s", "--prefix", `/perf-${name.split(" ")[0]}/`, "--auto-compact", "--auto-defrag"], { timeoutMs: 150_000 }),
    ),
  );
  const shapes = runs.map((r) => shape(r.stdout, hostport));
  expect(shapes[1]).toEqual(shapes[0]!);
  expect(shapes[0]!.slice(0, 5)).toEqual(["<bar>", "Compacting with revision N", "Compacted with revision N", 'Defragmenting "<endpoint>"', 'Defragmented "<endpoint>"']);
  expect(shapes[0]!.slice(5, 8)).toEqual(["<throughput>", "<slowest>", "<stddev>"]);
  // The verdicts themselves may differ: both runs share the machine, and under load one can miss
  // the throughput bar. Each run's verdict follows its own three lines, and its exit code the verdict.
  for (const r of runs) {
    expect(r.stderr).toBe("");
    const checks = r.stdout.split("\n").filter((l) => /(Throughput|Slowest request|Stddev)/.test(l));
    expect(checks.length).toBe(3);
    const passed = checks.every((l) => l.startsWith("PASS: "));
    expect(r.stdout.endsWith(passed ? "\nPASS\n" : "\nFAIL\n")).toBe(true);
    expect(r.code).toBe(passed ? 0 : 1);
  }
  const left = await goEtcdctl(etcd.endpoint, ["get", "--prefix", "/perf-", "--keys-only"]);
  expect([left.code, left.stdout]).toEqual([0, ""]);
});

for (const { name, run } of ETCDCTLS) {
  test(`${name}: unknown load, prefix with keys`, async () => {
    expect(await run(etcd.endpoint, ["check", "perf", "--load", "huge"])).toEqual({ stdout: "", stderr: "Error: unknown load option huge\n", code: 4 });
    await goEtcdctl(etcd.endpoint, ["put", "/busy/k", "v"]);
    expect(await run(etcd.endpoint, ["check", "perf", "--prefix", "/busy/"])).toEqual({
      stdout: "",
      stderr: 'Error: prefix "/busy/" has keys. Delete with etcdctl del --prefix /busy/ first\n',
      code: 3,
    });
  });
}
