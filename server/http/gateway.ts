/**
 * etcd 3.4's JSON gateway (grpc-gateway v1 over the v3 API, etcdserverpb/gw/rpc.pb.gw.go) for
 * the KV, Lease and Auth services: `POST /v3/kv/range|put|deleterange|txn|compaction`,
 * `POST /v3/lease/grant|revoke|timetolive|leases` (also under `/v3/kv/lease/...`), the
 * streaming `POST /v3/lease/keepalive`, and `POST /v3/auth/enable|disable|authenticate`,
 * `/v3/auth/user/add|get|list|delete|changepw|grant|revoke`,
 * `/v3/auth/role/add|get|list|delete|grant|revoke`; Cluster and Maintenance
 * (server/http/gateway-admin.ts); Lock and Election (server/http/gateway-concurrency.ts);
 * `/v3beta/...` is the same (etcd rewrites it). The `Authorization` header carries the token
 * from `/v3/auth/authenticate`, as grpc-gateway forwards it to etcd's `authorization` metadata.
 *
 * Bodies are protobuf JSON with etcd's marshaling (jsonpb, OrigName, EmitDefaults false):
 * original proto field names (`create_revision`, `ID`, `grantedTTL`), int64/uint64 as decimal
 * strings, bytes as base64, enums by name, default values left out. Requests accept both field
 * spellings, numbers or strings for int64, and ignore unknown fields; an empty body is `{}`.
 * Failures answer grpc-gateway's error body `{"error":msg,"message":msg,"code":grpcCode}` with
 * grpc-gateway's HTTP status for the code (e.g. NotFound → 404, FailedPrecondition → 412).
 * Requests pass through the same validation as the gRPC services (server/api).
 */
import { create, fromJson, toJsonString, type DescMessage, type DescMethod, type JsonValue, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import type { Hono } from "hono";
import { Auth, KV, Lease, LeaseKeepAliveRequestSchema, LeaseKeepAliveResponseSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { authService } from "../api/auth.ts";
import { kvService, type KvOptions } from "../api/kv.ts";
import { keepAliveOnce, leaseService } from "../api/lease.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { adminGatewayRoutes } from "./gateway-admin.ts";
import { concurrencyGatewayRoutes } from "./gateway-concurrency.ts";
import { goCheckMessage, GoJsonFieldError } from "./go-json-fields.ts";
import { goJsonSyntaxError } from "./go-json-syntax.ts";

/**
 * One unary gateway method: request and response messages and the handler. The handler gets a
 * context whose signal aborts when the HTTP client goes away (a waiting Lock or Campaign
 * withdraws then) and whose headers carry the `Authorization` token.
 */
export interface UnaryRoute {
  method: DescMethod;
  input: DescMessage;
  output: DescMessage;
  call(req: Message, ctx: HandlerContext): Promise<Message>;
}

/** grpc-gateway v1's HTTPStatusFromCode. */
const HTTP_STATUS: Record<number, number> = {
  [Code.Canceled]: 408,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.Unauthenticated]: 401,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 412,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
};

const JSON_HEADERS = { "content-type": "application/json", "grpc-metadata-content-type": "application/grpc" };

/** The gateway's JSON of a response message (jsonpb with original names, defaults omitted). */
export function gatewayJson(schema: DescMessage, msg: Message): string {
  return toJsonString(schema, msg, { useProtoFieldName: true });
}

/** grpc-gateway's error object for `e` (ConnectError code and message; anything else is Unknown). */
export function gatewayError(e: unknown): { status: number; body: string } {
  const err = ConnectError.from(e);
  const message = err.rawMessage;
  return { status: HTTP_STATUS[err.code] ?? 500, body: JSON.stringify({ error: message, message, code: err.code }) };
}

export function errorResponse(e: unknown): Response {
  const { status, body } = gatewayError(e);
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

/** Go's json error for a body that is valid JSON but not an object. */
function notAnObject(v: unknown): ConnectError {
  const kind = Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v;
  return new ConnectError(`json: cannot unmarshal ${kind} into Go value of type map[string]json.RawMessage`, Code.InvalidArgument);
}

/**
 * Decodes one request value (already parsed JSON) into `schema`: `null` is an empty request;
 * non-objects and bad field values fail with InvalidArgument.
 */
export function decodeRequest<T extends Message>(schema: DescMessage, value: unknown): T {
  if (value === null) value = {};
  if (typeof value !== "object" || Array.isArray(value)) throw notAnObject(value);
  try {
    value = goCheckMessage(schema, value);
  } catch (e) {
    if (e instanceof GoJsonFieldError) throw new ConnectError(e.message, Code.InvalidArgument);
    throw e;
  }
  try {
    // Strict first, so a bad enum name fails as in jsonpb; unknown fields alone are ignored.
    return fromJson(schema, value as JsonValue) as T;
  } catch (strict) {
    const message = strict instanceof Error ? strict.message : String(strict);
    if (/ is unknown$/.test(message)) {
      try {
        return fromJson(schema, value as JsonValue, { ignoreUnknownFields: true }) as T;
      } catch (e) {
        throw new ConnectError(e instanceof Error ? e.message : String(e), Code.InvalidArgument);
      }
    }
    throw new ConnectError(jsonpbMessage(message), Code.InvalidArgument);
  }
}

/** jsonpb's text for a bad enum name (`unknown value "X" for enum etcdserverpb.RangeRequest_SortOrder`); others as given. */
function jsonpbMessage(message: string): string {
  const m = /cannot decode enum ([\w.]+) from JSON: (".*")$/.exec(message);
  if (!m) return message;
  const [pkg, ...rest] = m[1]!.split(".");
  return `unknown value ${m[2]} for enum ${pkg}.${rest.join("_")}`;
}

/**
 * Parses a request body as grpc-gateway's json.Decoder does: empty = `{}`, only the first JSON
 * value counts; malformed JSON fails with InvalidArgument and Go's message (`unexpected EOF`,
 * `invalid character 'b' looking for beginning of object key string`...).
 */
export function parseBody(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    const syntax = goJsonSyntaxError(text);
    if (syntax !== undefined) throw new ConnectError(syntax, Code.InvalidArgument);
    const first = splitJsonValues(text)[0];
    if (first !== undefined) return first;
    throw new ConnectError("invalid character after top-level value", Code.InvalidArgument);
  }
}

/**
 * Splits a streaming request body into its JSON values (one per line, or concatenated
 * objects), as Go's json.Decoder reads them; stops at the first value that does not parse.
 */
export function splitJsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if (c === "}" || c === "]") {
      if (--depth === 0 && start >= 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return out;
        }
        start = -1;
      }
    }
  }
  return out;
}

/** A handler of a Connect service implementation (server/api) as the gateway calls it. */
export type Handler = (req: Message, ctx: HandlerContext) => unknown;

/**
 * The route of `method` over `impl` (a Connect service implementation); the handler's answer (a
 * message or its init shape) is completed into the method's output message.
 */
export function serviceRoute(method: DescMethod, impl: Record<string, Handler>): UnaryRoute {
  return {
    method,
    input: method.input,
    output: method.output,
    call: async (req, ctx) => create(method.output, (await impl[method.localName]!(req, ctx)) as never) as Message,
  };
}

/** The unary routes, by path after `/v3/`. */
function unaryRoutes(api: EtcdServerApi, opts: KvOptions): Map<string, UnaryRoute> {
  const kv = kvService(api, opts) as unknown as Record<string, Handler>;
  const lease = leaseService(api) as unknown as Record<string, Handler>;
  const auth = authService(api) as unknown as Record<string, Handler>;
  const revoke = serviceRoute(Lease.method.leaseRevoke, lease);
  const ttl = serviceRoute(Lease.method.leaseTimeToLive, lease);
  const leases = serviceRoute(Lease.method.leaseLeases, lease);
  return new Map([
    ["kv/range", serviceRoute(KV.method.range, kv)],
    ["kv/put", serviceRoute(KV.method.put, kv)],
    ["kv/deleterange", serviceRoute(KV.method.deleteRange, kv)],
    ["kv/txn", serviceRoute(KV.method.txn, kv)],
    ["kv/compaction", serviceRoute(KV.method.compact, kv)],
    ["lease/grant", serviceRoute(Lease.method.leaseGrant, lease)],
    ["lease/revoke", revoke],
    ["kv/lease/revoke", revoke],
    ["lease/timetolive", ttl],
    ["kv/lease/timetolive", ttl],
    ["lease/leases", leases],
    ["kv/lease/leases", leases],
    ["auth/enable", serviceRoute(Auth.method.authEnable, auth)],
    ["auth/disable", serviceRoute(Auth.method.authDisable, auth)],
    ["auth/authenticate", serviceRoute(Auth.method.authenticate, auth)],
    ["auth/user/add", serviceRoute(Auth.method.userAdd, auth)],
    ["auth/user/get", serviceRoute(Auth.method.userGet, auth)],
    ["auth/user/list", serviceRoute(Auth.method.userList, auth)],
    ["auth/user/delete", serviceRoute(Auth.method.userDelete, auth)],
    ["auth/user/changepw", serviceRoute(Auth.method.userChangePassword, auth)],
    ["auth/user/grant", serviceRoute(Auth.method.userGrantRole, auth)],
    ["auth/user/revoke", serviceRoute(Auth.method.userRevokeRole, auth)],
    ["auth/role/add", serviceRoute(Auth.method.roleAdd, auth)],
    ["auth/role/get", serviceRoute(Auth.method.roleGet, auth)],
    ["auth/role/list", serviceRoute(Auth.method.roleList, auth)],
    ["auth/role/delete", serviceRoute(Auth.method.roleDelete, auth)],
    ["auth/role/grant", serviceRoute(Auth.method.roleGrantPermission, auth)],
    ["auth/role/revoke", serviceRoute(Auth.method.roleRevokePermission, auth)],
    // etcd 3.5's route for AuthStatus (etcd 3.4 has neither the RPC nor the route).
    ["auth/status", serviceRoute(Auth.method.authStatus, auth)],
    ...adminGatewayRoutes(api),
    ...concurrencyGatewayRoutes(api),
  ]);
}

/**
 * The handler context of a gateway call: the request's headers as metadata (so `Authorization`
 * reaches the handlers as etcd's `authorization` token field); no TLS identity, as etcd ignores
 * client certificates on requests through its gateway.
 */
export function gatewayContext(method: DescMethod, request: Request): HandlerContext {
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc-gateway",
    requestMethod: "POST",
    url: request.url,
    requestHeader: request.headers,
    requestSignal: request.signal,
  });
}

/**
 * The answer for a path under the gateway's prefixes that names no method: grpc-gateway's
 * 404 `Not Found` (text/plain). Undefined for paths outside `/v3/` and `/v3beta/`.
 */
export function gatewayNotFound(path: string): Response | undefined {
  if (!path.startsWith("/v3/") && !path.startsWith("/v3beta/")) return undefined;
  return new Response("Not Found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

export function methodNotAllowed(): Response {
  return new Response("Method Not Allowed\n", {
    status: 405,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/**
 * `POST /v3/lease/keepalive`: each JSON object of the body is one keep-alive; the answer
 * streams one line `{"result":<LeaseKeepAliveResponse>}` per request (TTL left out when 0:
 * unknown or expired lease), or `{"error":{...}}` and stops on a failure.
 */
async function keepAlive(api: EtcdServerApi, body: string): Promise<Response> {
  const lines: string[] = [];
  for (const value of splitJsonValues(body.trim() === "" ? "{}" : body)) {
    try {
      const req = decodeRequest<Message & { ID: bigint }>(LeaseKeepAliveRequestSchema, value);
      const resp = await keepAliveOnce(api, req.ID);
      lines.push(`{"result":${gatewayJson(LeaseKeepAliveResponseSchema, resp)}}\n`);
    } catch (e) {
      lines.push(`{"error":${gatewayError(e).body}}\n`);
      break;
    }
  }
  return new Response(lines.join(""), { status: 200, headers: JSON_HEADERS });
}

/**
 * Mounts the gateway routes on `app` under `/v3/` and `/v3beta/`: POST only (other methods
 * get Go's 405 `Method Not Allowed`).
 */
export function mountGateway(app: Hono, api: EtcdServerApi, opts: KvOptions): void {
  const routes = unaryRoutes(api, opts);
  for (const prefix of ["/v3/", "/v3beta/"]) {
    for (const [path, r] of routes) {
      app.all(prefix + path, async (c) => {
        if (c.req.method !== "POST") return methodNotAllowed();
        try {
          const req = decodeRequest(r.input, parseBody(await c.req.text()));
          const resp = await r.call(req, gatewayContext(r.method, c.req.raw));
          return new Response(gatewayJson(r.output, resp), { status: 200, headers: JSON_HEADERS });
        } catch (e) {
          return errorResponse(e);
        }
      });
    }
    app.all(prefix + "lease/keepalive", async (c) => {
      if (c.req.method !== "POST") return methodNotAllowed();
      return keepAlive(api, await c.req.text());
    });
  }
}
