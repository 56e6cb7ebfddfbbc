/**
 * The peer-port HashKV call the corruption check uses (etcd's etcdserver/corrupt.go
 * hashKVHandler and getPeerHashKVHTTP): `/members/hashkv` with a JSON HashKVRequest body
 * (`{"revision":N}`), answered with Go's encoding/json of the HashKVResponse
 * (`{"header":{"revision":R},"hash":H,"compact_revision":C}`, zero fields left out) and header
 * `X-Etcd-Cluster-ID`, or 400 with the mvcc error text. etcd's client sends a GET with a body,
 * which fetch cannot; ours sends POST, and the handler takes both (other methods: 405).
 */
import { Errors } from "../errors.ts";
import { peerFetch, type PeerClientTls } from "../transport/peer-tls.ts";
import type { KvHash } from "../mvcc/hash.ts";

/** etcd's PeerHashKVPath. */
export const PEER_HASHKV_PATH = "/members/hashkv";

const TEXT = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

/** A HashKVResponse as Go's encoding/json writes it (omitempty fields left out). */
export function hashKvJson(r: KvHash): string {
  const parts: string[] = [];
  parts.push(`"header":{${r.revision !== 0 ? `"revision":${r.revision}` : ""}}`);
  if (r.hash !== 0) parts.push(`"hash":${r.hash}`);
  if (r.compactRevision !== 0) parts.push(`"compact_revision":${r.compactRevision}`);
  return `{${parts.join(",")}}`;
}

/** Go's text of the mvcc errors a HashKV can fail with (mvcc.ErrCompacted, mvcc.ErrFutureRev). */
function mvccErrorText(e: unknown): string | undefined {
  const msg = (e as { rawMessage?: string }).rawMessage;
  if (msg === Errors.Compacted().rawMessage) return "mvcc: required revision has been compacted";
  if (msg === Errors.FutureRev().rawMessage) return "mvcc: required revision is a future revision";
  return undefined;
}

/**
 * Serves one `/members/hashkv` request: `method` GET or POST, `body` the JSON request.
 * `hashKV` is the member's (server/mvcc/hash.ts). 400 `error unmarshalling request` for a bad
 * body; 400 with the mvcc error text when compacted or in the future.
 */
export async function serveHashKV(method: string, body: string, clusterIdHex: string, hashKV: (rev: number) => Promise<KvHash>): Promise<Response> {
  if (method !== "GET" && method !== "POST") {
    return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "GET", ...TEXT } });
  }
  let revision = 0;
  try {
    const req = body.trim() === "" ? {} : (JSON.parse(body) as { revision?: unknown });
    if (req === null || typeof req !== "object") throw new Error("not an object");
    const r = (req as { revision?: unknown }).revision ?? 0;
    if (typeof r !== "number" || !Number.isSafeInteger(r)) throw new Error("bad revision");
    revision = r;
  } catch {
    return new Response("error unmarshalling request\n", { status: 400, headers: TEXT });
  }
  try {
    const r = await hashKV(revision);
    return new Response(hashKvJson(r), { status: 200, headers: { "content-type": "application/json", "x-etcd-cluster-id": clusterIdHex } });
  } catch (e) {
    const text = mvccErrorText(e) ?? (e instanceof Error ? e.message : String(e));
    return new Response(`${text}\n`, { status: mvccErrorText(e) ? 400 : 500, headers: TEXT });
  }
}

/** A peer's HashKV answer, or its failure (`compacted`, `future`, or another error text). */
export type PeerHashKV = { ok: KvHash } | { error: "compacted" | "future" | string };

/**
 * Asks the member at peer URL `url` for HashKV at `revision`, within `timeoutMs`. Never throws:
 * connection errors and unexpected answers come back as `{ error }`.
 */
export async function fetchPeerHashKV(url: string, revision: number, timeoutMs: number, tls: PeerClientTls | undefined): Promise<PeerHashKV> {
  try {
    const res = await peerFetch(
      `${url.replace(/\/$/, "")}${PEER_HASHKV_PATH}`,
      { method: "POST", body: JSON.stringify({ revision }), headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(timeoutMs) },
      tls,
    );
    const text = await res.text();
    if (res.status === 400 && text.includes("mvcc: required revision has been compacted")) return { error: "compacted" };
    if (res.status === 400 && text.includes("mvcc: required revision is a future revision")) return { error: "future" };
    if (res.status !== 200) return { error: `unknown error: ${text}` };
    const j = JSON.parse(text) as { header?: { revision?: number }; hash?: number; compact_revision?: number };
    return { ok: { hash: j.hash ?? 0, revision: j.header?.revision ?? 0, compactRevision: j.compact_revision ?? 0 } };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
