/**
 * Linearizability of a 3-member cluster under crashes: 6 clients (2 per member at first) read,
 * write and compare-and-set 3 keys while members are killed with SIGKILL and restarted (the
 * leader twice, a follower once). The recorded history (linearizability/) must be linearizable
 * for a register/CAS model per key, with unknown outcomes (timeouts, lost connections) treated
 * as possibly applied; and every acknowledged write must be in every member's MVCC history at
 * the revision it was acknowledged with (no acknowledged write lost, replicas agree).
 * The chaos schedule follows Jepsen's etcd test (kill -9, restart) at a much smaller scale.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients, text } from "./clients.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup, waitHealthy } from "./harness.ts";
import { checkHistory } from "./linearizability/checker.ts";
import { HistoryRecorder } from "./linearizability/recorder.ts";
import { runWorkload } from "./linearizability/workload.ts";

setDefaultTimeout(120_000);
afterAll(cleanup);

const KEYS = ["/lin/k0", "/lin/k1", "/lin/k2"];
const INITIAL = "init";

/** Logs one line with a prefix (bun test shows console output). */
function note(line: string): void {
  console.log(`[linearizability] ${line}`);
}

test("reads, writes and CAS under kill -9 and restarts are linearizable; no acknowledged write is lost", async () => {
  const cluster = await TestCluster.start();
  const endpoints = cluster.members.map((m) => m.clientUrl);
  for (const key of KEYS) await cluster.putUntilOk(0, key, INITIAL);

  const recorder = new HistoryRecorder();
  let stopped = false;
  const t0 = performance.now();
  const work = runWorkload({ endpoints, clients: 6, keys: KEYS, requestTimeoutMs: 3_000, stop: () => stopped }, recorder);

  const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const killAndRestart = async (which: "leader" | "follower", downMs: number) => {
    const leader = await cluster.waitLeader();
    const victim = which === "leader" ? leader.index : cluster.running().find((i) => i !== leader.index)!;
    await cluster.kill9(victim);
    note(`${at()}: kill -9 ${which} ${cluster.members[victim]!.name}`);
    await Bun.sleep(downMs);
    await cluster.startMember(victim, { waitReady: false });
    await waitHealthy(cluster.members[victim]!.proc!, 30_000);
    note(`${at()}: ${cluster.members[victim]!.name} restarted and healthy`);
  };
  try {
    await Bun.sleep(1_500);
    await killAndRestart("leader", 2_000);
    await Bun.sleep(1_000);
    await killAndRestart("follower", 1_500);
    await Bun.sleep(1_000);
    await killAndRestart("leader", 1_500);
    await Bun.sleep(1_000);
  } finally {
    stopped = true;
  }
  const stats = await work;
  note(`${at()}: ${stats.ok} ok, ${stats.unknown} unknown, ${stats.dropped} dropped; errors seen: ${stats.errorSamples.join(" | ")}`);

  // Final linearizable reads through every member belong to the history too.
  await cluster.waitLeader();
  for (const [i, endpoint] of endpoints.entries()) {
    const { kv } = grpcClients(endpoint);
    for (const key of KEYS) {
      const complete = recorder.invoke(100 + i, key, { kind: "read" });
      const res = await kv.range({ key: bytes(key) }, { timeoutMs: 10_000 });
      complete({ kind: "read", value: res.kvs[0] ? text(res.kvs[0].value) : null });
    }
  }

  const history = recorder.history();
  const count = (kind: string, ok?: boolean) =>
    history.filter((op) => op.input.kind === kind && op.output !== undefined && (ok === undefined || (op.output.kind === "cas" && op.output.ok === ok))).length;
  note(`reads ${count("read")}, writes ${count("write")}, CAS ${count("cas", true)} succeeded / ${count("cas", false)} failed`);
  const c0 = performance.now();
  const result = checkHistory(history, { initial: new Map(KEYS.map((k) => [k, INITIAL])) });
  note(
    `checked ${history.length} operations in ${(performance.now() - c0).toFixed(0)} ms: ` +
      result.keys.map((k) => `${k.key} ${k.ok} (${k.operations} ops, ${k.steps} steps)`).join("; "),
  );
  for (const k of result.keys.filter((k) => k.ok === false)) {
    note(`NOT linearizable: ${k.key}; longest linearizable prefix ends with:\n  ${k.longestPrefix!.slice(-10).join("\n  ")}`);
    note(`pending at the failure:\n  ${k.pendingAtFailure!.join("\n  ")}`);
  }
  expect(stats.ok).toBeGreaterThan(100);
  expect(history.filter((op) => op.input.kind !== "read" && op.output !== undefined).length).toBeGreaterThan(30);
  expect(result.ok).toBe(true);

  // Every acknowledged write is in every member's history at its revision.
  const lost: string[] = [];
  for (const endpoint of endpoints) {
    const { kv } = grpcClients(endpoint);
    await kv.range({ key: bytes(KEYS[0]!) }, { timeoutMs: 10_000 }); // linearizable: the member has applied everything acknowledged
    for (const w of stats.acked) {
      const res = await kv.range({ key: bytes(w.key), revision: w.revision, serializable: true }, { timeoutMs: 5_000 });
      const got = res.kvs[0];
      if (!got || text(got.value) !== w.value || got.modRevision !== w.revision) {
        lost.push(`${endpoint}: ${w.key}=${w.value}@${w.revision} -> ${got ? `${text(got.value)}@${got.modRevision}` : "missing"}`);
      }
    }
  }
  note(`${stats.acked.length} acknowledged writes checked on ${endpoints.length} members; ${lost.length} missing`);
  expect(lost).toEqual([]);
});
