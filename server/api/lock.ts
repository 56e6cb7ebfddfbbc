/**
 * v3lockpb.Lock: Lock and Unlock over the member, as etcd 3.4's lock server
 * (etcdserver/api/v3lock/lock.go) built on leases and revisions (server/concurrency/mutex.ts).
 * Lock waits until the lock is free or the client goes away (then its waiting key is deleted);
 * Unlock deletes the ownership key. Errors as etcd's in-process client hands them on: Unknown
 * with the member's message (server/concurrency/client.ts); on a learner, etcd's interceptor
 * answers first with Unavailable `etcdserver: rpc not supported for learner`.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Lock } from "../../proto/gen/v3lockpb/v3lock_pb.ts";
import { MemberClient } from "../concurrency/client.ts";
import { requestAuth } from "./auth-context.ts";
import { lock, unlock } from "../concurrency/mutex.ts";
import type { EtcdServerApi } from "../node/types.ts";
import type { Waiters } from "../concurrency/waiters.ts";

/** The Lock service implementation over `api`; `waiters` bounds the Lock calls waiting at once. */
export function lockService(api: EtcdServerApi, waiters: Waiters): ServiceImpl<typeof Lock> {
  // Each call acts with its caller's credentials (the token or TLS name of its request).
  const clientOf = async (ctx: HandlerContext) => new MemberClient(api, await requestAuth(api, ctx));
  return {
    async lock(req, ctx) {
      api.rejectIfLearner?.();
      const client = await clientOf(ctx);
      return waiters.run(() => lock(client, req.name, req.lease, ctx.signal));
    },
    async unlock(req, ctx) {
      api.rejectIfLearner?.();
      return { header: await unlock(await clientOf(ctx), req.key) };
    },
  };
}
