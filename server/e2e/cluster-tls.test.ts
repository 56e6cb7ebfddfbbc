/**
 * Peer TLS end to end, as etcd's security guide sets it up (Documentation/op-guide/security.md,
 * "Example 3"/"Example 4"): three members on `https://` peer URLs with `--peer-cert-file
 * --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth --peer-crl-file
 * --peer-cert-allowed-cn`; replication, lease calls forwarded from a follower and a snapshot
 * sent to a member that fell behind all travel over peer mTLS; a member whose certificate comes
 * from another CA, or carries another CN, cannot join and is logged as a rejected connection.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, grpcClients, text } from "./clients.ts";
import { makeTestPki, type CertPair, type TestPki } from "./certs.ts";
import { TestCluster } from "./cluster-harness.ts";
import { cleanup, goEtcdctl, IS_REAL_ETCD, makeTempDir, type RunResult, startEtcd } from "./harness.ts";

setDefaultTimeout(120_000);

const PEER_CN = "etcd-peer";
let pki: TestPki;
let cluster: TestCluster;

const peerCertArgs = (c: CertPair) => ["--peer-cert-file", c.cert, "--peer-key-file", c.key];

beforeAll(async () => {
  pki = makeTestPki(makeTempDir("pki"), { peerCns: [PEER_CN, "other-cn"], revokedPeerCn: PEER_CN });
  cluster = await TestCluster.start({
    peerScheme: "https",
    extraArgs: [
      "--peer-trusted-ca-file", pki.ca, "--peer-client-cert-auth", "--peer-crl-file", pki.crl,
      "--peer-cert-allowed-cn", PEER_CN, "--snapshot-count", "100",
    ],
    memberArgs: () => peerCertArgs(pki.peers[PEER_CN]!),
  });
});
afterAll(cleanup);

/** Go etcdctl against the given members' client URLs (default all). */
function ctl(args: string[], members?: number[]): Promise<RunResult> {
  return goEtcdctl(cluster.endpoints(members), ["--dial-timeout=3s", "--command-timeout=10s", ...args]);
}

/** Retries `args` while etcdctl fails with `transient` (e.g. the strict reconfiguration check right after start). */
async function ctlRetry(args: string[], transient: RegExp, timeoutMs = 15_000): Promise<RunResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ctl(args);
    if (r.code === 0 || !transient.test(r.stderr) || Date.now() > deadline) return r;
    await Bun.sleep(200);
  }
}

test("three members replicate over peer mTLS; member list shows https peer URLs", async () => {
  const list = JSON.parse((await ctl(["member", "list", "-w", "json"], [0])).stdout.replace(/"ID":(\d+)/g, '"ID":"$1"'));
  expect(list.members.map((m: { peerURLs: string[] }) => m.peerURLs[0]).sort()).toEqual(cluster.members.map((m) => m.peerUrl).sort());
  expect(cluster.members.every((m) => m.peerUrl.startsWith("https://"))).toBe(true);
  const leader = await cluster.waitLeader();
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  expect((await ctl(["put", "/peer-tls/a", "1"], [follower])).stdout).toBe("OK\n");
  for (const i of [0, 1, 2]) {
    expect((await ctl(["get", "/peer-tls/a", "--print-value-only"], [i])).stdout).toBe("1\n");
  }
});

test("lease calls on a follower are forwarded to the leader over peer TLS", async () => {
  const leader = await cluster.waitLeader();
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  const grant = await ctl(["lease", "grant", "60"], [follower]);
  const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1];
  expect(id).toBeDefined();
  expect((await ctl(["lease", "keep-alive", "--once", id!], [follower])).stdout).toBe(`lease ${id} keepalived with TTL(60)\n`);
  expect((await ctl(["lease", "timetolive", id!], [follower])).stdout).toMatch(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\)\\n$`));
});

test("a member that fell behind catches up over peer TLS (by snapshot on our server)", async () => {
  const leader = await cluster.waitLeader();
  const behind = [0, 1, 2].find((i) => i !== leader.index)!;
  await cluster.members[behind]!.proc!.stop();
  const { kv } = grpcClients(cluster.members[leader.index]!.clientUrl);
  for (let i = 0; i < 350; i++) await kv.put({ key: bytes(`/peer-tls/bulk/${i}`), value: bytes(String(i)) });
  await cluster.startMember(behind, { state: "new", initialCluster: cluster.initialCluster() });
  const lagging = grpcClients(cluster.members[behind]!.clientUrl).kv;
  const deadline = Date.now() + 20_000;
  let value = "";
  while (Date.now() < deadline && value !== "349") {
    const r = await lagging.range({ key: bytes("/peer-tls/bulk/349"), serializable: true }).catch(() => undefined);
    value = r?.kvs[0] ? text(r.kvs[0].value) : "";
    if (value !== "349") await Bun.sleep(100);
  }
  expect(value).toBe("349");
  if (!IS_REAL_ETCD) expect(cluster.members[leader.index]!.proc!.log()).toContain("sent database snapshot");
});

for (const [label, cert, error] of [
  ["a certificate from another CA", () => pki.untrustedPeer, /unknown authority/],
  [`a CN other than ${PEER_CN}`, () => pki.peers["other-cn"]!, /client certificate authentication failed/],
  ["a revoked certificate (--peer-crl-file)", () => pki.revokedPeer, /revoked/],
  ["a certificate whose SANs do not name its address", () => pki.farPeer, /x509: certificate is valid for 10\.0\.0\.1, not 127\.0\.0\.1/],
] as const) {
  test(`a member with ${label} cannot join; the members log the rejected connection`, async () => {
    const slot = await cluster.addSlot();
    const m = cluster.members[slot]!;
    const added = await ctlRetry(["member", "add", m.name, "--learner", `--peer-urls=${m.peerUrl}`], /unhealthy cluster/);
    expect(added.code).toBe(0);
    const memberId = /^Member +([0-9a-f]+) added/m.exec(added.stdout)![1]!;
    const before = cluster.members.slice(0, 3).map((x) => x.proc!.log().length);
    const intruder = await startEtcd({
      name: m.name,
      standardFlags: false,
      dataDir: m.dataDir,
      clientPort: m.clientPort,
      peerPort: m.peerPort,
      extraArgs: [...cluster.flags(slot, "existing", cluster.initialCluster()), ...peerCertArgs(cert())],
      waitReady: false,
    });
    // It fails to fetch the cluster from its peers and exits (etcd: "cannot fetch cluster info from peer urls").
    const code = await Promise.race([intruder.exited, Bun.sleep(20_000).then(() => "still running")]);
    expect(code).not.toBe(0);
    if (code === "still running") await intruder.stop();
    const newLogs = cluster.members.slice(0, 3).map((x, i) => x.proc!.log().slice(before[i]));
    const rejected = newLogs.join("").split("\n").filter((l) => l.includes("rejected connection"));
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.join("\n")).toMatch(error);
    expect((await ctl(["member", "remove", memberId])).code).toBe(0);
    expect((await ctl(["put", "/peer-tls/still", "ok"])).stdout).toBe("OK\n");
  });
}

test("a member with a trusted certificate joins as a learner over peer TLS and is promoted through a follower", async () => {
  const slot = await cluster.addSlot();
  const m = cluster.members[slot]!;
  const added = await ctlRetry(["member", "add", m.name, "--learner", `--peer-urls=${m.peerUrl}`], /unhealthy cluster/);
  expect(added.code).toBe(0);
  const memberId = /^Member +([0-9a-f]+) added/m.exec(added.stdout)![1]!;
  await cluster.startMember(slot, { state: "existing", initialCluster: cluster.initialCluster([0, 1, 2, slot]) });
  const { kv } = grpcClients(m.clientUrl);
  const deadline = Date.now() + 20_000;
  let value = "";
  while (Date.now() < deadline && value !== "1") {
    const r = await kv.range({ key: bytes("/peer-tls/a"), serializable: true }).catch(() => undefined);
    value = r?.kvs[0] ? text(r.kvs[0].value) : "";
    if (value !== "1") await Bun.sleep(100);
  }
  expect(value).toBe("1");
  const leader = await cluster.waitLeader([0, 1, 2]);
  const follower = [0, 1, 2].find((i) => i !== leader.index)!;
  let promoted: RunResult | undefined;
  while (Date.now() < deadline + 10_000) {
    promoted = await ctl(["member", "promote", memberId], [follower]);
    if (promoted.code === 0 || !/in sync with leader|unhealthy cluster/.test(promoted.stderr)) break;
    await Bun.sleep(200);
  }
  expect(promoted!.stdout).toMatch(new RegExp(`^Member +${memberId} promoted in cluster +[0-9a-f]+\n$`));
  expect((await ctl(["member", "remove", memberId], [leader.index])).code).toBe(0);
});

test("--peer-auto-tls: three members on self-signed peer certificates under <data-dir>/fixtures/peer", async () => {
  const auto = await TestCluster.start({ peerScheme: "https", token: "auto-tls", extraArgs: ["--peer-auto-tls"] });
  try {
    const leader = await auto.waitLeader();
    const follower = [0, 1, 2].find((i) => i !== leader.index)!;
    const put = await goEtcdctl(auto.endpoints([follower]), ["put", "/auto-peer", "1"]);
    expect(put.stdout).toBe("OK\n");
    for (const m of auto.members) {
      expect(await Bun.file(`${m.dataDir}/fixtures/peer/cert.pem`).exists()).toBe(true);
      expect((await goEtcdctl(m.clientUrl, ["get", "/auto-peer", "--print-value-only"])).stdout).toBe("1\n");
    }
  } finally {
    await auto.stop();
  }
});
