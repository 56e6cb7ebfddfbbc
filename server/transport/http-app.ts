/**
 * Plain HTTP endpoints of the peer port, as etcd 3.4's peer handler serves them
 * (etcdserver/api/etcdhttp/peer.go, base.go): `GET /members`, `GET /version`; Go's
 * `404 page not found` elsewhere. Used by members joining with `--initial-cluster-state existing`.
 */
import { Hono } from "hono";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../config.ts";
import type { MemberRecord } from "../storage/members.ts";
import { LEASE_RENEW_PATH, LEASE_TTL_PATH, serveForwardedLease, type LeaseHandler } from "../lease/forward.ts";
import { CLUSTER_ID_HEADER, hexId } from "./headers.ts";
import { PEER_HASHKV_PATH, serveHashKV } from "../corrupt/peer-hashkv.ts";
import type { KvHash } from "../mvcc/hash.ts";

const TEXT = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

/**
 * One member as Go's encoding/json writes membership.Member: `id` as a decimal uint64 number (not a
 * string: JSON.stringify cannot write a bigint, so the text is assembled), `peerURLs`, then the
 * omitempty fields `isLearner` (only when true), `name`, `clientURLs` (only when non-empty).
 */
export function memberJson(m: MemberRecord): string {
  let s = `{"id":${BigInt.asUintN(64, m.id)},"peerURLs":${JSON.stringify(m.peerURLs)}`;
  if (m.isLearner) s += `,"isLearner":true`;
  if (m.name !== "") s += `,"name":${JSON.stringify(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${JSON.stringify(m.clientURLs)}`;
  return `${s}}`;
}

/**
 * The hono app: `GET /members` → 200 JSON array of members ordered by ID plus a newline (json.Encoder),
 * header `X-Etcd-Cluster-ID`; `GET /version` → `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`;
 * other methods there → 405 `Method Not Allowed`; `POST /leases`, `POST /leases/internal` → lease calls
 * forwarded by followers (`leases`); `POST /members/promote/<id>` → MemberPromote forwarded by a
 * follower (`promote`, given the text after the prefix; server/membership/promote-http.ts);
 * `/members/hashkv` → this member's HashKV for the leader's corruption check (`hashKV`), header
 * `X-Etcd-Cluster-ID`, other methods 405; anything else → 404 `404 page not found`.
 */
export function createPeerHttpApp(
  clusterId: bigint,
  members: () => MemberRecord[],
  leases?: LeaseHandler,
  promote?: (idText: string) => Promise<Response>,
  hashKV?: (revision: number) => Promise<KvHash>,
): Hono {
  const app = new Hono();
  // The leader's corruption check (server/corrupt/): GET (etcd's client) or POST (ours) with a JSON body.
  app.all(PEER_HASHKV_PATH, async (c) => {
    if (!hashKV) return c.body("404 page not found\n", 404, TEXT);
    return serveHashKV(c.req.method, await c.req.text(), hexId(clusterId), hashKV);
  });
  app.all("/members/promote/*", async (c) => {
    if (c.req.method !== "POST") return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "POST", ...TEXT } });
    if (!promote) return c.body("404 page not found\n", 404, TEXT);
    const res = await promote(c.req.path.slice("/members/promote/".length));
    res.headers.set(CLUSTER_ID_HEADER, hexId(clusterId));
    return res;
  });
  // Lease calls forwarded by followers to this member when it leads (server/lease/forward.ts).
  for (const path of [LEASE_RENEW_PATH, LEASE_TTL_PATH]) {
    app.post(path, async (c) => {
      if (!leases) return c.body("404 page not found\n", 404, TEXT);
      return serveForwardedLease(path, new Uint8Array(await c.req.arrayBuffer()), leases);
    });
  }
  const onlyGet = (method: string) =>
    method === "GET" ? undefined : new Response("Method Not Allowed\n", { status: 405, headers: { allow: "GET", ...TEXT } });
  app.all("/members", (c) => {
    const refused = onlyGet(c.req.method);
    if (refused) return refused;
    const sorted = [...members()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return c.body(`[${sorted.map(memberJson).join(",")}]\n`, 200, {
      "content-type": "application/json",
      [CLUSTER_ID_HEADER]: hexId(clusterId),
    });
  });
  app.all("/version", (c) => {
    const refused = onlyGet(c.req.method);
    if (refused) return refused;
    const body = JSON.stringify({ etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
    return c.body(body, 200, { "content-type": "application/json" });
  });
  app.notFound(() => new Response("404 page not found\n", { status: 404, headers: TEXT }));
  return app;
}
