/**
 * Auth across members: a 3-member cluster with `--auth-token jwt,...` (RS256 keys made with
 * openssl) and `--snapshot-count 100`.
 * - users, roles and `auth enable` made through one member hold on every member (replicated);
 * - a JWT minted by one member is accepted by the others; its claims are etcd's
 *   (`exp`, `revision`, `username`); after any auth change it is refused everywhere with
 *   `etcdserver: revision of auth store is old`, as a real etcd 3.4 with the same flags answers;
 * - a member that was down while users and permissions changed catches up by snapshot and
 *   enforces them (the auth tables travel in the snapshot).
 * Runs against real etcd too (E2E_ETCD_BIN=/usr/bin/etcd; there the lagging member catches up
 * from the log).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Auth, KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, callOutcome, text } from "./clients.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup, goEtcdctl, IS_REAL_ETCD, makeTempDir, startEtcd, type EtcdProcess } from "./harness.ts";

setDefaultTimeout(180_000);

const REFERENCE_BIN = process.env.E2E_REFERENCE_ETCD_BIN ?? "/usr/bin/etcd";

let cluster: TestCluster;
let ref: EtcdProcess;
let jwtFlag: string;

beforeAll(async () => {
  const dir = makeTempDir("jwt-keys");
  const priv = join(dir, "jwt.key");
  const pub = join(dir, "jwt.pub");
  execFileSync("openssl", ["genrsa", "-out", priv, "2048"], { stdio: "ignore" });
  execFileSync("openssl", ["rsa", "-in", priv, "-pubout", "-out", pub], { stdio: "ignore" });
  jwtFlag = `jwt,pub-key=${pub},priv-key=${priv},sign-method=RS256,ttl=10m`;
  [cluster, ref] = await Promise.all([
    TestCluster.start({ extraArgs: ["--auth-token", jwtFlag, "--snapshot-count", "100"] }),
    startEtcd({ name: "jwt-ref", bin: REFERENCE_BIN, extraArgs: ["--auth-token", jwtFlag] }),
  ]);
});
afterAll(cleanup);

function clients(endpoint: string) {
  const transport = createGrpcTransport({ baseUrl: endpoint });
  return { auth: createClient(Auth, transport), kv: createClient(KV, transport) };
}

/** Root, alice (READWRITE on prefix a/) and auth enabled, through `endpoint` with Go etcdctl. */
async function setUpAuth(endpoint: string): Promise<void> {
  for (const args of [
    ["user", "add", "root:rootpw"],
    ["user", "add", "alice:alicepw"],
    ["role", "add", "ra"],
    ["role", "grant-permission", "ra", "readwrite", "--prefix", "a/"],
    ["user", "grant-role", "alice", "ra"],
    ["auth", "enable"],
  ]) {
    const r = await goEtcdctl(endpoint, args);
    expect({ args, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ args, code: 0, stderr: "" });
  }
}

describe("JWT tokens and auth in a 3-member cluster", () => {
  let aliceToken = "";

  test("auth set up through one member holds on all; a JWT from n1 works on n2 and n3", async () => {
    await Promise.all([setUpAuth(cluster.members[0]!.clientUrl), setUpAuth(ref.endpoint)]);
    const n1 = clients(cluster.members[0]!.clientUrl);
    aliceToken = (await n1.auth.authenticate({ name: "alice", password: "alicepw" })).token;
    const [, payload] = aliceToken.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    expect(Object.keys(claims).sort()).toEqual(["exp", "revision", "username"]);
    expect(claims.username).toBe("alice");
    const root = (await n1.auth.authenticate({ name: "root", password: "rootpw" })).token;
    await n1.kv.put({ key: bytes("a/x"), value: bytes("1") }, { headers: { token: root } });
    for (const m of cluster.members.slice(1)) {
      const c = clients(m.clientUrl);
      const r = await c.kv.range({ key: bytes("a/x") }, { headers: { token: aliceToken } });
      expect(text(r.kvs[0]!.value)).toBe("1");
      expect(await callOutcome(() => c.kv.range({ key: bytes("b") }, { headers: { token: aliceToken } }))).toBe("7: etcdserver: permission denied");
      expect(await callOutcome(() => c.kv.range({ key: bytes("a/x") }))).toBe("3: etcdserver: user name is empty");
    }
    // Go etcdctl with a user on another member: the whole clientv3 flow.
    const g = await goEtcdctl(cluster.members[2]!.clientUrl, ["--user", "alice:alicepw", "get", "a/x"]);
    expect({ code: g.code, stdout: g.stdout }).toEqual({ code: 0, stdout: "a/x\n1\n" });
  });

  test("after an auth change a JWT is old everywhere, as in etcd 3.4", async () => {
    const refAlice = (await clients(ref.endpoint).auth.authenticate({ name: "alice", password: "alicepw" })).token;
    const change = (endpoint: string) => goEtcdctl(endpoint, ["--user", "root:rootpw", "role", "add", "other"]);
    expect((await change(cluster.members[0]!.clientUrl)).code).toBe(0);
    expect((await change(ref.endpoint)).code).toBe(0);
    const expected = "3: etcdserver: revision of auth store is old";
    expect(await callOutcome(() => clients(ref.endpoint).kv.range({ key: bytes("a/x") }, { headers: { token: refAlice } }))).toBe(expected);
    expect(
      await callOutcome(() => clients(ref.endpoint).kv.put({ key: bytes("a/y"), value: bytes("v") }, { headers: { token: refAlice } })),
    ).toBe(expected);
    for (const m of cluster.members) {
      const c = clients(m.clientUrl);
      // A read may reach a member that has not applied the change yet: wait for it.
      let got = "";
      for (let i = 0; i < 50 && got !== expected; i++) {
        got = await callOutcome(() => c.kv.range({ key: bytes("a/x") }, { headers: { token: aliceToken } }));
        if (got !== expected) await Bun.sleep(100);
      }
      expect(got).toBe(expected);
      expect(await callOutcome(() => c.kv.put({ key: bytes("a/y"), value: bytes("v") }, { headers: { token: aliceToken } }))).toBe(expected);
    }
  });

  test("a member down during auth changes catches up (by snapshot on ours) and enforces them", async () => {
    await cluster.members[2]!.proc!.stop();
    const n1 = clients(cluster.members[0]!.clientUrl);
    // A JWT carries the auth revision: after each change root needs a new one.
    const asRoot = async () => ({ headers: { token: (await n1.auth.authenticate({ name: "root", password: "rootpw" })).token } });
    await n1.auth.userAdd({ name: "bob", password: "bobpw" }, await asRoot());
    await n1.auth.roleAdd({ name: "rb" }, await asRoot());
    await n1.auth.roleGrantPermission({ name: "rb", perm: { permType: 0, key: bytes("b/"), rangeEnd: bytes("b0") } }, await asRoot());
    await n1.auth.userGrantRole({ user: "bob", role: "rb" }, await asRoot());
    await n1.auth.userRevokeRole({ name: "alice", role: "ra" }, await asRoot());
    // Enough writes that the leader compacts its log past n3 (snapshot every 100 entries).
    const root = await asRoot();
    for (let i = 0; i < 12; i++) {
      await Promise.all(Array.from({ length: 30 }, (_, j) => n1.kv.put({ key: bytes(`b/${i}-${j}`), value: bytes("v") }, root)));
    }
    await cluster.startMember(2);
    const n3 = cluster.members[2]!.clientUrl;
    const bob = await goEtcdctl(n3, ["--user", "bob:bobpw", "get", "b/0-0", "--consistency=s"]);
    expect({ code: bob.code, stdout: bob.stdout }).toEqual({ code: 0, stdout: "b/0-0\nv\n" });
    const alice = await goEtcdctl(n3, ["--user", "alice:alicepw", "get", "a/x", "--consistency=s"]);
    expect({ code: alice.code, stderr: alice.stderr.split("\n").filter((l) => l.startsWith("Error")) }).toEqual({
      code: 1,
      stderr: ["Error: etcdserver: permission denied"],
    });
    // Ours keeps min(5000, --snapshot-count) entries behind a snapshot, so n3 got one; etcd
    // keeps 5000 and lets it catch up from the log.
    if (!IS_REAL_ETCD) expect(cluster.members[2]!.proc!.log()).toContain("applied snapshot");
  });
});
