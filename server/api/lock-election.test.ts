import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import { CampaignRequestSchema, Election, LeaderRequestSchema, ResignRequestSchema } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { Lock, LockRequestSchema, UnlockRequestSchema } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { RangeResponseSchema, ResponseHeaderSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Waiters } from "../concurrency/waiters.ts";
import { Errors } from "../errors.ts";
import { createFakeApi } from "../http/fake-api.ts";
import { electionService } from "./election.ts";
import { lockService } from "./lock.ts";

function context(service: typeof Lock | typeof Election, method: string) {
  return createHandlerContext({ service, method: service.method[method as never], protocolName: "grpc", requestMethod: "POST", url: "/" });
}

async function failure(f: () => unknown): Promise<[Code, string]> {
  try {
    const r = f();
    if (r && typeof (r as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of r as AsyncIterable<unknown>) break;
    } else await r;
  } catch (e) {
    const c = ConnectError.from(e);
    return [c.code, c.rawMessage];
  }
  throw new Error("expected a failure");
}

test("on a learner every Lock and Election call answers etcd's interceptor error (Unavailable), before any other check", async () => {
  const api = createFakeApi();
  api.rejectIfLearner = () => {
    throw Errors.NotSupportedForLearner();
  };
  const lock = lockService(api, new Waiters());
  const election = electionService(api, new Waiters());
  const learner: [Code, string] = [Code.Unavailable, "etcdserver: rpc not supported for learner"];
  expect(await failure(() => lock.lock(create(LockRequestSchema, { name: new Uint8Array([1]) }), context(Lock, "lock")))).toEqual(learner);
  expect(await failure(() => lock.unlock(create(UnlockRequestSchema), context(Lock, "unlock")))).toEqual(learner);
  expect(await failure(() => election.campaign(create(CampaignRequestSchema), context(Election, "campaign")))).toEqual(learner);
  expect(await failure(() => election.leader(create(LeaderRequestSchema), context(Election, "leader")))).toEqual(learner);
  expect(await failure(() => election.resign(create(ResignRequestSchema), context(Election, "resign")))).toEqual(learner);
  expect(await failure(() => election.observe(create(LeaderRequestSchema), context(Election, "observe")))).toEqual(learner);
});

test("Resign without a leader key: Unknown '\"leader\" field must be provided' (v3election.ErrMissingLeaderKey)", async () => {
  const election = electionService(createFakeApi(), new Waiters());
  expect(await failure(() => election.resign(create(ResignRequestSchema), context(Election, "resign")))).toEqual([
    Code.Unknown,
    '"leader" field must be provided',
  ]);
});

test("Lock and Election calls act with their caller's credentials (etcd hands the caller's context to its in-process client)", async () => {
  const api = createFakeApi();
  const alice = { username: "alice", revision: 3 };
  api.auth = { authInfo: async (token?: string) => (token === "tok" ? alice : undefined) } as never;
  const seen: unknown[] = [];
  api.range = async (req, ai) => {
    seen.push(ai);
    return create(RangeResponseSchema, { header: create(ResponseHeaderSchema, { revision: 1n }) });
  };
  const election = electionService(api, new Waiters());
  const withToken = createHandlerContext({
    service: Election,
    method: Election.method.leader,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "/",
    requestHeader: { token: "tok" },
  });
  expect(await failure(() => election.leader(create(LeaderRequestSchema, { name: new Uint8Array([1]) }), withToken))).toEqual([
    Code.Unknown,
    "election: no leader",
  ]);
  expect(seen).toEqual([alice]);
});
