/**
 * Discovery bootstrap through the release binaries (etcd op-guide/clustering.md):
 * - `--discovery <url>/v2/keys/discovery/<token>`: three members form a cluster through another
 *   cluster's v2 keys API; a fourth is refused by the full cluster (`--discovery-fallback exit`
 *   and the default `proxy`, which this server refuses), an unknown token fails.
 * - `--discovery-srv <domain>`: three members form a cluster from SRV records
 *   `_etcd-server._tcp.<domain>`, three more with TLS peers from `_etcd-server-ssl-blue._tcp`
 *   (`--discovery-srv-name blue`), served by a dnsmasq this test starts on a free loopback port
 *   (our resolver is pointed at it with the `ETCD_TS_DNS_SERVER` test hook); `etcdctl
 *   --discovery-srv` (v2 mode) finds the members from `_etcd-client._tcp.<domain>`.
 *
 * The discovery service is the server under test (`E2E_ETCD_BIN`, default our release binary)
 * with `--enable-v2`, or the real etcd 3.4 with `E2E_DISCOVERY_SERVICE=etcd`. The members under test are
 * `E2E_ETCD_BIN` (default our release binary); the SRV cases need our binary (Go's resolver
 * cannot be sent to a DNS server on a non-standard port).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { makeTestPki } from "./certs.ts";
import { cleanup, etcdBin, freePort, goEtcdctl, IS_REAL_ETCD, makeTempDir, ourEtcdctlBin, run, startEtcd, waitHealthy, type EtcdProcess } from "./harness.ts";

const DISCOVERY_BIN = process.env.E2E_DISCOVERY_SERVICE === "etcd" ? "/usr/bin/etcd" : etcdBin();
const DNSMASQ = "/usr/sbin/dnsmasq";

let service: EtcdProcess;

beforeAll(async () => {
  service = await startEtcd({ name: "discovery-service", bin: DISCOVERY_BIN, extraArgs: ["--enable-v2"] });
}, 30_000);

afterAll(async () => {
  await cleanup();
}, 30_000);

/** Creates a discovery token of `size` members on the service; returns its URL. */
async function newToken(size: number): Promise<string> {
  const token = crypto.randomUUID().replaceAll("-", "");
  const url = `${service.endpoint}/v2/keys/discovery/${token}`;
  const r = await fetch(`${url}/_config/size`, { method: "PUT", body: new URLSearchParams({ value: String(size) }) });
  expect(r.status).toBe(201);
  return url;
}

/** Flags of a member without `--initial-cluster` (discovery supplies it). */
async function memberFlags(name: string, dir: string): Promise<{ args: string[]; clientPort: number; peerPort: number; dataDir: string }> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(dir, `${name}.etcd`);
  const args = ["--name", name, "--data-dir", dataDir, "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--logger", "zap"];
  return { args, clientPort, peerPort, dataDir };
}

/** The command-line flags each started member got (to restart it the same way). */
const argsOf = new Map<EtcdProcess, string[]>();

async function startMembers(names: string[], extra: (name: string) => string[], env: Record<string, string> = {}): Promise<EtcdProcess[]> {
  const dir = makeTempDir("discovery");
  const members = await Promise.all(
    names.map(async (name) => {
      const f = await memberFlags(name, dir);
      const extraArgs = [...f.args, ...extra(name)];
      const m = await startEtcd({ name, dataDir: f.dataDir, clientPort: f.clientPort, peerPort: f.peerPort, standardFlags: false, extraArgs, env, waitReady: false });
      argsOf.set(m, extraArgs);
      return m;
    }),
  );
  await Promise.all(members.map((m) => waitHealthy(m, 40_000)));
  return members;
}

/** The `member list` line names of a cluster, sorted. */
async function memberNames(endpoint: string): Promise<string[]> {
  const r = await goEtcdctl(endpoint, ["member", "list"]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split("\n").map((l) => l.split(", ")[2]!).sort();
}

describe("--discovery", () => {
  let url: string;
  let members: EtcdProcess[] = [];

  test("three members form a cluster through the discovery token", async () => {
    url = await newToken(3);
    members = await startMembers(["d1", "d2", "d3"], () => ["--discovery", url]);
    expect(await memberNames(members[0]!.endpoint)).toEqual(["d1", "d2", "d3"]);
    const put = await goEtcdctl(members[1]!.endpoint, ["put", "k", "v"]);
    expect(put.code).toBe(0);
    const get = await goEtcdctl(members[2]!.endpoint, ["get", "k", "--print-value-only"]);
    expect(get.stdout).toBe("v\n");
    const listed = (await (await fetch(`${url}?recursive=true`)).json()) as { node: { nodes: { key: string; value?: string }[] } };
    const registered = listed.node.nodes.filter((n) => !n.key.endsWith("/_config")).map((n) => n.value!.split("=")[0]).sort();
    expect(registered).toEqual(["d1", "d2", "d3"]);
  }, 90_000);

  test("a discovered member restarts on its data: the token is not asked again", async () => {
    const m = members[0]!;
    await m.stop();
    const again = await startEtcd({ name: m.name, dataDir: m.dataDir, clientPort: m.clientPort, peerPort: m.peerPort, standardFlags: false, extraArgs: argsOf.get(m)!, waitReady: false });
    await waitHealthy(again, 40_000);
    expect(await memberNames(again.endpoint)).toEqual(["d1", "d2", "d3"]);
    if (!IS_REAL_ETCD) expect(again.log()).toContain("discovery token is ignored since cluster already initialized");
  }, 60_000);

  test("a fourth member is refused by the full cluster (--discovery-fallback exit)", async () => {
    const f = await memberFlags("d4", makeTempDir("discovery"));
    const r = await run([etcdBin(), ...f.args, "--discovery", url, "--discovery-fallback", "exit"], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("failed to bootstrap; discovery token was already used");
    expect(r.stderr).toContain("failed to join discovery cluster (discovery: cluster is full)");
  }, 40_000);

  test("a fourth member with the default --discovery-fallback proxy stops: no proxy mode", async () => {
    if (IS_REAL_ETCD) return; // etcd 3.4 becomes a v2 proxy here
    const f = await memberFlags("d4", makeTempDir("discovery"));
    const r = await run([etcdBin(), ...f.args, "--discovery", url], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("discovery cluster is full, falling back to proxy");
    expect(r.stderr).toContain("proxy mode is not supported by this etcd");
  }, 40_000);

  test("an unknown token fails with the discovery service's error", async () => {
    const f = await memberFlags("x1", makeTempDir("discovery"));
    const bad = `${service.endpoint}/v2/keys/discovery/no-such-token`;
    const r = await run([etcdBin(), ...f.args, "--discovery", bad, "--discovery-fallback", "exit"], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed to join discovery cluster \(100: Key not found \(\/discovery\/no-such-token\) \[\d+\]\)/);
  }, 40_000);

  test("a duplicate name among the registered members fails with etcd's duplicate-name error", async () => {
    const token = await newToken(2);
    // Someone already registered a member called "dup" under another ID.
    await fetch(`${token}/0123456789abcdef`, { method: "PUT", body: new URLSearchParams({ value: "dup=http://127.0.0.1:1" }) });
    const f = await memberFlags("dup", makeTempDir("discovery"));
    const r = await run([etcdBin(), ...f.args, "--discovery", token, "--discovery-fallback", "exit"], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("member with duplicated name has already been registered");
    // Nothing was bootstrapped: the data dir stays empty.
    if (!IS_REAL_ETCD) expect(existsSync(join(f.dataDir, "member", "db"))).toBe(false);
  }, 40_000);
});

describe("--discovery-proxy", () => {
  test("the discovery traffic goes through the HTTP proxy", async () => {
    let proxied = 0;
    // A forward proxy: requests come in absolute form (`GET http://host/path`), answers stream back.
    const proxy = http.createServer((req, res) => {
      proxied++;
      const target = new URL(req.url!);
      const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.once("error", () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const port = (proxy.address() as { port: number }).port;
      const url = await newToken(1);
      const [m] = await startMembers(["p1"], () => ["--discovery", url, "--discovery-proxy", `http://127.0.0.1:${port}`]);
      expect(await memberNames(m!.endpoint)).toEqual(["p1"]);
      expect(proxied).toBeGreaterThanOrEqual(3);
    } finally {
      proxy.close();
    }
  }, 60_000);
});

describe("--discovery-srv with a loopback DNS server (our etcd)", () => {
  let dns: ChildProcess | undefined;
  let dnsPort = 0;
  const domain = "etcd-test.internal";
  const names = ["s1", "s2", "s3"];
  const ports: { client: number; peer: number }[] = [];
  const sslPorts: { client: number; peer: number }[] = [];

  beforeAll(async () => {
    if (IS_REAL_ETCD || !existsSync(DNSMASQ)) return;
    dnsPort = await freePort();
    for (let i = 0; i < names.length; i++) ports.push({ client: await freePort(), peer: await freePort() });
    // Targets are address literals: the members dial each other through the system resolver,
    // which knows nothing of this DNS server.
    const records = names.flatMap((_, i) => [
      `--srv-host=_etcd-server._tcp.${domain},127.0.0.1,${ports[i]!.peer},0,10`,
      `--srv-host=_etcd-client._tcp.${domain},127.0.0.1,${ports[i]!.client},0,10`,
    ]);
    // Peers over TLS, found under _etcd-server-ssl-<srv-name>._tcp (--discovery-srv-name).
    for (let i = 0; i < names.length; i++) sslPorts.push({ client: await freePort(), peer: await freePort() });
    records.push(...sslPorts.map((p) => `--srv-host=_etcd-server-ssl-blue._tcp.${domain},127.0.0.1,${p.peer},0,10`));
    // etcdctl v2 needs a v2 API: the client records of this domain name the discovery service.
    records.push(`--srv-host=_etcd-client._tcp.v2.${domain},127.0.0.1,${service.clientPort},0,10`);
    dns = spawn(DNSMASQ, ["--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon", `--port=${dnsPort}`, "--listen-address=127.0.0.1", "--bind-interfaces", "--user=root", "--pid-file=", ...records], {
      stdio: "ignore",
    });
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(() => {
    if (dns?.pid && dns.exitCode === null) process.kill(dns.pid, "SIGTERM");
  });

  test("three members form a cluster from _etcd-server._tcp records", async () => {
    if (IS_REAL_ETCD || !existsSync(DNSMASQ)) return;
    const env = { ETCD_TS_DNS_SERVER: `127.0.0.1:${dnsPort}` };
    const dir = makeTempDir("srv");
    const members = await Promise.all(
      names.map((name, i) => {
        const client = `http://127.0.0.1:${ports[i]!.client}`;
        const peer = `http://127.0.0.1:${ports[i]!.peer}`;
        const args = ["--name", name, "--data-dir", join(dir, name), "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", `http://127.0.0.1:${ports[i]!.peer}`, "--initial-advertise-peer-urls", peer, "--discovery-srv", domain];
        return startEtcd({ name, dataDir: join(dir, name), clientPort: ports[i]!.client, peerPort: ports[i]!.peer, standardFlags: false, extraArgs: args, env, waitReady: false });
      }),
    );
    await Promise.all(members.map((m) => waitHealthy(m, 40_000)));
    expect(await memberNames(members[0]!.endpoint)).toEqual(names);
  }, 90_000);

  test("https peers from _etcd-server-ssl-<name>._tcp records (--discovery-srv-name, peer mTLS)", async () => {
    if (IS_REAL_ETCD || !existsSync(DNSMASQ)) return;
    const pki = makeTestPki(makeTempDir("srv-pki"), { peerCns: ["peer"] });
    const peer = pki.peers.peer!;
    const env = { ETCD_TS_DNS_SERVER: `127.0.0.1:${dnsPort}` };
    const dir = makeTempDir("srv-ssl");
    const members = await Promise.all(
      ["b1", "b2", "b3"].map((name, i) => {
        const p = sslPorts[i]!;
        const client = `http://127.0.0.1:${p.client}`;
        const peerUrl = `https://127.0.0.1:${p.peer}`;
        const args = ["--name", name, "--data-dir", join(dir, name), "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
          "--peer-cert-file", peer.cert, "--peer-key-file", peer.key, "--peer-trusted-ca-file", pki.ca, "--peer-client-cert-auth",
          "--discovery-srv", domain, "--discovery-srv-name", "blue"];
        return startEtcd({ name, dataDir: join(dir, name), clientPort: p.client, peerPort: p.peer, standardFlags: false, extraArgs: args, env, waitReady: false });
      }),
    );
    await Promise.all(members.map((m) => waitHealthy(m, 40_000)));
    expect(await memberNames(members[2]!.endpoint)).toEqual(["b1", "b2", "b3"]);
    const list = await goEtcdctl(members[0]!.endpoint, ["member", "list"]);
    expect(list.stdout.match(/https:\/\/127\.0\.0\.1:\d+/g)!.length).toBe(3);
  }, 90_000);

  test("etcdctl v2 --discovery-srv finds the endpoints from _etcd-client._tcp (http ones only with --insecure-discovery)", async () => {
    if (IS_REAL_ETCD || !existsSync(DNSMASQ)) return;
    const env = { ETCDCTL_API: "2", ETCD_TS_DNS_SERVER: `127.0.0.1:${dnsPort}` };
    const ctl = await run([ourEtcdctlBin(), "--discovery-srv", `v2.${domain}`, "--insecure-discovery", "member", "list"], { env });
    expect([ctl.code, ctl.stderr]).toEqual([0, ""]);
    expect(ctl.stdout).toContain(`name=discovery-service peerURLs=http://127.0.0.1:${service.peerPort} clientURLs=${service.endpoint} isLeader=true`);
    // Without --insecure-discovery the http endpoints are dropped, as etcdctl does, and --endpoints is used.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const strict = await run([ourEtcdctlBin(), "-D", `v2.${domain}`, "--endpoints", dead, "get", "/x"], { env });
    expect(strict.stderr).toContain(`ignoring discovered insecure endpoint "http://127.0.0.1.:${service.clientPort}"\nError:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp ${dead.slice(7)}: connect: connection refused`);
    expect(strict.code).toBe(2);
  }, 30_000);

  test("a member missing from the SRV records is refused", async () => {
    if (IS_REAL_ETCD || !existsSync(DNSMASQ)) return;
    const f = await memberFlags("stranger", makeTempDir("srv"));
    const r = await run([etcdBin(), ...f.args, "--discovery-srv", domain], { env: { ETCD_TS_DNS_SERVER: `127.0.0.1:${dnsPort}` }, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot find local etcd member \\"stranger\\" in SRV records');
  }, 40_000);
});
