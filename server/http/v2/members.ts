/**
 * `/v2/members` and `/v2/machines` (etcd's v2http/client.go membersHandler, machinesHandler):
 * the member list as `{"members":[{"id","name","peerURLs","clientURLs"}]}`, `GET
 * /v2/members/leader`, and POST / PUT / DELETE changing the membership through the same path
 * as the v3 Cluster API (server/node/cluster-admin.ts). Errors are etcd's httptypes.HTTPError
 * JSON `{"message":"..."}`: 409 for a known peer URL or ID, 404 `No such member: <id>`, 410
 * `Member permanently removed: <id>`, 415
 * for a body that is not JSON, 400 for a bad one, 500 `Internal Server Error` otherwise.
 */
import { ConnectError } from "@connectrpc/connect";
import type { Member } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { goJsonString } from "../../../cli/go/json.ts";
import { goParseUint } from "../../../cli/go/strconv.ts";
import { parseUrls } from "../../config.ts";
import { Errors } from "../../errors.ts";
import { idToHex } from "../../membership/ids.ts";
import type { ClusterAdminApi } from "../../node/types.ts";
import { goJsonSyntaxError } from "../go-json-syntax.ts";
import { methodNotAllowed } from "./keys.ts";

const MEMBERS_PREFIX = "/v2/members";

/** What the members handlers need from the member. */
export interface MembersDeps {
  clusterId: bigint;
  /** Every member, sorted by ID. */
  members(): Member[];
  /** The leader's ID, 0n while there is none. */
  leader(): bigint;
  cluster?: ClusterAdminApi;
  /** Whether `id` belongs to a removed member (410 instead of 404). */
  isIdRemoved(id: bigint): boolean;
}

/** etcd's httptypes.HTTPError.WriteTo (no trailing newline). */
export function httpError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`{"message":${goJsonString(message)}}`, { status, headers: { ...headers, "content-type": "application/json" } });
}

function memberJson(m: Member): string {
  const list = (urls: string[]) => `[${urls.map(goJsonString).join(",")}]`;
  return `{"id":"${idToHex(m.ID)}","name":${goJsonString(m.name)},"peerURLs":${list(m.peerURLs)},"clientURLs":${list(m.clientURLs)}}`;
}

/** `GET /v2/machines`: every member's client URLs, sorted, joined by `, `. */
export function serveMachines(req: Request, deps: MembersDeps): Response {
  if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
  const urls = deps.members().flatMap((m) => m.clientURLs).sort();
  return new Response(req.method === "HEAD" ? null : urls.join(", "), { headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The JSON body's `peerURLs` (etcd's MemberCreateRequest / MemberUpdateRequest UnmarshalJSON). */
async function readPeerUrls(req: Request, headers: Record<string, string>): Promise<string[] | Response> {
  let ctype = req.headers.get("content-type") ?? "";
  const semicolon = ctype.indexOf(";");
  if (semicolon !== -1) ctype = ctype.slice(0, semicolon).trim().toLowerCase();
  if (ctype !== "application/json") return httpError(415, `Bad Content-Type ${ctype}, accept application/json`, headers);
  const text = await req.text();
  const syntax = goJsonSyntaxError(text);
  if (syntax) return httpError(400, syntax, headers);
  const body = JSON.parse(text) as { peerURLs?: unknown } | null;
  const urls = body && typeof body === "object" && Array.isArray(body.peerURLs) ? body.peerURLs.map(String) : [];
  if (urls.length === 0) return httpError(400, "no valid URLs given", headers);
  try {
    return urls.flatMap((u) => parseUrls(u));
  } catch (e) {
    return httpError(400, (e as Error).message, headers);
  }
}

/** The member ID of `/v2/members/<id>`, or the answer etcd's getID gives. */
function memberId(path: string, headers: Record<string, string>): bigint | Response {
  const idStr = path.slice(MEMBERS_PREFIX.length).replace(/^\//, "");
  if (idStr === "") {
    return new Response("Method Not Allowed\n", { status: 405, headers: { ...headers, "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } });
  }
  try {
    return goParseUint(idStr, 16);
  } catch {
    return httpError(404, `No such member: ${idStr}`, headers);
  }
}

/** A membership change's refusal as etcd's v2 handler answers it. */
function changeError(e: unknown, id: bigint | undefined, headers: Record<string, string>, deps: MembersDeps): Response {
  if (e instanceof ConnectError) {
    if (id !== undefined && deps.isIdRemoved(id)) return httpError(410, `Member permanently removed: ${idToHex(id)}`, headers);
    if (e.rawMessage === Errors.PeerURLExist().rawMessage) return httpError(409, "membership: peerURL exists", headers);
    if (e.rawMessage === Errors.MemberExist().rawMessage) return httpError(409, "membership: ID exists", headers);
    if (e.rawMessage === Errors.MemberNotFound().rawMessage && id !== undefined) return httpError(404, `No such member: ${idToHex(id)}`, headers);
  }
  return httpError(500, "Internal Server Error", headers);
}

/** Serves `/v2/members[/...]`. */
export async function serveMembers(req: Request, deps: MembersDeps): Promise<Response> {
  if (!["GET", "POST", "DELETE", "PUT"].includes(req.method)) return methodNotAllowed(["GET", "POST", "DELETE", "PUT"]);
  const headers = { "x-etcd-cluster-id": idToHex(deps.clusterId) };
  const path = new URL(req.url).pathname;
  const json = { ...headers, "content-type": "application/json" };
  switch (req.method) {
    case "GET": {
      const sub = path.slice(MEMBERS_PREFIX.length).replace(/^\//, "");
      if (sub === "") return new Response(`{"members":[${deps.members().map(memberJson).join(",")}]}\n`, { headers: json });
      if (sub === "leader") {
        const lead = deps.leader();
        const m = deps.members().find((x) => x.ID === lead);
        if (lead === 0n || !m) return httpError(503, "During election", headers);
        return new Response(memberJson(m) + "\n", { headers: json });
      }
      return httpError(404, "Not found", headers);
    }
    case "POST": {
      const urls = await readPeerUrls(req, headers);
      if (urls instanceof Response) return urls;
      try {
        const { member } = await deps.cluster!.add(urls, false);
        return new Response(memberJson(member) + "\n", { status: 201, headers: json });
      } catch (e) {
        return changeError(e, undefined, headers, deps);
      }
    }
    case "DELETE": {
      const id = memberId(path, headers);
      if (id instanceof Response) return id;
      try {
        await deps.cluster!.remove(id);
        return new Response(null, { status: 204, headers });
      } catch (e) {
        return changeError(e, id, headers, deps);
      }
    }
    default: {
      const id = memberId(path, headers);
      if (id instanceof Response) return id;
      const urls = await readPeerUrls(req, headers);
      if (urls instanceof Response) return urls;
      try {
        await deps.cluster!.update(id, urls);
        return new Response(null, { status: 204, headers });
      } catch (e) {
        return changeError(e, id, headers, deps);
      }
    }
  }
}
