/**
 * etcd's require-leader metadata (`hasleader: true`, clientv3.WithRequireLeader) on a 3-member
 * cluster of the release binary (or E2E_ETCD_BIN) that loses its majority:
 * - with a leader, calls carrying the metadata are served as any other;
 * - once the lone member knows no leader, a unary call with the metadata fails with Unavailable
 *   `etcdserver: no leader` while the same call without it goes on as before (a serializable
 *   range is still answered);
 * - the Go etcdctl's `watch` (which always asks for a leader) is cancelled by the member after
 *   three election timeouts without leader and exits, as against etcd 3.4
 *   (etcdserver/api/v3rpc/interceptor.go monitorLeader).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { bytes, grpcClients } from "./clients.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup, GO_ETCDCTL } from "./harness.ts";

setDefaultTimeout(90_000);

/** Short timeouts so the lost leader is noticed within seconds: 3 × 500 ms before streams end. */
const ELECTION_MS = 500;
const REQUIRE_LEADER = { headers: { hasleader: "true" } };

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ extraArgs: ["--heartbeat-interval", "50", "--election-timeout", String(ELECTION_MS)] });
});
afterAll(cleanup);

describe("require-leader (hasleader metadata)", () => {
  test("served while there is a leader; refused and streams cancelled once the majority is gone", async () => {
    const { kv } = grpcClients(cluster.members[0]!.clientUrl);
    const put = await kv.put({ key: bytes("rl"), value: bytes("1") }, REQUIRE_LEADER);
    expect(put.header?.revision).toBeGreaterThan(0n);

    const watch = Bun.spawn({
      cmd: [GO_ETCDCTL, `--endpoints=${cluster.members[0]!.clientUrl}`, "watch", "rl"],
      env: { ...process.env, ETCDCTL_API: "3" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => watch.kill("SIGKILL"), 60_000);
    try {
      await Bun.sleep(1_000); // the watch is open
      await cluster.kill9(1);
      await cluster.kill9(2);

      // The lone member steps down after its CheckQuorum election timeout and then knows no leader.
      const ask = () => kv.range({ key: bytes("rl"), serializable: true }, REQUIRE_LEADER).then(() => undefined, (e: unknown) => ConnectError.from(e));
      let err = await ask();
      for (let i = 0; i < 100 && err?.code !== Code.Unavailable; i++) {
        await Bun.sleep(100);
        err = await ask();
      }
      expect({ code: err?.code, message: err?.rawMessage }).toEqual({ code: Code.Unavailable, message: "etcdserver: no leader" });
      const plain = await kv.range({ key: bytes("rl"), serializable: true });
      expect(plain.count).toBe(1n);

      const [stdout, stderr, code] = await Promise.all([new Response(watch.stdout).text(), new Response(watch.stderr).text(), watch.exited]);
      // What etcd 3.4 makes the Go etcdctl 3.4 print and exit with (ExitInterrupted).
      expect({ signal: watch.signalCode, code, stdout, stderr }).toEqual({
        signal: null,
        code: 5,
        stdout: "",
        stderr: "watch was canceled (etcdserver: no leader)\nError: watch is canceled by the server\n",
      });
    } finally {
      clearTimeout(killer);
      watch.kill("SIGKILL");
    }
  });
});
