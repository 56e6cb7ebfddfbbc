/**
 * etcd's v2 MembersAPI client side (`go.etcd.io/etcd/client/members.go`): `/v2/members` list,
 * leader, add, update, remove, with Go's error texts (`unexpected status code 500`, the
 * server's `{"message": ...}`), and httpClusterClient.Sync on top of the list.
 */
import { ERR_NO_ENDPOINTS, goEscapePath, parseJsonBody, V2ClientError, type V2Client } from "./client.ts";

/** A member as `/v2/members` lists it (etcd `client.Member`). */
export interface V2Member {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** Go's `assertStatusCode` error. */
export function assertStatus(got: number, ...want: number[]): void {
  if (!want.includes(got)) throw new V2ClientError(`unexpected status code ${got}`);
}

function toMember(m: Partial<V2Member>): V2Member {
  return { id: m.id ?? "", name: m.name ?? "", peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [] };
}

/** MembersAPI.List: `GET /v2/members`. */
export async function listMembers(c: V2Client, deadline: number): Promise<V2Member[]> {
  const r = await c.do({ method: "GET", path: "/v2/members" }, deadline);
  assertStatus(r.status, 200);
  const body = parseJsonBody(r.body) as { members?: Partial<V2Member>[] } | null;
  return (body?.members ?? []).map(toMember);
}

/** MembersAPI.Leader: `GET /v2/members/leader`. */
export async function memberLeader(c: V2Client, deadline: number): Promise<V2Member> {
  const r = await c.do({ method: "GET", path: "/v2/members/leader" }, deadline);
  assertStatus(r.status, 200);
  return toMember(parseJsonBody(r.body) as Partial<V2Member>);
}

/** The `{"message": ...}` error of the members API. */
function membersError(body: Uint8Array): V2ClientError {
  const m = parseJsonBody(body) as { message?: string } | null;
  return new V2ClientError(m?.message ?? "");
}

/** MembersAPI.Add: `POST /v2/members` with `{"peerURLs": [...]}`. */
export async function addMember(c: V2Client, peerUrls: string[], deadline: number): Promise<V2Member> {
  const r = await c.do({ method: "POST", path: "/v2/members", body: JSON.stringify({ peerURLs: peerUrls }), contentType: "application/json" }, deadline);
  assertStatus(r.status, 201, 409);
  if (r.status !== 201) throw membersError(r.body);
  return toMember(parseJsonBody(r.body) as Partial<V2Member>);
}

/** MembersAPI.Update: `PUT /v2/members/<id>`. */
export async function updateMember(c: V2Client, id: string, peerUrls: string[], deadline: number): Promise<void> {
  const r = await c.do({ method: "PUT", path: `/v2/members/${goEscapePath(id)}`, body: JSON.stringify({ peerURLs: peerUrls }), contentType: "application/json" }, deadline);
  assertStatus(r.status, 204, 404, 409);
  if (r.status !== 204) throw membersError(r.body);
}

/** MembersAPI.Remove: `DELETE /v2/members/<id>`. */
export async function removeMember(c: V2Client, id: string, deadline: number): Promise<void> {
  const r = await c.do({ method: "DELETE", path: `/v2/members/${goEscapePath(id)}` }, deadline);
  assertStatus(r.status, 204, 410);
}

/**
 * httpClusterClient.Sync: replaces the client's endpoints by the members' client URLs.
 * @throws V2ClientError {@link ERR_NO_ENDPOINTS} when no member publishes one, or what `do` throws
 */
export async function syncEndpoints(c: V2Client, deadline: number): Promise<void> {
  const eps = (await listMembers(c, deadline)).flatMap((m) => m.clientURLs);
  if (eps.length === 0) throw new V2ClientError(ERR_NO_ENDPOINTS);
  c.setEndpoints(eps);
}
