/**
 * etcdserverpb.Lease: LeaseGrant, LeaseRevoke, LeaseKeepAlive (bidi stream), LeaseTimeToLive,
 * LeaseLeases, answering like etcd 3.4's LeaseServer (etcdserver/api/v3rpc/lease.go): an unknown
 * or expired lease gets TTL 0 in a keep-alive answer and TTL -1 from LeaseTimeToLive instead of
 * an error; grant and revoke errors (LeaseExist, LeaseTTLTooLarge, LeaseNotFound) go back as is.
 */
import { create } from "@bufbuild/protobuf";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  Lease,
  LeaseKeepAliveResponseSchema,
  LeaseTimeToLiveResponseSchema,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { MAX_LEASE_KEEPALIVE_STREAMS } from "../node/limits.ts";
import { requestAuth } from "./auth-context.ts";

const LEASE_NOT_FOUND = Errors.LeaseNotFound();

/** Whether `e` is etcd's LeaseNotFound (NotFound "etcdserver: requested lease not found"). */
export function isLeaseNotFound(e: unknown): boolean {
  return e instanceof ConnectError && e.code === LEASE_NOT_FOUND.code && e.rawMessage === LEASE_NOT_FOUND.rawMessage;
}

/**
 * LeaseTimeToLive with etcd's answer for an unknown lease: ID as asked, TTL -1, granted TTL 0,
 * no keys (header filled either way).
 */
export async function leaseTimeToLive(api: EtcdServerApi, req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
  const header = api.header();
  try {
    const resp = await api.leaseTimeToLive(req);
    resp.header = header;
    return resp;
  } catch (e) {
    if (!isLeaseNotFound(e)) throw e;
    return create(LeaseTimeToLiveResponseSchema, { header, ID: req.ID, TTL: -1n });
  }
}

/**
 * The TTL (s) a keep-alive of lease `id` answers with: the granted TTL after renewing it, or 0
 * when the lease is unknown or expired (etcd answers those with TTL 0, not an error). Other
 * errors (NotLeader, Timeout, no leader) reject.
 */
export async function renewedTtl(api: EtcdServerApi, id: bigint): Promise<bigint> {
  try {
    return await api.leaseRenew(id);
  } catch (e) {
    if (!isLeaseNotFound(e)) throw e;
    return 0n;
  }
}

/**
 * One keep-alive answer: the header is taken before renewing (so its revision is never newer
 * than the renewal, as etcd does), TTL as {@link renewedTtl}.
 */
export async function keepAliveOnce(api: EtcdServerApi, id: bigint) {
  const header = api.header();
  return create(LeaseKeepAliveResponseSchema, { header, ID: id, TTL: await renewedTtl(api, id) });
}

const openKeepAliveStreams = new WeakMap<EtcdServerApi, { open: number }>();

/**
 * Takes a LeaseKeepAlive stream slot of `api`'s member, shared by the Connect route and the raw
 * gRPC path (server/api/lease-grpc.ts); returns the function that gives it back. Throws
 * TooManyRequests (ResourceExhausted `etcdserver: too many requests`) when
 * MAX_LEASE_KEEPALIVE_STREAMS streams are open.
 */
export function takeKeepAliveStreamSlot(api: EtcdServerApi): () => void {
  let slots = openKeepAliveStreams.get(api);
  if (!slots) openKeepAliveStreams.set(api, (slots = { open: 0 }));
  if (slots.open >= MAX_LEASE_KEEPALIVE_STREAMS) throw Errors.TooManyRequests();
  slots.open++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    slots.open--;
  };
}

/**
 * The Lease service implementation over `api`. LeaseKeepAlive streams beyond
 * MAX_LEASE_KEEPALIVE_STREAMS open at once end with TooManyRequests (ResourceExhausted
 * `etcdserver: too many requests`).
 */
export function leaseService(api: EtcdServerApi): ServiceImpl<typeof Lease> {
  return {
    async leaseGrant(req, ctx) {
      return api.leaseGrant(req, await requestAuth(api, ctx));
    },
    // Refused (PermissionDenied) unless the caller may write every key attached to the lease.
    async leaseRevoke(req, ctx) {
      return api.leaseRevoke(req, await requestAuth(api, ctx));
    },
    async *leaseKeepAlive(requests) {
      const release = takeKeepAliveStreamSlot(api);
      try {
        for await (const req of requests) yield await keepAliveOnce(api, req.ID);
      } finally {
        release();
      }
    },
    leaseTimeToLive(req) {
      return leaseTimeToLive(api, req);
    },
    leaseLeases() {
      return api.leaseLeases();
    },
  };
}
