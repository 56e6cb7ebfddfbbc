import { describe, expect, test } from "bun:test";
import parse from "parse-prometheus-text-format";
import { GrpcStats } from "./grpc-stats.ts";
import { countTxn, MemberCounters } from "./member-counters.ts";
import { createMetricsRegistry, type MemberMetricsSource } from "./registry.ts";
import { KV } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

function fakeMember(over: Partial<MemberMetricsSource> = {}): MemberMetricsSource & { counters: MemberCounters } {
  return {
    memberId: 0xabcn,
    counters: new MemberCounters(),
    hasLeader: () => true,
    isLeader: () => false,
    isLearner: () => false,
    committedIndex: () => 7,
    appliedIndex: () => 6,
    pendingProposals: () => 2,
    backendBytes: () => ({ total: 8192, inUse: 4096 }),
    liveKeys: () => 3,
    watchers: () => 4,
    watchStreams: () => 1,
    currentRevision: () => 9,
    compactRevision: () => 0,
    ...over,
  } as MemberMetricsSource & { counters: MemberCounters };
}

type Family = { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }[] };

async function scrape(r: ReturnType<typeof createMetricsRegistry>): Promise<Map<string, Family>> {
  return new Map((parse(await r.metrics()) as Family[]).map((f) => [f.name, f]));
}

const value = (f: Family | undefined, labels: Record<string, string> = {}) =>
  Number(f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

describe("metrics registry", () => {
  test("gauges are read at scrape time; counters report what the member counted", async () => {
    let leader = true;
    const member = fakeMember({ isLeader: () => leader });
    const r = createMetricsRegistry({ member, quotaBackendBytes: 0 });
    member.counters.put += 5;
    member.counters.leaderChanges++;
    let m = await scrape(r);
    expect(value(m.get("etcd_server_is_leader"))).toBe(1);
    expect(value(m.get("etcd_mvcc_put_total"))).toBe(5);
    expect(m.get("etcd_mvcc_put_total")!.type).toBe("COUNTER");
    expect(m.get("etcd_server_proposals_committed_total")!.type).toBe("GAUGE");
    expect(value(m.get("etcd_server_quota_backend_bytes"))).toBe(2 * 1024 ** 3);
    expect(value(m.get("etcd_server_id"), { server_id: "abc" })).toBe(1);
    expect(value(m.get("etcd_mvcc_db_total_size_in_use_in_bytes"))).toBe(4096);
    leader = false;
    member.counters.put += 2;
    m = await scrape(r);
    expect(value(m.get("etcd_server_is_leader"))).toBe(0);
    expect(value(m.get("etcd_mvcc_put_total"))).toBe(7);
    expect(m.has("process_cpu_seconds_total")).toBe(true);
    expect(m.has("process_resident_memory_bytes")).toBe(true);
  });

  test("disk histograms have etcd's buckets (1 ms doubling to 8.192 s), the WAL's counting synced commits only; slow applies are reported as counted", async () => {
    const member = fakeMember();
    const r = createMetricsRegistry({ member, quotaBackendBytes: 1000 });
    member.counters.observeCommit(3, true);
    member.counters.observeCommit(150, true);
    member.counters.observeCommit(1, false);
    member.counters.slowApply = 2;
    const m = await scrape(r);
    const h = m.get("etcd_disk_wal_fsync_duration_seconds")!;
    expect(h.type).toBe("HISTOGRAM");
    expect(Object.keys(h.metrics[0]!.buckets!)).toEqual(["0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "+Inf"]);
    expect(h.metrics[0]!.buckets!["0.004"]).toBe("1");
    expect(h.metrics[0]!.count).toBe("2");
    expect(m.get("etcd_disk_backend_commit_duration_seconds")!.metrics[0]!.count).toBe("3");
    expect(value(m.get("etcd_server_slow_apply_total"))).toBe(2);
    expect(value(m.get("etcd_server_quota_backend_bytes"))).toBe(1000);
  });

  test("gRPC methods are listed with zeros for every code; calls counted by path; handling histogram only with extensive", async () => {
    const basic = new GrpcStats(false);
    basic.addService(KV);
    const put = basic.forPath("/etcdserverpb.KV/Put")!;
    put.started += 2;
    put.finish(0, 1);
    put.finish(14, 1);
    let m = await scrape(createMetricsRegistry({ member: fakeMember(), grpc: basic, quotaBackendBytes: 0 }));
    const handled = m.get("grpc_server_handled_total")!;
    expect(handled.metrics.length).toBe(KV.methods.length * 17);
    const labels = { grpc_type: "unary", grpc_service: "etcdserverpb.KV", grpc_method: "Put" };
    expect(value(handled, { ...labels, grpc_code: "OK" })).toBe(1);
    expect(value(handled, { ...labels, grpc_code: "Unavailable" })).toBe(1);
    expect(value(m.get("grpc_server_started_total"), labels)).toBe(2);
    expect(m.has("grpc_server_handling_seconds")).toBe(false);

    const extensive = new GrpcStats(true);
    extensive.addService(KV);
    m = await scrape(createMetricsRegistry({ member: fakeMember(), grpc: extensive, quotaBackendBytes: 0 }));
    expect(m.get("grpc_server_handling_seconds")!.type).toBe("HISTOGRAM");
    // parse-prometheus-text-format merges the series of a labelled histogram: read the sample lines.
    const registry = createMetricsRegistry({ member: fakeMember(), grpc: extensive, quotaBackendBytes: 0 });
    const text = await registry.metrics();
    const series = 'grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Range"';
    extensive.forPath("/etcdserverpb.KV/Range")!.finish(0, 30);
    const again = await registry.metrics();
    expect(text).toContain(`grpc_server_handling_seconds_count{${series}} 0`);
    expect(again).toContain(`grpc_server_handling_seconds_bucket{le="0.025",${series}} 0`);
    expect(again).toContain(`grpc_server_handling_seconds_bucket{le="0.05",${series}} 1`);
    expect(again).toContain(`grpc_server_handling_seconds_count{${series}} 1`);
  });

  test("txn counting follows etcd's metricsTxnWrite: each op, and txn only for more than one op", () => {
    const c = new MemberCounters();
    const op = (kind: string, value: unknown = {}) => ({ response: { case: kind, value } });
    countTxn(c, { responses: [op("responsePut")] });
    expect([c.put, c.txn]).toEqual([1, 0]);
    countTxn(c, { responses: [op("responseRange"), op("responseTxn", { responses: [op("responseDeleteRange")] })] });
    expect([c.put, c.range, c.deleteRange, c.txn]).toEqual([1, 1, 1, 1]);
  });

  test("peer byte counters are labelled by peer ID", async () => {
    const member = fakeMember();
    member.counters.peers.sent("8e9e05c52164694d", 100);
    member.counters.peers.received("8e9e05c52164694d", 40);
    member.counters.peers.roundTrip("8e9e05c52164694d", 0.5);
    member.counters.peers.sentFailed("8e9e05c52164694d", 3);
    const m = await scrape(createMetricsRegistry({ member, quotaBackendBytes: 0 }));
    expect(value(m.get("etcd_network_peer_sent_bytes_total"), { To: "8e9e05c52164694d" })).toBe(100);
    expect(value(m.get("etcd_network_peer_received_bytes_total"), { From: "8e9e05c52164694d" })).toBe(40);
    expect(value(m.get("etcd_network_peer_sent_failures_total"), { To: "8e9e05c52164694d" })).toBe(3);
    expect(m.get("etcd_network_peer_round_trip_time_seconds")!.metrics[0]!.buckets!["0.0008"]).toBe("1");
  });
});
