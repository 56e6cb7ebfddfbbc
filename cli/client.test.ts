/**
 * EtcdClient's retry and error rules (clientv3's retry interceptor) against an in-memory etcd
 * KV service: conditions the real etcd cannot be made to produce on demand.
 */
import { describe, expect, test } from "bun:test";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { KV } from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { EtcdClient } from "./client.ts";
import { CtlError } from "./errors.ts";

/** A client whose only endpoint answers Range and Put with `handler`, counting calls. */
function clientWith(handler: (call: number) => Promise<object> | object, timeoutMs = 2000) {
  let calls = 0;
  const answer = async () => handler(++calls);
  const client = new EtcdClient({
    endpoints: ["in-memory:1"],
    commandTimeoutMs: timeoutMs,
    keepAliveTimeMs: 2000,
    keepAliveTimeoutMs: 6000,
    transport: () => createRouterTransport(({ service }) => service(KV, { range: answer, put: answer })),
  });
  return { client, calls: () => calls };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CtlError) return e.message;
    throw e;
  }
  throw new Error("call succeeded");
}

const noLeader = () => new ConnectError("etcdserver: no leader", Code.Unavailable);

describe("EtcdClient", () => {
  test("read-only calls retry Unavailable server errors until they succeed", async () => {
    const { client, calls } = clientWith((n) => {
      if (n < 4) throw noLeader();
      return { count: 7n };
    });
    const resp = await client.call((s, o) => s.kv.range({}, o), { repeatable: true });
    expect([resp.count, calls()]).toEqual([7n, 4]);
  });

  test("mutations report an Unavailable server error at once", async () => {
    const { client, calls } = clientWith(() => {
      throw noLeader();
    });
    expect(await failure(client.call((s, o) => s.kv.put({}, o)))).toBe("etcdserver: no leader");
    expect(calls()).toBe(1);
  });

  test("read-only retries stop at the command deadline", async () => {
    const { client, calls } = clientWith(() => {
      throw noLeader();
    }, 150);
    expect(await failure(client.call((s, o) => s.kv.range({}, o), { repeatable: true }))).toBe("context deadline exceeded");
    expect(calls()).toBeGreaterThan(1);
  });

  test("non-etcd errors read as grpc-go prints them; other etcd errors are not retried", async () => {
    const internal = clientWith(() => {
      throw new ConnectError("boom", Code.Internal);
    });
    expect(await failure(internal.client.call((s, o) => s.kv.range({}, o), { repeatable: true }))).toBe(
      "rpc error: code = Internal desc = boom",
    );
    const compacted = clientWith(() => {
      throw new ConnectError("etcdserver: mvcc: required revision has been compacted", Code.OutOfRange);
    });
    expect(await failure(compacted.client.call((s, o) => s.kv.range({}, o), { repeatable: true }))).toBe(
      "etcdserver: mvcc: required revision has been compacted",
    );
    expect(compacted.calls()).toBe(1);
  });

  test("a call outliving the command timeout fails with context deadline exceeded", async () => {
    const { client } = clientWith(() => new Promise((resolve) => setTimeout(() => resolve({}), 2000)), 100);
    expect(await failure(client.call((s, o) => s.kv.range({}, o)))).toBe("context deadline exceeded");
  });
});
