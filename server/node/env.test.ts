/**
 * The member under an injected environment (server/node/env.ts): its request timeouts, ReadIndex
 * retries, Raft ticks and lease expiry follow a clock the test moves (ManualEnv), with no real
 * waiting and no reads of the global clock.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LeaseGrantRequestSchema, PutRequestSchema, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { openBackend } from "../storage/sqlite.ts";
import { EtcdNode } from "./etcd-node.ts";
import { ManualEnv, quietNodeLogger, singleMemberConfig, nodesClosedAfterEach } from "./testing.ts";

const enc = new TextEncoder();
const { nodes, dirs } = nodesClosedAfterEach();


/** A member under `env`; `alone`: the only voter (leads at once), else one of three that never meet. */
function member(env: ManualEnv, alone: boolean): EtcdNode {
  const dir = mkdtempSync(join(tmpdir(), "etcd-env-"));
  dirs.push(dir);
  const initialCluster = alone ? "default=http://localhost:2380" : "default=http://localhost:2380,b=http://127.0.0.1:1,c=http://127.0.0.1:2";
  const node = new EtcdNode(openBackend(dir), singleMemberConfig(dir, { env, initialCluster, requestTimeoutMs: 5_000 }), quietNodeLogger);
  nodes.push(node);
  return node;
}

/** What a promise has done so far: "pending", "ok" or the ConnectError's raw message. */
function watch(p: Promise<unknown>): () => string {
  let state = "pending";
  p.then(
    () => (state = "ok"),
    (e: unknown) => (state = e instanceof ConnectError ? e.rawMessage : String(e)),
  );
  return () => state;
}

test("a write that never finds a leader fails exactly when the injected clock passes the request timeout", async () => {
  const env = new ManualEnv();
  const node = member(env, false);
  const put = watch(node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("v") })));
  await env.advance(4_999);
  expect(put()).toBe("pending");
  expect(node.raft.queuedProposals).toBe(1);
  await env.advance(1);
  // Raft never took it (no leader all along): etcd's blocked Propose returns the context's error.
  expect(put()).toBe("context deadline exceeded");
  expect(node.raft.queuedProposals).toBe(0);
});

test("a linearizable read that never finds a leader fails with 'request timed out' at the injected timeout", async () => {
  const env = new ManualEnv();
  const node = member(env, false);
  const read = watch(node.linearizableReadNotify());
  await env.advance(0); // the read joins the next ReadIndex batch, sent in the next turn
  await env.advance(4_900);
  expect(read()).toBe("pending");
  await env.advance(100);
  expect(read()).toBe("etcdserver: request timed out");
});

test("a lone member leads, serves and expires a lease on the injected clock alone", async () => {
  const env = new ManualEnv();
  const node = member(env, true);
  await node.ready();
  const lease = await node.leaseGrant(create(LeaseGrantRequestSchema, { TTL: 10n }));
  await node.put(create(PutRequestSchema, { key: enc.encode("k"), value: enc.encode("v"), lease: lease.ID }));
  await env.advance(9_000);
  expect(node.lessor.has(lease.ID)).toBe(true);
  // The expiry loop (every 500 ms of injected time) proposes the revoke once 10 s have passed.
  await env.advance(2_000);
  expect(node.lessor.has(lease.ID)).toBe(false);
  expect(node.mvcc.range(create(RangeRequestSchema, { key: enc.encode("k") })).kvs).toEqual([]);
});
