/**
 * `move-leader`: our etcdctl against the Go etcdctl 3.4 on one real 3-member etcd 3.4 cluster.
 * Errors must be byte-identical. Transfers are compared with the IDs named by role (old leader,
 * new leader): Go moves leadership away and ours moves it back, or the other way round.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "./testing/etcd-process.ts";
import { ctl, expectSameOutput, GO_ETCDCTL, OUR_ETCDCTL, startEtcdCluster, text, type CtlRun, type EtcdCluster } from "./testing/etcd-cluster.ts";

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Every member as an endpoint, so that move-leader finds the leader among them. */
const all = () => ["--endpoints", cluster.endpoints.join(",")];

/** Member ID (hex) and leader flag of each endpoint, from Go's `endpoint status`. */
async function roles(): Promise<{ endpoint: string; id: string; leader: boolean }[]> {
  const out = text(await ctl(GO_ETCDCTL, [...all(), "endpoint", "status"]));
  return out
    .trim()
    .split("\n")
    .map((l) => l.split(", "))
    .map((c) => ({ endpoint: c[0]!, id: c[1]!, leader: c[4] === "true" }));
}

async function leaderAndFollower(): Promise<{ leader: string; follower: string; followers: string[] }> {
  const r = await roles();
  const followers = r.filter((m) => !m.leader);
  return { leader: r.find((m) => m.leader)!.id, follower: followers[0]!.id, followers: followers.map((m) => m.endpoint) };
}

describe("move-leader against etcd 3.4 (Go etcdctl vs ours)", () => {
  test("argument errors, unknown target, no leader among the endpoints, unreachable endpoint", async () => {
    for (const args of [[], ["zz"], ["1", "2"], ["--", "-1"], ["1ffffffffffffffff"], ["1"]]) {
      await expectSameOutput([...all(), "move-leader", ...args]);
    }
    const { leader, followers } = await leaderAndFollower();
    await expectSameOutput(["--endpoints", followers.join(","), "move-leader", leader]);
    await expectSameOutput(["--endpoints", `http://${followers[0]}`, "move-leader", leader]);
    const dead = `127.0.0.1:${await freePort()}`;
    await expectSameOutput(["--endpoints", `${dead},${cluster.endpoints[0]}`, "--command-timeout=300ms", "move-leader", leader]);
  }, 30_000);

  test("to the leader itself, and each output format of a transfer", async () => {
    const { leader } = await leaderAndFollower();
    await expectSameOutput([...all(), "move-leader", leader, "-w", "simple"]);
    for (const format of ["simple", "json", "protobuf", "fields", "table"]) {
      const runs: Record<string, { run: CtlRun; from: string; to: string }> = {};
      for (const [who, cmd] of [
        ["go", GO_ETCDCTL],
        ["ours", OUR_ETCDCTL],
      ] as const) {
        const { leader: from, follower: to } = await leaderAndFollower();
        runs[who] = { run: await ctl(cmd, [...all(), "move-leader", to, "-w", format]), from, to };
        expect((await leaderAndFollower()).leader).toBe(to);
      }
      const byRole = ({ run, from, to }: { run: CtlRun; from: string; to: string }) => ({
        format,
        stdout: text(run).replaceAll(from, "<from>").replaceAll(to, "<to>"),
        stderr: run.stderr,
        code: run.code,
      });
      expect(byRole(runs.ours!)).toEqual(byRole(runs.go!));
      if (format === "simple") expect(byRole(runs.go!).stdout).toBe("Leadership transferred from <from> to <to>\n");
    }
  }, 30_000);
});
