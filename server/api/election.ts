/**
 * v3electionpb.Election: Campaign, Proclaim, Leader, Observe (server stream) and Resign over the
 * member, as etcd 3.4's election server (etcdserver/api/v3election/election.go) built on leases
 * and revisions (server/concurrency/election.ts). Proclaim and Resign without `leader` fail with
 * Unknown `"leader" field must be provided`; other errors as etcd's in-process client hands
 * them on (Unknown with the member's message; `election: not leader`, `election: no leader`);
 * on a learner, etcd's interceptor answers first with Unavailable `etcdserver: rpc not supported
 * for learner`.
 */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Election, type LeaderKey } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { MemberClient } from "../concurrency/client.ts";
import { requestAuth } from "./auth-context.ts";
import { campaign, leader, observe, proclaim, resign } from "../concurrency/election.ts";
import type { Waiters } from "../concurrency/waiters.ts";
import type { EtcdServerApi } from "../node/types.ts";

/** v3election.ErrMissingLeaderKey (Unknown). */
function missingLeaderKey(): ConnectError {
  return new ConnectError('"leader" field must be provided', Code.Unknown);
}

function required(l: LeaderKey | undefined): LeaderKey {
  if (!l) throw missingLeaderKey();
  return l;
}

/**
 * The Election service implementation over `api`; `waiters` bounds the Campaign and Observe
 * calls waiting at once.
 */
export function electionService(api: EtcdServerApi, waiters: Waiters): ServiceImpl<typeof Election> {
  // Each call acts with its caller's credentials (the token or TLS name of its request).
  const clientOf = async (ctx: HandlerContext) => new MemberClient(api, await requestAuth(api, ctx));
  return {
    async campaign(req, ctx) {
      api.rejectIfLearner?.();
      const client = await clientOf(ctx);
      return waiters.run(() => campaign(client, req.name, req.lease, req.value, ctx.signal));
    },
    async proclaim(req, ctx) {
      api.rejectIfLearner?.();
      return { header: await proclaim(await clientOf(ctx), required(req.leader), req.value) };
    },
    async leader(req, ctx) {
      api.rejectIfLearner?.();
      return leader(await clientOf(ctx), req.name);
    },
    async *observe(req, ctx) {
      api.rejectIfLearner?.();
      const client = await clientOf(ctx);
      yield* waiters.stream(() => observe(client, req.name, ctx.signal));
    },
    async resign(req, ctx) {
      api.rejectIfLearner?.();
      return { header: await resign(await clientOf(ctx), required(req.leader)) };
    },
  };
}
