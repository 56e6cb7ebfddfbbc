/**
 * `etcdctl auth status` (etcdctl 3.5; etcdctl and etcd 3.4 have neither the command nor the RPC,
 * so this runs our etcdctl against our server): the two lines of etcdctl 3.5's simple printer,
 * the whole response with `-w json`, `table not supported as output format` (exit 4), extra
 * arguments refused (exit 128), and the revision moving with auth changes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cleanup, IS_REAL_ETCD, ourEtcdctlBin, run, startEtcd } from "../server/e2e/harness.ts";

afterAll(async () => {
  await cleanup();
});

describe.skipIf(IS_REAL_ETCD)("etcdctl auth status (etcdctl 3.5)", () => {
  test("off, then on after auth enable; json; unsupported formats and arguments", async () => {
    const m = await startEtcd({ name: "auth-status" });
    const ctl = (args: string[]) => run([ourEtcdctlBin(), "--endpoints", m.endpoint, ...args], { env: { ETCDCTL_API: "3" } });
    const before = await ctl(["auth", "status"]);
    expect([before.code, before.stdout]).toEqual([0, "Authentication Status: false\nAuthRevision: 1\n"]);

    expect((await ctl(["user", "add", "root:pw"])).code).toBe(0);
    expect((await ctl(["auth", "enable"])).code).toBe(0);
    const after = await ctl(["--user", "root:pw", "auth", "status"]);
    expect(after.code).toBe(0);
    const [status, revision] = after.stdout.split("\n");
    expect(status).toBe("Authentication Status: true");
    expect(Number(/^AuthRevision: (\d+)$/.exec(revision!)![1])).toBeGreaterThan(1);

    const json = await ctl(["--user", "root:pw", "-w", "json", "auth", "status"]);
    const body = JSON.parse(json.stdout) as { header: { member_id: unknown }; enabled: boolean; authRevision: number };
    expect(body.enabled).toBe(true);
    expect(body.header.member_id).toBeDefined();

    const table = await ctl(["--user", "root:pw", "-w", "table", "auth", "status"]);
    expect([table.code, table.stderr]).toEqual([4, "Error: table not supported as output format\n"]);
    const extra = await ctl(["--user", "root:pw", "auth", "status", "x"]);
    expect([extra.code, extra.stderr]).toEqual([128, "Error: auth status command does not accept any arguments\n"]);
    await m.stop();
  }, 60_000);
});
