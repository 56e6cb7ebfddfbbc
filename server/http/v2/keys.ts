/**
 * `/v2/keys/<key>` (etcd's etcdserver/api/v2http/client.go keysHandler): the request's form is
 * read as etcd's parseKeyRequest reads it (same checks, same order, same error codes and causes),
 * handed to the member's v2 server (server/node/v2-server.ts) and answered as writeKeyEvent /
 * writeKeyError / handleKeyWatch write it: headers `X-Etcd-Cluster-Id`, `X-Etcd-Index`,
 * `X-Raft-Index`, `X-Raft-Term`, status 201 for a created key, the event's JSON and a newline.
 */
import { ConnectError } from "@connectrpc/connect";
import { goParseBool, goParseUint } from "../../../cli/go/strconv.ts";
import { idToHex } from "../../membership/ids.ts";
import type { Cancellation } from "../../node/types.ts";
import type { V2RequestInit, V2Server } from "../../node/v2-server.ts";
import { msToNanos } from "../../v2store/apply.ts";
import { V2Code, V2Error } from "../../v2store/errors.ts";
import { eventJson, isCreated } from "../../v2store/event.ts";
import type { V2Watcher } from "../../v2store/watcher-hub.ts";
import { FormError, formValue, parseForm, type FormRequest, type FormValues } from "./form.ts";
import type { V2HttpCounters } from "../../metrics/v2-http-counters.ts";

const KEYS_PREFIX = "/v2/keys";

/** What the keys handler needs from the member. */
export interface KeysDeps {
  clusterId: bigint;
  v2: V2Server;
  /** Wall clock, epoch ms (a TTL's expiry is computed here, as etcd's handler does). */
  nowMs(): number;
  /** The `etcd_http_*` metrics. */
  httpCounters: V2HttpCounters;
}

/** Go's http.Error 405 with the `Allow` header etcd's allowMethod sets. */
export function methodNotAllowed(allow: string[]): Response {
  return new Response("Method Not Allowed\n", {
    status: 405,
    headers: { allow: allow.join(","), "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/**
 * A `/v2/keys` answer before it is written: status, headers and body (null for HEAD). The headers
 * are in name order (as Go's Header.Write and the hono route's Web Headers write them), so the
 * HTTP/1.1 fast path writes them as they are.
 */
export interface KeysAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** `headers` with its names in order (see {@link KeysAnswer}). */
function sortedHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) out[name] = headers[name]!;
  return out;
}

/** A long-poll watch to answer (etcd's handleKeyWatch): 200 with `headers`, then the watcher's events. */
export interface KeysWatch {
  headers: Record<string, string>;
  watcher: V2Watcher;
  /** `stream=true`: every event, not only the first. */
  stream: boolean;
}

/** A v2 error as etcd writes it (v2error.Error.WriteTo). */
export function v2ErrorAnswer(e: V2Error, headers: Record<string, string> = {}): KeysAnswer {
  return {
    status: e.status,
    headers: sortedHeaders({ ...headers, "content-type": "application/json", "x-etcd-index": String(e.index) }),
    body: JSON.stringify(e.toJSON()) + "\n",
  };
}

/** {@link v2ErrorAnswer} as a Web Response. */
export function v2ErrorResponse(e: V2Error, headers: Record<string, string> = {}): Response {
  const a = v2ErrorAnswer(e, headers);
  return new Response(a.body, { status: a.status, headers: a.headers });
}

function getUint(form: FormValues, name: string, code: number, cause: string): number {
  const v = form.get(name);
  if (!v) return 0;
  try {
    return Number(goParseUint(v[0]!, 10));
  } catch {
    throw new V2Error(code, cause);
  }
}

function getBool(form: FormValues, name: string, cause = `invalid value for "${name}"`): boolean {
  const v = form.get(name);
  if (!v) return false;
  try {
    return goParseBool(v[0]!);
  } catch {
    throw new V2Error(V2Code.InvalidField, cause);
  }
}

/**
 * etcd's parseKeyRequest: the v2 request of an HTTP request and its `noValueOnSuccess`.
 * @throws V2Error 210 (bad form), 203 (prevIndex/waitIndex), 209 (booleans, wait with a method
 *   other than GET), 201 (empty prevValue), 202 (ttl), 211/212 (refresh with a value / no ttl)
 */
export async function parseKeyRequest(req: FormRequest, keyPath: string, nowMs: number): Promise<{ init: V2RequestInit; noValueOnSuccess: boolean }> {
  let form: FormValues;
  try {
    form = await parseForm(req);
  } catch (e) {
    if (e instanceof FormError) throw new V2Error(V2Code.InvalidForm, e.message);
    throw e;
  }
  const prevIndex = getUint(form, "prevIndex", V2Code.IndexNaN, `invalid value for "prevIndex"`);
  const waitIndex = getUint(form, "waitIndex", V2Code.IndexNaN, `invalid value for "waitIndex"`);
  const recursive = getBool(form, "recursive");
  const sorted = getBool(form, "sorted");
  const wait = getBool(form, "wait");
  const dir = getBool(form, "dir");
  const quorum = getBool(form, "quorum");
  const stream = getBool(form, "stream");
  if (wait && req.method !== "GET") throw new V2Error(V2Code.InvalidField, `"wait" can only be used with GET requests`);
  const prevValue = formValue(form, "prevValue");
  if (form.has("prevValue") && prevValue === "") throw new V2Error(V2Code.PrevValueRequired, `"prevValue" cannot be empty`);
  const noValueOnSuccess = getBool(form, "noValueOnSuccess");
  let ttl: number | undefined;
  if (formValue(form, "ttl").length > 0) ttl = getUint(form, "ttl", V2Code.TTLNaN, `invalid value for "ttl"`);
  let prevExist: boolean | undefined;
  if (form.has("prevExist")) prevExist = getBool(form, "prevExist", "invalid value for prevExist");
  let refresh: boolean | undefined;
  if (form.has("refresh")) {
    refresh = getBool(form, "refresh", "invalid value for refresh");
    if (refresh) {
      if (form.has("value") && formValue(form, "value") !== "") throw new V2Error(V2Code.RefreshValue, "A value was provided on a refresh");
      if (ttl === undefined) throw new V2Error(V2Code.RefreshTTLRequired, "No TTL value set");
    }
  }
  const init: V2RequestInit = {
    Method: req.method,
    Path: keyPath,
    Val: formValue(form, "value"),
    Dir: dir,
    PrevValue: prevValue,
    PrevIndex: BigInt(prevIndex),
    PrevExist: prevExist,
    Wait: wait,
    Since: BigInt(waitIndex),
    Recursive: recursive,
    Sorted: sorted,
    Quorum: quorum,
    Stream: stream,
    Refresh: refresh,
  };
  if (ttl !== undefined) init.Expiration = msToNanos(nowMs + ttl * 1000);
  return { init, noValueOnSuccess };
}

/**
 * The key path of a request URL (absolute, or a request target starting with `/`): the decoded
 * path after `/v2/keys`, cleaned later by the store.
 */
export function keyPathOf(url: string): string {
  const pathname = url.startsWith("/") ? url.split("?", 1)[0]! : new URL(url).pathname;
  let decoded = pathname;
  if (pathname.includes("%")) {
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = pathname;
    }
  }
  return decoded.slice(KEYS_PREFIX.length) || "/";
}

let lastClusterId: [bigint, string] = [0n, idToHex(0n)];

/** `X-Etcd-Cluster-Id`: the hex of the last cluster ID is kept (it does not change). */
function clusterIdHex(id: bigint): string {
  if (lastClusterId[0] !== id) lastClusterId = [id, idToHex(id)];
  return lastClusterId[1];
}

/** The methods `/v2/keys` serves (others: 405 with this list in `Allow`). */
export const KEYS_METHODS: readonly string[] = ["HEAD", "GET", "PUT", "POST", "DELETE"];

/** Serves one `/v2/keys` request as a Web Response (the hono route). */
export async function serveKeys(req: Request, deps: KeysDeps): Promise<Response> {
  if (!KEYS_METHODS.includes(req.method)) return methodNotAllowed([...KEYS_METHODS]);
  const a = await answerKeys(req, deps, req.signal);
  if ("watcher" in a) return watchResponse(a.watcher, a.headers, a.stream, req.signal);
  return new Response(a.body, { status: a.status, headers: a.headers });
}

/**
 * The answer to one `/v2/keys` request of a method in {@link KEYS_METHODS}: parsed, handed to
 * the member's v2 server and turned into etcd's status, headers and JSON, or a watch to stream.
 * `signal` aborts a proposal whose client went away.
 */
export async function answerKeys(req: FormRequest, deps: KeysDeps, signal?: Cancellation): Promise<KeysAnswer | KeysWatch> {
  const base = { "x-etcd-cluster-id": clusterIdHex(deps.clusterId) };
  let parsed: Awaited<ReturnType<typeof parseKeyRequest>>;
  try {
    parsed = await parseKeyRequest(req, keyPathOf(req.url), deps.nowMs());
  } catch (e) {
    if (e instanceof V2Error) return v2ErrorAnswer(e, base);
    throw e;
  }
  const started = performance.now();
  const method = parsed.init.Method === "GET" && parsed.init.Quorum ? "QGET" : parsed.init.Method!;
  if (!parsed.init.Wait) deps.httpCounters.receivedOne(method);
  let resp;
  try {
    resp = await deps.v2.do(parsed.init, signal);
  } catch (e) {
    // etcd's writeKeyError: any other error is a 300 with the error's text (counted as a 500).
    const err = e instanceof V2Error ? e : new V2Error(V2Code.RaftInternal, e instanceof ConnectError ? e.rawMessage : String(e), 0);
    deps.httpCounters.failedOne(method, e instanceof V2Error ? e.status : 500);
    return v2ErrorAnswer(err, base);
  }
  // In name order (see KeysAnswer).
  const headers = {
    "content-type": "application/json",
    "x-etcd-cluster-id": base["x-etcd-cluster-id"],
    "x-etcd-index": "",
    "x-raft-index": String(resp.raftIndex),
    "x-raft-term": String(resp.raftTerm),
  };
  if (resp.watcher) {
    headers["x-etcd-index"] = String(resp.watcher.startIndex);
    return { headers, watcher: resp.watcher, stream: parsed.init.Stream === true };
  }
  const ev = resp.event!;
  deps.httpCounters.completed(method, (performance.now() - started) / 1000);
  headers["x-etcd-index"] = String(ev.etcdIndex);
  const noValue =
    parsed.noValueOnSuccess && (ev.action === "set" || ev.action === "compareAndSwap" || ev.action === "create" || ev.action === "update");
  const body = req.method === "HEAD" ? null : eventJson(ev, noValue) + "\n";
  return { status: isCreated(ev) ? 201 : 200, headers, body };
}

/** etcd's handleKeyWatch: 200 and the headers at once, then one event (or every event with `stream`). */
function watchResponse(w: V2Watcher, headers: Record<string, string>, stream: boolean, signal: AbortSignal): Response {
  const enc = new TextEncoder();
  const stop = () => w.remove();
  signal.addEventListener("abort", stop, { once: true });
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const ev = await w.next();
      if (!ev) {
        controller.close();
        return;
      }
      controller.enqueue(enc.encode(eventJson(ev) + "\n"));
      if (!stream) {
        w.remove();
        controller.close();
      }
    },
    cancel: stop,
  });
  return new Response(body, { status: 200, headers });
}
