/**
 * Lease calls a follower forwards to the leader, which alone keeps lease deadlines:
 * keep-alive (renew) and time-to-live. Like etcd's `POST /leases` and `POST /leases/internal`
 * on the leader's peer port (etcdserver/api/etcdhttp/peer.go, lease/leasehttp/http.go), with
 * protobuf bodies; here the request is a LeaseKeepAliveRequest / LeaseTimeToLiveRequest and
 * the answer the matching response message.
 */
import { peerFetch, type PeerClientTls } from "../transport/peer-tls.ts";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  LeaseKeepAliveRequestSchema,
  LeaseKeepAliveResponseSchema,
  LeaseTimeToLiveRequestSchema,
  LeaseTimeToLiveResponseSchema,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";

/** Peer-port paths of the forwarded lease calls (etcd's). */
export const LEASE_RENEW_PATH = "/leases";
export const LEASE_TTL_PATH = "/leases/internal";

/** What the leader answers forwarded lease calls with (the lessor, through EtcdNode). */
export interface LeaseHandler {
  /** Renews lease `id`; resolves with its TTL in seconds. Errors: LeaseNotFound, NotLeader. */
  renew(id: bigint): Promise<bigint>;
  /** Time-to-live of a lease. */
  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
}

/** HTTP status for a forwarded call's etcd error (404 = lease not found, 412 = not leader). */
function statusOf(e: unknown): number {
  if (!(e instanceof ConnectError)) return 500;
  if (e.rawMessage === Errors.LeaseNotFound().rawMessage) return 404;
  if (e.rawMessage === Errors.NotLeader().rawMessage) return 412;
  return 500;
}

/** Serves a forwarded lease call on the leader: protobuf request in, protobuf response out. */
export async function serveForwardedLease(path: string, body: Uint8Array, handler: LeaseHandler): Promise<Response> {
  try {
    if (path === LEASE_RENEW_PATH) {
      const req = fromBinary(LeaseKeepAliveRequestSchema, body);
      const TTL = await handler.renew(req.ID);
      return new Response(toBinary(LeaseKeepAliveResponseSchema, { $typeName: "etcdserverpb.LeaseKeepAliveResponse", ID: req.ID, TTL }));
    }
    const res = await handler.timeToLive(fromBinary(LeaseTimeToLiveRequestSchema, body));
    return new Response(toBinary(LeaseTimeToLiveResponseSchema, res));
  } catch (e) {
    return new Response(e instanceof Error ? e.message : String(e), { status: statusOf(e) });
  }
}

/**
 * Sends a lease call to the leader at one of `peerUrls`. Errors: LeaseNotFound when the leader
 * does not know the lease; NotLeader when it is no longer leader; Timeout when no peer URL
 * answers within `timeoutMs`.
 */
async function forward(peerUrls: string[], path: string, body: Uint8Array, timeoutMs: number, tls?: PeerClientTls): Promise<Uint8Array> {
  for (const url of peerUrls) {
    let res: Response;
    try {
      res = await peerFetch(
        new URL(path, url),
        { method: "POST", headers: { "content-type": "application/protobuf" }, body, signal: AbortSignal.timeout(timeoutMs) },
        tls,
      );
    } catch {
      continue;
    }
    if (res.status === 404) throw Errors.LeaseNotFound();
    if (res.status === 412) throw Errors.NotLeader();
    if (!res.ok) throw Errors.Timeout();
    return new Uint8Array(await res.arrayBuffer());
  }
  throw Errors.Timeout();
}

/** Renews lease `id` at the leader (over TLS with `tls` for `https://` peer URLs); resolves with the TTL in seconds. */
export async function forwardLeaseRenew(peerUrls: string[], id: bigint, timeoutMs: number, tls?: PeerClientTls): Promise<bigint> {
  const body = toBinary(LeaseKeepAliveRequestSchema, { $typeName: "etcdserverpb.LeaseKeepAliveRequest", ID: id });
  const res = fromBinary(LeaseKeepAliveResponseSchema, await forward(peerUrls, LEASE_RENEW_PATH, body, timeoutMs, tls));
  return res.TTL;
}

/** Asks the leader for a lease's time-to-live (over TLS with `tls` for `https://` peer URLs). */
export async function forwardLeaseTimeToLive(
  peerUrls: string[],
  req: LeaseTimeToLiveRequest,
  timeoutMs: number,
  tls?: PeerClientTls,
): Promise<LeaseTimeToLiveResponse> {
  const body = toBinary(LeaseTimeToLiveRequestSchema, req);
  return fromBinary(LeaseTimeToLiveResponseSchema, await forward(peerUrls, LEASE_TTL_PATH, body, timeoutMs, tls));
}
