/**
 * Back-pressure of one member (server/node/limits.ts): a burst of writes against a slowed apply
 * gets etcd's `etcdserver: too many requests` for the excess, queues and memory stay bounded,
 * and the member recovers; proposals waiting for a leader leave the retry queue when their
 * client goes away.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { openBackend } from "../storage/sqlite.ts";
import { EtcdNode } from "./etcd-node.ts";
import { MAX_APPLY_LAG_ENTRIES, MAX_PENDING_PROPOSALS, MAX_READ_INDEX_WAITERS, MAX_WATCH_STREAMS } from "./limits.ts";
import { quietNodeLogger, singleMemberConfig, waitFor, nodesClosedAfterEach } from "./testing.ts";

const enc = new TextEncoder();
const { nodes, dirs } = nodesClosedAfterEach();


function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "etcd-overload-"));
  dirs.push(d);
  return d;
}

const MiB = 1024 * 1024;

test("10,000 concurrent puts against a slowed apply: the excess gets 'too many requests', memory stays bounded, the member recovers", async () => {
  const dir = tempDir();
  const db = openBackend(dir);
  const node = new EtcdNode(db, singleMemberConfig(dir, { requestTimeoutMs: 60_000 }), quietNodeLogger);
  nodes.push(node);
  await node.ready();
  // A slow disk under the key table: every key write scans 30,000 rows first (about 0.5 ms).
  db.exec("CREATE TEMP TABLE slow (x INTEGER)");
  db.exec("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 30000) INSERT INTO temp.slow SELECT i FROM r");
  db.exec("CREATE TEMP TRIGGER slow_apply BEFORE INSERT ON kv BEGIN SELECT sum(x) FROM temp.slow; END");

  const value = new Uint8Array(1024).fill(120);
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let lagPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    lagPeak = Math.max(lagPeak, node.applyLagEntries);
  }, 5);
  const started = performance.now();
  // The puts arrive in waves of 500 per turn of the event loop, as from many client connections.
  const outcomes: Promise<string>[] = [];
  for (let wave = 0; wave < 20; wave++) {
    for (let i = 0; i < 500; i++) {
      const key = enc.encode(`k${wave * 500 + i}`);
      outcomes.push(
        node.put(create(PutRequestSchema, { key, value })).then(
          () => "ok",
          (e: unknown) => (e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : String(e)),
        ),
      );
    }
    await new Promise((r) => setImmediate(r));
  }
  const results = await Promise.all(outcomes);
  clearInterval(sampler);
  const counts: Record<string, number> = {};
  for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
  // Every put is either applied or refused with etcd's error; none times out or fails otherwise.
  expect(Object.keys(counts).sort()).toEqual(["ResourceExhausted: etcdserver: too many requests", "ok"]);
  const ok = counts.ok!;
  expect(ok).toBeGreaterThanOrEqual(MAX_APPLY_LAG_ENTRIES);
  expect(lagPeak).toBeLessThanOrEqual(MAX_APPLY_LAG_ENTRIES + 1);
  // The refused half never entered the log: memory grows by far less than 10,000 values' worth.
  expect((rssPeak - rssBefore) / MiB).toBeLessThan(200);
  console.log(
    `overload: ${ok} applied, ${10_000 - ok} refused in ${Math.round(performance.now() - started)} ms; ` +
      `RSS ${Math.round(rssBefore / MiB)} MiB -> peak ${Math.round(rssPeak / MiB)} MiB; peak lag ${lagPeak} entries`,
  );

  // Recovery: the slow disk is gone, writes are taken again and every applied put is there.
  db.exec("DROP TRIGGER temp.slow_apply");
  expect(node.applyLagEntries).toBe(0);
  await node.put(create(PutRequestSchema, { key: enc.encode("after"), value }));
  const all = await node.range(create(RangeRequestSchema, { key: enc.encode("k"), rangeEnd: enc.encode("l"), countOnly: true }));
  expect(Number(all.count)).toBe(ok);
}, 120_000);

test("proposals waiting for a leader share one retry queue; a client that goes away takes its proposal out before it is proposed", async () => {
  const dir = tempDir();
  // Three voters of which only this one runs: no leader is ever elected.
  const cfg = singleMemberConfig(dir, {
    initialCluster: "default=http://localhost:2380,b=http://127.0.0.1:1,c=http://127.0.0.1:2",
    requestTimeoutMs: 5_000,
  });
  const node = new EtcdNode(openBackend(dir), cfg, quietNodeLogger);
  nodes.push(node);
  const clients = Array.from({ length: 100 }, () => new AbortController());
  const puts = clients.map((c, i) =>
    node.put(create(PutRequestSchema, { key: enc.encode(`q${i}`), value: enc.encode("v") }), undefined, c.signal).catch((e: unknown) => e),
  );
  expect(node.raft.queuedProposals).toBe(100);
  for (const c of clients.slice(0, 60)) c.abort();
  const gone = await Promise.all(puts.slice(0, 60));
  expect(new Set(gone.map((e) => (e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : String(e))))).toEqual(
    new Set(["Unknown: etcdserver: request cancelled"]),
  );
  // The next retry drops them; the other 40 keep waiting.
  await waitFor(() => node.raft.queuedProposals === 40, "the retry queue to drop the gone clients' proposals", 2_000);
  // A request whose client is gone already is refused without being queued.
  const done = new AbortController();
  done.abort();
  await expect(node.put(create(PutRequestSchema, { key: enc.encode("x"), value: enc.encode("v") }), undefined, done.signal)).rejects.toThrow(
    "etcdserver: request cancelled",
  );
  expect(node.raft.queuedProposals).toBe(40);
  expect(MAX_PENDING_PROPOSALS).toBeGreaterThan(MAX_APPLY_LAG_ENTRIES);
});

test("pending proposals and linearizable reads are capped: one more gets 'too many requests'", async () => {
  const dir = tempDir();
  const cfg = singleMemberConfig(dir, {
    initialCluster: "default=http://localhost:2380,b=http://127.0.0.1:1,c=http://127.0.0.1:2",
    requestTimeoutMs: 30_000,
  });
  const node = new EtcdNode(openBackend(dir), cfg, quietNodeLogger);
  nodes.push(node);
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < MAX_PENDING_PROPOSALS; i++) {
    settled.push(node.put(create(PutRequestSchema, { key: enc.encode(`p${i}`), value: enc.encode("v") })).catch((e) => e));
  }
  await expect(node.put(create(PutRequestSchema, { key: enc.encode("one-more"), value: enc.encode("v") }))).rejects.toThrow(
    "etcdserver: too many requests",
  );
  for (let i = 0; i < MAX_READ_INDEX_WAITERS; i++) settled.push(node.raft.readIndex().catch((e) => e));
  const refused = await node.range(create(RangeRequestSchema, { key: enc.encode("k") })).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ConnectError);
  expect([Code[(refused as ConnectError).code], (refused as ConnectError).rawMessage]).toEqual(["ResourceExhausted", "etcdserver: too many requests"]);
  // Serializable reads need no ReadIndex and are still served.
  expect((await node.range(create(RangeRequestSchema, { key: enc.encode("k"), serializable: true }))).kvs).toEqual([]);
  await node.close();
  const errors = await Promise.all(settled);
  expect(new Set(errors.map((e) => (e as ConnectError).rawMessage))).toEqual(new Set(["etcdserver: server stopped"]));
});

test("watch streams are capped: one more gets 'too many requests' until one closes", async () => {
  const dir = tempDir();
  const node = new EtcdNode(openBackend(dir), singleMemberConfig(dir), quietNodeLogger);
  nodes.push(node);
  const streams = Array.from({ length: MAX_WATCH_STREAMS }, () => node.openWatchStream());
  expect(() => node.openWatchStream()).toThrow("etcdserver: too many requests");
  streams[0]!.close();
  streams[0]!.close(); // closing twice frees one slot only
  streams[0] = node.openWatchStream();
  expect(() => node.openWatchStream()).toThrow("etcdserver: too many requests");
  for (const s of streams) s.close();
});

test("a member stopped with thousands of entries logged but unapplied restarts, applies them and becomes ready", async () => {
  const dir = tempDir();
  const db = openBackend(dir);
  const node = new EtcdNode(db, singleMemberConfig(dir, { requestTimeoutMs: 60_000 }), quietNodeLogger);
  await node.ready();
  db.exec("CREATE TEMP TABLE slow (x INTEGER)");
  db.exec("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 30000) INSERT INTO temp.slow SELECT i FROM r");
  db.exec("CREATE TEMP TRIGGER slow_apply BEFORE INSERT ON kv BEGIN SELECT sum(x) FROM temp.slow; END");
  const acked = new Set<string>();
  const puts = Array.from({ length: MAX_APPLY_LAG_ENTRIES }, (_, i) =>
    node.put(create(PutRequestSchema, { key: enc.encode(`r${i}`), value: enc.encode("v") })).then(
      () => void acked.add(`r${i}`),
      () => {},
    ),
  );
  await waitFor(() => acked.size > 100, "some puts applied");
  expect(node.applyLagEntries).toBeGreaterThan(1000);
  await node.close();
  await Promise.all(puts);

  const again = new EtcdNode(openBackend(dir), singleMemberConfig(dir), quietNodeLogger);
  nodes.push(again);
  await again.ready();
  const got = await again.range(create(RangeRequestSchema, { key: enc.encode("r"), rangeEnd: enc.encode("s"), keysOnly: true }));
  const stored = new Set(got.kvs.map((kv) => new TextDecoder().decode(kv.key)));
  expect([...acked].filter((k) => !stored.has(k))).toEqual([]);
  // Everything that was logged is applied once the member is ready: all of the burst.
  expect(stored.size).toBe(MAX_APPLY_LAG_ENTRIES);
}, 60_000);
