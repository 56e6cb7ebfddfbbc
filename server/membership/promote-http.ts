/**
 * MemberPromote forwarded from a follower to the leader, which alone knows whether the learner
 * has caught up: `POST /members/promote/<decimal id>` on the leader's peer port, answered with
 * the membership as JSON or an error status, as etcd 3.4 does (etcdserver/api/etcdhttp/peer.go
 * peerMemberPromoteHandler, etcdserver/cluster_util.go promoteMemberHTTP, server.go PromoteMember).
 */
import { peerFetch, type PeerClientTls } from "../transport/peer-tls.ts";
import { ConnectError } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import type { MemberRecord } from "../storage/members.ts";
import { memberJson } from "../transport/http-app.ts";
import { parseMembersJson } from "./join.ts";

/** Path prefix of the forwarded promote on the peer port. */
export const PROMOTE_PATH_PREFIX = "/members/promote/";

/** etcd's texts of the refusals (membership/errors.go, etcdserver/errors.go). */
const ID_NOT_FOUND = "membership: ID not found";
const NOT_LEARNER = "membership: can only promote a learner member";
const LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader";

const TEXT = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

/**
 * Serves a forwarded promote of the member named by `idText` (the path after the prefix):
 * 200 with the members as JSON (json.Encoder: one line); 404 for an unparsable or unknown ID;
 * 412 for a voter or a learner not in sync; 408 on timeout; 500 otherwise.
 */
export async function servePromote(idText: string, promote: (id: bigint) => Promise<MemberRecord[]>): Promise<Response> {
  if (!/^\d{1,20}$/.test(idText) || BigInt(idText) > 0xffffffffffffffffn) {
    return new Response(`member ${idText} not found in cluster\n`, { status: 404, headers: TEXT });
  }
  try {
    const members = await promote(BigInt(idText));
    return new Response(`[${members.map(memberJson).join(",")}]\n`, { status: 200, headers: { "content-type": "application/json" } });
  } catch (e) {
    const msg = e instanceof ConnectError ? e.rawMessage : String(e);
    if (msg === Errors.MemberNotFound().rawMessage) return new Response(`${ID_NOT_FOUND}\n`, { status: 404, headers: TEXT });
    if (msg === Errors.MemberNotLearner().rawMessage) return new Response(`${NOT_LEARNER}\n`, { status: 412, headers: TEXT });
    if (msg === Errors.LearnerNotReady().rawMessage) return new Response(`${LEARNER_NOT_READY}\n`, { status: 412, headers: TEXT });
    if (msg === Errors.Timeout().rawMessage) return new Response(`${msg}\n`, { status: 408, headers: TEXT });
    return new Response(`${msg}\n`, { status: 500, headers: TEXT });
  }
}

/** Outcome of one forwarding attempt: the members, a final error, or undefined to try again. */
async function promoteOnce(url: string, id: bigint, signal: AbortSignal, tls?: PeerClientTls): Promise<MemberRecord[] | ConnectError | undefined> {
  let res: Response;
  try {
    res = await peerFetch(`${url}${PROMOTE_PATH_PREFIX}${id}`, { method: "POST", signal }, tls);
  } catch {
    return undefined;
  }
  const body = await res.text().catch(() => "");
  if (res.status === 200) {
    try {
      return parseMembersJson(body);
    } catch {
      return undefined;
    }
  }
  if (res.status === 412 && body.includes(LEARNER_NOT_READY)) return Errors.LearnerNotReady();
  if (res.status === 412 && body.includes(NOT_LEARNER)) return Errors.MemberNotLearner();
  if (res.status === 404) return Errors.MemberNotFound();
  return undefined;
}

/**
 * Forwards MemberPromote to the leader (etcd's PromoteMember after ErrNotLeader): tries the
 * leader's peer URLs (`leaderPeerUrls()`, asked again each round; empty while no leader is known)
 * until one answers. Resolves with the membership after the promotion. Errors: MemberNotFound
 * (NotFound), MemberNotLearner / LearnerNotReady (FailedPrecondition) from the leader; Timeout
 * (Unavailable "etcdserver: request timed out") when no leader answered within `timeoutMs`.
 */
export async function forwardPromote(leaderPeerUrls: () => string[], id: bigint, timeoutMs: number, tls?: PeerClientTls): Promise<MemberRecord[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const url of leaderPeerUrls()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const out = await promoteOnce(url, id, AbortSignal.timeout(left), tls);
      if (out instanceof ConnectError) throw out;
      if (out) return out;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw Errors.Timeout();
}
