/**
 * etcd's v2 KeysAPI client side (`go.etcd.io/etcd/client/keys.go`): the HTTP request each
 * operation sends to `/v2/keys`, and the `Response`/`Node`/`Error` it reads back.
 */
import { canonicalUrlPath, goEscapePath, goQueryEncode, parseJsonBody, V2ClientError, type V2Client, type V2HttpResponse, type V2Request } from "./client.ts";

/** etcd `client.Node`; `nodes` is undefined when the JSON had none (Go's nil slice). */
export interface V2Node {
  key: string;
  dir: boolean;
  value: string;
  nodes?: V2Node[];
  createdIndex: number;
  modifiedIndex: number;
  /** RFC 3339 text as the server sent it (Go re-marshals it unchanged). */
  expiration?: string;
  ttl: number;
}

/** etcd `client.Response`; `index` is the `X-Etcd-Index` header. */
export interface V2Response {
  action: string;
  node?: V2Node;
  prevNode?: V2Node;
  index: number;
}

/** etcd's v2 error (`client.Error`), printed `<code>: <message> (<cause>) [<index>]`. */
export class V2KeysError extends V2ClientError {
  constructor(
    readonly errorCode: number,
    readonly errMessage: string,
    readonly cause: string,
    readonly index: number,
  ) {
    super(`${errorCode}: ${errMessage} (${cause}) [${index}]`);
  }
}

/** Go's `ErrEmptyBody` (a watch answered with an empty body is retried). */
const EMPTY_BODY = "client: response body is empty";

function toNode(raw: Record<string, unknown> | null | undefined): V2Node | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  return {
    key: String(raw.key ?? ""),
    dir: raw.dir === true,
    value: typeof raw.value === "string" ? raw.value : "",
    nodes: Array.isArray(raw.nodes) ? raw.nodes.map((n) => toNode(n as Record<string, unknown>)!).filter(Boolean) : undefined,
    createdIndex: Number(raw.createdIndex ?? 0),
    modifiedIndex: Number(raw.modifiedIndex ?? 0),
    expiration: typeof raw.expiration === "string" ? raw.expiration : undefined,
    ttl: Number(raw.ttl ?? 0),
  };
}

/** unmarshalHTTPResponse: 200/201 give a Response, anything else etcd's error JSON. */
export function keysResponse(r: V2HttpResponse): V2Response {
  if (r.status === 200 || r.status === 201) {
    if (r.body.length === 0) throw new V2ClientError(EMPTY_BODY);
    let body: Record<string, unknown>;
    try {
      body = parseJsonBody(r.body) as Record<string, unknown>;
    } catch {
      throw new V2ClientError("client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
    }
    const header = r.headers["x-etcd-index"];
    return {
      action: String(body.action ?? ""),
      node: toNode(body.node as Record<string, unknown>),
      prevNode: toNode(body.prevNode as Record<string, unknown>),
      index: header ? Number(header) : 0,
    };
  }
  let e: Record<string, unknown>;
  try {
    e = parseJsonBody(r.body) as Record<string, unknown>;
  } catch {
    throw new V2ClientError("client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
  }
  throw new V2KeysError(Number(e.errorCode ?? 0), String(e.message ?? ""), String(e.cause ?? ""), Number(e.index ?? 0));
}

/** The KeysAPI's path prefix (etcd `NewKeysAPI`); discovery uses `""` (`NewKeysAPIWithPrefix`). */
export const KEYS_PREFIX = "/v2/keys";

function keyPath(prefix: string, key: string, query: Record<string, string>): string {
  const q = goQueryEncode(query);
  return goEscapePath(canonicalUrlPath(prefix + (key !== "" && key[0] !== "/" ? "/" + key : key))) + (q ? "?" + q : "");
}

/** `prevExist` of a set: must exist, must not exist, or either. */
export type PrevExist = "true" | "false" | undefined;

/** SetOptions of etcd's KeysAPI. */
export interface SetOptions {
  prevValue?: string;
  prevIndex?: number;
  prevExist?: PrevExist;
  ttlSeconds?: number;
  dir?: boolean;
}

/** KeysAPI.Set: `PUT /v2/keys/<key>` (value and ttl in the form body, conditions in the query). */
export function setRequest(key: string, value: string, o: SetOptions, prefix = KEYS_PREFIX): V2Request {
  const params: Record<string, string> = {};
  const form: Record<string, string> = {};
  if (o.dir) params.dir = "true";
  else {
    if (o.prevValue) params.prevValue = o.prevValue;
    form.value = value;
  }
  if (o.prevIndex) params.prevIndex = String(o.prevIndex);
  if (o.prevExist !== undefined) params.prevExist = o.prevExist;
  if (o.ttlSeconds && o.ttlSeconds > 0) form.ttl = String(o.ttlSeconds);
  return { method: "PUT", path: keyPath(prefix, key, params), body: goQueryEncode(form), contentType: "application/x-www-form-urlencoded", oneShot: o.prevExist === "false" };
}

/** KeysAPI.CreateInOrder: `POST /v2/keys/<dir>`. */
export function createInOrderRequest(dir: string, value: string, ttlSeconds: number): V2Request {
  const form: Record<string, string> = { value };
  if (ttlSeconds > 0) form.ttl = String(ttlSeconds);
  return { method: "POST", path: keyPath(KEYS_PREFIX, dir, {}), body: goQueryEncode(form), contentType: "application/x-www-form-urlencoded" };
}

/** KeysAPI.Get: `GET /v2/keys/<key>?recursive=&sorted=&quorum=`. */
export function getRequest(key: string, o: { recursive?: boolean; sort?: boolean; quorum?: boolean }, prefix = KEYS_PREFIX): V2Request {
  return { method: "GET", path: keyPath(prefix, key, { recursive: String(!!o.recursive), sorted: String(!!o.sort), quorum: String(!!o.quorum) }) };
}

/** KeysAPI.Delete: `DELETE /v2/keys/<key>` (always one-shot). */
export function deleteRequest(key: string, o: { prevValue?: string; prevIndex?: number; dir?: boolean; recursive?: boolean }): V2Request {
  const params: Record<string, string> = {};
  if (o.prevValue) params.prevValue = o.prevValue;
  if (o.prevIndex) params.prevIndex = String(o.prevIndex);
  if (o.dir) params.dir = "true";
  if (o.recursive) params.recursive = "true";
  return { method: "DELETE", path: keyPath(KEYS_PREFIX, key, params), contentType: "application/x-www-form-urlencoded", oneShot: true };
}

/** A long-poll watch request (`wait=true&waitIndex=&recursive=`). */
function waitRequest(prefix: string, key: string, waitIndex: number, recursive: boolean): V2Request {
  return { method: "GET", path: keyPath(prefix, key, { wait: "true", waitIndex: String(waitIndex), recursive: String(recursive) }), wait: true };
}

/** etcd's httpWatcher: each `next()` long-polls from the index after the last event. */
export class V2Watcher {
  private waitIndex: number;

  /** @param afterIndex `--after-index`: the first event wanted is afterIndex+1 (0: from now) */
  constructor(
    private readonly client: V2Client,
    private readonly key: string,
    afterIndex: number,
    private readonly recursive: boolean,
    private readonly prefix = KEYS_PREFIX,
  ) {
    this.waitIndex = afterIndex > 0 ? afterIndex + 1 : 0;
  }

  /** The next event; empty-body answers (server-side timeouts) are retried. */
  async next(): Promise<V2Response> {
    for (;;) {
      const r = await this.client.do(waitRequest(this.prefix, this.key, this.waitIndex, this.recursive));
      let resp: V2Response;
      try {
        resp = keysResponse(r);
      } catch (e) {
        if (e instanceof V2ClientError && e.message === EMPTY_BODY) continue;
        throw e;
      }
      this.waitIndex = (resp.node?.modifiedIndex ?? 0) + 1;
      return resp;
    }
  }
}
