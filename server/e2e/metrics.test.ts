/**
 * `/metrics` and the health probes of the release binary, checked against a scrape of the real
 * etcd 3.4.23 (`/usr/bin/etcd`, the reference) taken in the same test: the metrics etcd's
 * Grafana dashboard and the etcd-mixin alerts use have the same names, types and label names;
 * counters move under a load of puts, ranges, txns and deletes; histograms have etcd's buckets;
 * `--listen-metrics-urls` serves `/metrics` and `/health` on its own port; `--metrics extensive`
 * adds `grpc_server_handling_seconds`. Scrapes are parsed with parse-prometheus-text-format.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import parse, { type PromFamily } from "parse-prometheus-text-format";
import { existsSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { RequestOpSchema, TxnRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { bytes, grpcClients } from "./clients.ts";
import { makeTestPki } from "./certs.ts";
import { cleanup, type EtcdProcess, fetchTls, freePort, goEtcdctl, httpGet, makeTempDir, startEtcd } from "./harness.ts";

setDefaultTimeout(60_000);
afterAll(cleanup);

/** The reference server: real etcd 3.4.23 (Debian's etcd-server). */
const REFERENCE_ETCD = process.env.E2E_REFERENCE_ETCD_BIN ?? "/usr/bin/etcd";

/** The metrics the brief and etcd's dashboard/alerts rely on (etcdserver/metrics.go, mvcc, wal, backend, v3rpc, go-grpc-prometheus). */
const LISTED = [
  "etcd_server_has_leader",
  "etcd_server_is_leader",
  "etcd_server_leader_changes_seen_total",
  "etcd_server_id",
  "etcd_server_version",
  "etcd_server_proposals_committed_total",
  "etcd_server_proposals_applied_total",
  "etcd_server_proposals_pending",
  "etcd_server_proposals_failed_total",
  "etcd_server_slow_apply_total",
  "etcd_server_heartbeat_send_failures_total",
  "etcd_server_quota_backend_bytes",
  "etcd_server_is_learner",
  "etcd_server_health_success",
  "etcd_server_health_failures",
  "etcd_cluster_version",
  "etcd_mvcc_db_total_size_in_bytes",
  "etcd_mvcc_db_total_size_in_use_in_bytes",
  "etcd_debugging_mvcc_keys_total",
  "etcd_debugging_mvcc_watcher_total",
  "etcd_mvcc_put_total",
  "etcd_mvcc_range_total",
  "etcd_mvcc_delete_total",
  "etcd_mvcc_txn_total",
  "etcd_disk_wal_fsync_duration_seconds",
  "etcd_disk_backend_commit_duration_seconds",
  "etcd_network_client_grpc_sent_bytes_total",
  "etcd_network_client_grpc_received_bytes_total",
  "grpc_server_started_total",
  "grpc_server_handled_total",
  "grpc_server_handling_seconds",
  "grpc_server_msg_received_total",
  "grpc_server_msg_sent_total",
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_open_fds",
  "process_max_fds",
  "process_start_time_seconds",
  "process_virtual_memory_bytes",
];

/** A member started with `--listen-metrics-urls` and `--metrics extensive`. */
interface Scraped {
  p: EtcdProcess;
  metricsUrl: string;
}

async function startWithMetrics(bin?: string): Promise<Scraped> {
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const p = await startEtcd({
    name: bin ? "reference" : "e2e",
    // The harness starts etcdBin() through execPrefix, which must exec the server: run `bin` instead.
    execPrefix: bin ? ["sh", "-c", `shift; exec "${bin}" "$@"`, "sh"] : undefined,
    extraArgs: ["--listen-metrics-urls", metricsUrl, "--metrics", "extensive"],
  });
  return { p, metricsUrl };
}

async function scrape(base: string): Promise<{ text: string; families: Map<string, PromFamily> }> {
  const r = await fetch(`${base}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await r.text();
  return { text, families: new Map(parse(text).map((f) => [f.name, f])) };
}

/**
 * Label names of a family's sample lines (`name{a="..",b=".."}` and `name_bucket{...}` etc.),
 * without `le`: read from the lines because the parser merges the series of labelled histograms.
 */
function labelNames(text: string, name: string): string[] {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name}_bucket{`) && !line.startsWith(`${name}_count{`)) continue;
    for (const m of line.slice(line.indexOf("{")).matchAll(/([a-zA-Z_]\w*)="/g)) if (m[1] !== "le") names.add(m[1]!);
  }
  return [...names].sort();
}

/** Value of the sample of `name` whose labels include `labels`. */
function sample(f: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const m = f.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return Number(m?.value ?? m?.count);
}

/** Puts, ranges, a multi-op txn and deletes through gRPC, `rounds` of each, 8 at a time. */
async function load(endpoint: string, rounds: number): Promise<void> {
  const c = grpcClients(endpoint);
  for (let i = 0; i < rounds; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, rounds - i) }, async (_, j) => {
        const key = bytes(`m/${i + j}`);
        await c.kv.put({ key, value: bytes("v") });
        await c.kv.range({ key });
        await c.kv.txn(
          create(TxnRequestSchema, {
            success: [
              create(RequestOpSchema, { request: { case: "requestPut", value: { key: bytes(`t/${i + j}`), value: bytes("x") } } }),
              create(RequestOpSchema, { request: { case: "requestRange", value: { key } } }),
            ],
          }),
        );
        await c.kv.deleteRange({ key: bytes(`t/${i + j}`) });
      }),
    );
  }
}

describe("/metrics as etcd 3.4", () => {
  test("names, types and labels of the listed metrics match a scrape of real etcd 3.4.23; counters move under load; histograms have etcd's buckets", async () => {
    expect(existsSync(REFERENCE_ETCD)).toBe(true);
    const [ours, ref] = await Promise.all([startWithMetrics(), startWithMetrics(REFERENCE_ETCD)]);
    await Promise.all([load(ours.p.endpoint, 16), load(ref.p.endpoint, 16)]);
    const before = await scrape(ours.metricsUrl);
    // Scrape while a load runs: the scrape answers and counters have moved at the end.
    const running = load(ours.p.endpoint, 80);
    const during = await scrape(ours.metricsUrl);
    await running;
    const after = await scrape(ours.metricsUrl);
    const reference = await scrape(ref.metricsUrl);

    for (const name of LISTED) {
      const refFamily = reference.families.get(name);
      const ourFamily = after.families.get(name);
      expect({ name, present: !!ourFamily }).toEqual({ name, present: true });
      expect({ name, present: !!refFamily }).toEqual({ name, present: true });
      expect({ name, type: ourFamily!.type }).toEqual({ name, type: refFamily!.type });
      expect({ name, labels: labelNames(after.text, name) }).toEqual({ name, labels: labelNames(reference.text, name) });
      expect({ name, help: ourFamily!.help }).toEqual({ name, help: refFamily!.help });
    }
    expect(during.families.has("etcd_mvcc_put_total")).toBe(true);

    // Counters moved by the 80 rounds (each: 2 puts, 2 ranges, 1 txn, 1 delete through MVCC).
    const moved = (name: string, labels?: Record<string, string>) => sample(after.families, name, labels) - sample(before.families, name, labels);
    expect(moved("etcd_mvcc_put_total")).toBeGreaterThanOrEqual(160);
    expect(moved("etcd_mvcc_range_total")).toBeGreaterThanOrEqual(160);
    expect(moved("etcd_mvcc_txn_total")).toBeGreaterThanOrEqual(80);
    expect(moved("etcd_mvcc_delete_total")).toBeGreaterThanOrEqual(80);
    expect(moved("etcd_server_proposals_committed_total")).toBeGreaterThanOrEqual(240);
    expect(moved("etcd_server_proposals_applied_total")).toBeGreaterThanOrEqual(240);
    expect(moved("etcd_network_client_grpc_received_bytes_total")).toBeGreaterThan(0);
    expect(moved("etcd_network_client_grpc_sent_bytes_total")).toBeGreaterThan(0);
    const put = { grpc_type: "unary", grpc_service: "etcdserverpb.KV", grpc_method: "Put" };
    expect(moved("grpc_server_started_total", put)).toBe(80);
    expect(moved("grpc_server_handled_total", { ...put, grpc_code: "OK" })).toBe(80);
    expect(moved("grpc_server_msg_received_total", put)).toBe(80);
    expect(moved("grpc_server_msg_sent_total", put)).toBe(80);
    expect(moved("etcd_disk_wal_fsync_duration_seconds")).toBeGreaterThan(0);
    expect(sample(after.families, "etcd_server_has_leader")).toBe(1);
    expect(sample(after.families, "etcd_server_is_leader")).toBe(1);
    expect(sample(after.families, "etcd_debugging_mvcc_keys_total")).toBe(80);

    // Histograms: etcd's bucket bounds.
    for (const name of ["etcd_disk_wal_fsync_duration_seconds", "etcd_disk_backend_commit_duration_seconds"]) {
      const ourBuckets = Object.keys(after.families.get(name)!.metrics[0]!.buckets!);
      expect(ourBuckets.length).toBe(15);
      expect(ourBuckets).toEqual(Object.keys(reference.families.get(name)!.metrics[0]!.buckets!));
    }
    const handling = (text: string) => text.split("\n").filter((l) => l.startsWith("grpc_server_handling_seconds_bucket{") && l.includes('grpc_method="Put"')).map((l) => /le="([^"]+)"/.exec(l)![1]);
    expect(handling(after.text).length).toBe(12);
    expect(handling(after.text)).toEqual(handling(reference.text));

    // Every gRPC method etcd reports (grpc.health.v1 included) is reported by us, with the same type.
    const methods = (text: string) => new Set(text.split("\n").filter((l) => l.startsWith("grpc_server_started_total{")).map((l) => {
      const get = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(l)![1];
      return `${get("grpc_service")}/${get("grpc_method")} ${get("grpc_type")}`;
    }));
    const ourMethods = methods(after.text);
    const missing = [...methods(reference.text)].filter((m) => !ourMethods.has(m));
    expect(missing).toEqual([]);

    // A watch whose client goes away is handled with code Canceled, on both servers.
    const watchCanceled = { grpc_type: "bidi_stream", grpc_service: "etcdserverpb.Watch", grpc_method: "Watch", grpc_code: "Canceled" };
    for (const s of [ours, ref]) {
      const before = sample((await scrape(s.metricsUrl)).families, "grpc_server_handled_total", watchCanceled);
      await goEtcdctl(s.p.endpoint, ["watch", "w"], { timeoutMs: 1_500 });
      let now = before;
      for (let i = 0; i < 50 && now === before; i++) {
        await Bun.sleep(100);
        now = sample((await scrape(s.metricsUrl)).families, "grpc_server_handled_total", watchCanceled);
      }
      expect({ server: s.p.name, moved: now - before }).toEqual({ server: s.p.name, moved: 1 });
    }

    // The client port serves /metrics too.
    const onClientPort = await scrape(ours.p.endpoint);
    expect(onClientPort.families.has("etcd_server_has_leader")).toBe(true);
  });

  test("--listen-metrics-urls serves /metrics and /health, and 404 elsewhere, on both servers", async () => {
    for (const s of await Promise.all([startWithMetrics(), startWithMetrics(REFERENCE_ETCD)])) {
      const health = await httpGet(s.metricsUrl, "/health");
      expect(health).toEqual({ status: 200, body: '{"health":"true"}' });
      expect((await httpGet(s.metricsUrl, "/version")).status).toBe(404);
      expect((await httpGet(s.metricsUrl, "/v3/kv/range")).status).toBe(404);
    }
  });

  test("https:// --listen-metrics-urls serve TLS with the client certificate settings, on both servers", async () => {
    const dir = makeTempDir("metrics-tls");
    const pki = makeTestPki(dir);
    for (const bin of [undefined, REFERENCE_ETCD]) {
      const metricsPort = await freePort();
      const p = await startEtcd({
        name: bin ? "reference" : "e2e",
        execPrefix: bin ? ["sh", "-c", `shift; exec "${bin}" "$@"`, "sh"] : undefined,
        extraArgs: ["--listen-metrics-urls", `https://127.0.0.1:${metricsPort}`, "--cert-file", pki.server.cert, "--key-file", pki.server.key],
      });
      const res = await fetch(`https://127.0.0.1:${metricsPort}/metrics`, { tls: fetchTls({ ca: pki.ca }) } as RequestInit);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("etcd_server_has_leader 1");
      await p.stop();
    }
  });
});
