/**
 * Health probes and peer metrics of a two-member cluster: while both run, `/health`, `/livez`
 * and `/readyz` pass and each member reports the Raft traffic to its peer in
 * `etcd_network_peer_sent_bytes_total{To}` / `received_bytes_total{From}`; once one member is
 * stopped the other has no quorum: `/health` and `/readyz` fail (`linearizable_read`), while
 * `/livez` and `/health?serializable=true` still pass. `/livez`, `/readyz` and `?serializable`
 * are etcd 3.5.11's; against real etcd 3.4.23 (`E2E_ETCD_BIN=/usr/bin/etcd`) only the 3.4 parts run.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import parse from "parse-prometheus-text-format";
import { join } from "node:path";
import { bytes, grpcClients } from "./clients.ts";
import { cleanup, freePort, goEtcdctl, httpGet, IS_REAL_ETCD, makeTempDir, startEtcd, type EtcdProcess } from "./harness.ts";
import { waitFor } from "../http/test-util.ts";

setDefaultTimeout(90_000);
afterAll(cleanup);

/** Starts members a and b of one two-member cluster and waits until both are healthy. */
async function twoMembers(): Promise<EtcdProcess[]> {
  const dir = makeTempDir("probes");
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const peer = (i: number) => `http://127.0.0.1:${ports[2 + i]}`;
  const start = (i: number) => {
    const name = ["a", "b"][i]!;
    const client = `http://127.0.0.1:${ports[i]}`;
    return startEtcd({
      name,
      standardFlags: false,
      dataDir: join(dir, `${name}.etcd`),
      clientPort: ports[i],
      peerPort: ports[2 + i],
      extraArgs: [
        "--name", name, "--data-dir", join(dir, `${name}.etcd`),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer(i), "--initial-advertise-peer-urls", peer(i),
        "--initial-cluster", `a=${peer(0)},b=${peer(1)}`,
      ],
    });
  };
  return Promise.all([start(0), start(1)]);
}

/** Polls `cond` (a failing request counts as false) every 200 ms for up to 20 s. */
const until = (what: string, cond: () => Promise<boolean>): Promise<void> => waitFor(() => cond().catch(() => false), what, 20_000, 200);

test("probes pass with a quorum, /health and /readyz fail without one while /livez passes; peer traffic is counted per peer", async () => {
  const [a, b] = await twoMembers();
  for (let i = 0; i < 20; i++) await grpcClients(a!.endpoint).kv.put({ key: bytes(`p${i}`), value: bytes("v") });
  expect(await httpGet(a!.endpoint, "/health")).toEqual({ status: 200, body: '{"health":"true"}' });
  if (!IS_REAL_ETCD) {
    expect(await httpGet(a!.endpoint, "/livez")).toEqual({ status: 200, body: "ok\n" });
    expect(await httpGet(a!.endpoint, "/readyz?verbose")).toEqual({
      status: 200,
      body: "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n",
    });
  }

  // Peer metrics: series labelled by the peer's hex member ID, with bytes in both directions.
  const bId = (await grpcClients(b!.endpoint).maintenance.status({})).header!.memberId.toString(16);
  const families = new Map(parse(await (await fetch(`${a!.endpoint}/metrics`)).text()).map((f) => [f.name, f]));
  const sent = families.get("etcd_network_peer_sent_bytes_total")!;
  const received = families.get("etcd_network_peer_received_bytes_total")!;
  expect(sent.type).toBe("COUNTER");
  expect(Number(sent.metrics.find((m) => m.labels?.To === bId)?.value)).toBeGreaterThan(0);
  expect(Number(received.metrics.find((m) => m.labels?.From === bId)?.value)).toBeGreaterThan(0);
  // Round trips: ours are timed by the leader per heartbeat; etcd records its probes every 30 s,
  // after this test's horizon (and Go's client lists a family only once it has a series).
  if (!IS_REAL_ETCD) {
    expect(families.get("etcd_network_peer_round_trip_time_seconds")?.type).toBe("HISTOGRAM");
    const counts = await Promise.all([a!, b!].map(async (p) => {
      const text = await (await fetch(`${p.endpoint}/metrics`)).text();
      return Number(/^etcd_network_peer_round_trip_time_seconds_count\{To="[0-9a-f]+"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    }));
    expect(counts[0]! + counts[1]!).toBeGreaterThan(0);
  }

  await b!.kill9();
  // The mixin's etcdMembersDown alert watches the send failures to a peer that is gone.
  await until("send failures to b", async () => {
    const now = new Map(parse(await (await fetch(`${a!.endpoint}/metrics`)).text()).map((f) => [f.name, f]));
    return Number(now.get("etcd_network_peer_sent_failures_total")?.metrics.find((m) => m.labels?.To === bId)?.value ?? 0) > 0;
  });
  await until("a to become unhealthy", async () => (await httpGet(a!.endpoint, "/health", 5_000)).status === 503);
  expect(await httpGet(a!.endpoint, "/health", 5_000)).toEqual({ status: 503, body: '{"health":"false"}\n' });
  if (!IS_REAL_ETCD) {
    await until("a to be not ready", async () => (await httpGet(a!.endpoint, "/readyz", 5_000)).status === 503);
    const ready = await httpGet(a!.endpoint, "/readyz", 5_000);
    expect(ready.body).toMatch(/^\[\+\]data_corruption ok\n\[\+\]serializable_read ok\n\[-\]linearizable_read failed: etcdserver: (no leader|request timed out)\n\n$/);
    expect(await httpGet(a!.endpoint, "/livez", 5_000)).toEqual({ status: 200, body: "ok\n" });
    expect(await httpGet(a!.endpoint, "/health?serializable=true", 5_000)).toEqual({ status: 200, body: '{"health":"true"}' });
    expect((await httpGet(a!.endpoint, "/readyz?exclude=linearizable_read", 5_000)).status).toBe(200);
    await until("has_leader 0", async () => {
      const now = new Map(parse(await (await fetch(`${a!.endpoint}/metrics`)).text()).map((f) => [f.name, f]));
      return now.get("etcd_server_has_leader")!.metrics[0]!.value === "0";
    });
  }
});

test("with auth enabled the probes still pass (they read as root, as etcd's health checks do)", async () => {
  const p = await startEtcd();
  for (const args of [["user", "add", "root:secret"], ["auth", "enable"]]) {
    const r = await goEtcdctl(p.endpoint, args);
    expect(r.code).toBe(0);
  }
  expect((await goEtcdctl(p.endpoint, ["put", "k", "v"])).code).not.toBe(0); // user name is empty
  expect(await httpGet(p.endpoint, "/health")).toEqual({ status: 200, body: '{"health":"true"}' });
  if (!IS_REAL_ETCD) {
    expect(await httpGet(p.endpoint, "/health?serializable=true")).toEqual({ status: 200, body: '{"health":"true"}' });
    expect(await httpGet(p.endpoint, "/readyz")).toEqual({ status: 200, body: "ok\n" });
    expect(await httpGet(p.endpoint, "/livez")).toEqual({ status: 200, body: "ok\n" });
  }
});
