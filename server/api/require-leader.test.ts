import { describe, expect, test } from "bun:test";
import { Code, ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { Lease } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { ManualEnv } from "../node/testing.ts";
import { LeaderRequirement, MAX_NO_LEADER_ELECTIONS, requireLeaderService } from "./require-leader.ts";

const ELECTION_MS = 1000;

function setup() {
  const env = new ManualEnv();
  const state = { leader: true };
  const leader = new LeaderRequirement(() => state.leader, ELECTION_MS, env);
  return { env, state, leader };
}

function ctx(method: "leaseGrant" | "leaseKeepAlive", headers: Record<string, string> = {}): HandlerContext {
  return createHandlerContext({
    service: Lease,
    method: Lease.method[method] as never,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `/etcdserverpb.Lease/${method}`,
    requestHeader: new Headers(headers),
  });
}

const ASK = { hasleader: "true" };

describe("LeaderRequirement", () => {
  test("check refuses with etcd's Unavailable `etcdserver: no leader` only without a leader", () => {
    const { state, leader } = setup();
    expect(() => leader.check()).not.toThrow();
    state.leader = false;
    let err: unknown;
    try {
      leader.check();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectError);
    expect({ code: (err as ConnectError).code, message: (err as ConnectError).rawMessage }).toEqual({ code: Code.Unavailable, message: "etcdserver: no leader" });
  });

  test("tracked streams are cancelled after MAX_NO_LEADER_ELECTIONS polls in a row without leader, not before", async () => {
    const { env, state, leader } = setup();
    const cancelled: string[] = [];
    leader.track((e) => cancelled.push(e.rawMessage));
    expect(env.pendingTimers).toBe(1);
    state.leader = false;
    await env.advance(ELECTION_MS * (MAX_NO_LEADER_ELECTIONS - 1));
    expect(cancelled).toEqual([]);
    state.leader = true; // a leader in between resets the count
    await env.advance(ELECTION_MS);
    state.leader = false;
    await env.advance(ELECTION_MS * (MAX_NO_LEADER_ELECTIONS - 1));
    expect(cancelled).toEqual([]);
    await env.advance(ELECTION_MS);
    expect(cancelled).toEqual(["etcdserver: no leader"]);
    expect(leader.trackedStreams).toBe(0);
    expect(env.pendingTimers).toBe(0);
  });

  test("the poll runs only while a stream is tracked", () => {
    const { env, leader } = setup();
    const untrack = leader.track(() => {});
    expect(env.pendingTimers).toBe(1);
    untrack();
    expect(env.pendingTimers).toBe(0);
  });
});

describe("requireLeaderService", () => {
  const impl = {
    async leaseGrant() {
      return { ID: 7n };
    },
    async *leaseKeepAlive() {
      for (let i = 0; ; i++) {
        yield { ID: BigInt(i) };
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };

  test("calls without the metadata pass untouched, leader or not", async () => {
    const { state, leader } = setup();
    state.leader = false;
    const svc = requireLeaderService(Lease, impl as never, leader) as any;
    expect(await svc.leaseGrant({}, ctx("leaseGrant"))).toEqual({ ID: 7n });
    expect(svc.leaseKeepAlive({}, ctx("leaseKeepAlive"))[Symbol.asyncIterator]).toBeDefined();
    expect(leader.trackedStreams).toBe(0);
  });

  test("unary and stream calls with `hasleader: true` are refused without a leader", async () => {
    const { state, leader } = setup();
    state.leader = false;
    const svc = requireLeaderService(Lease, impl as never, leader) as any;
    expect(() => svc.leaseGrant({}, ctx("leaseGrant", ASK))).toThrow("etcdserver: no leader");
    expect(() => svc.leaseKeepAlive({}, ctx("leaseKeepAlive", ASK))).toThrow("etcdserver: no leader");
  });

  test("an open require-leader stream ends with `etcdserver: no leader` once the leader is lost for good", async () => {
    const { env, state, leader } = setup();
    const svc = requireLeaderService(Lease, impl as never, leader) as any;
    const it = (svc.leaseKeepAlive({}, ctx("leaseKeepAlive", ASK)) as AsyncIterable<{ ID: bigint }>)[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ ID: 0n });
    expect(leader.trackedStreams).toBe(1);
    state.leader = false;
    await env.advance(ELECTION_MS * MAX_NO_LEADER_ELECTIONS);
    await expect(it.next()).rejects.toThrow("etcdserver: no leader");
    expect(leader.trackedStreams).toBe(0);
  });
});
