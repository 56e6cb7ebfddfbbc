/**
 * The console's only way to the member: the public etcd API over connect-web (Connect protocol,
 * binary messages, `fetch` on this page's origin, so HTTP/1.1 or HTTP/2, cleartext or TLS as the
 * page was loaded). The auth token from Authenticate is sent as the `token` header, as etcd's
 * clients send it in gRPC metadata. Lease keep-alive, a bidirectional stream that `fetch` cannot
 * carry, goes through etcd's JSON gateway (`POST /v3/lease/keepalive`), also public API.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Auth, Cluster, KV, Lease, Maintenance } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Watch } from "../../../proto/gen/etcdts/watch_pb.ts";

const TOKEN_KEY = "etcd-console-token";
const USER_KEY = "etcd-console-user";

/** The logged-in user and token (sessionStorage: gone when the tab closes). */
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user(): string | null {
    return sessionStorage.getItem(USER_KEY);
  },
  set(user: string, token: string): void {
    sessionStorage.setItem(USER_KEY, user);
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

const withToken: Interceptor = (next) => (req) => {
  const t = session.token;
  if (t) req.header.set("token", t);
  return next(req);
};

/** A transport to `baseUrl` (default: this page's origin). */
export function transportTo(baseUrl: string = location.origin): Transport {
  return createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [withToken] });
}

const transport = transportTo();

/** The etcd services of the member that served the page. */
export const api: {
  kv: Client<typeof KV>;
  watch: Client<typeof Watch>;
  lease: Client<typeof Lease>;
  cluster: Client<typeof Cluster>;
  maintenance: Client<typeof Maintenance>;
  auth: Client<typeof Auth>;
} = {
  kv: createClient(KV, transport),
  watch: createClient(Watch, transport),
  lease: createClient(Lease, transport),
  cluster: createClient(Cluster, transport),
  maintenance: createClient(Maintenance, transport),
  auth: createClient(Auth, transport),
};

/** Maintenance client of another member (its client URL; needs `--cors` to allow this origin). */
export function maintenanceAt(url: string): Client<typeof Maintenance> {
  return createClient(Maintenance, transportTo(url));
}

/**
 * Keeps lease `id` alive once through the JSON gateway; resolves the new TTL in seconds (0: the
 * lease is gone). Rejects with the gateway's error (`<message> (gRPC code N)`).
 */
export async function keepAliveOnce(id: bigint): Promise<number> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (session.token) headers.authorization = session.token;
  const resp = await fetch(`${location.origin}/v3/lease/keepalive`, { method: "POST", headers, body: JSON.stringify({ ID: id.toString() }) });
  const line = (await resp.text()).split("\n")[0] ?? "";
  const body = JSON.parse(line || "{}") as { result?: { TTL?: string }; error?: { message?: string; code?: number } };
  if (body.error) throw new ConnectError(body.error.message ?? "keep-alive failed", (body.error.code ?? Code.Unknown) as Code);
  return Number(body.result?.TTL ?? 0);
}

/** `<CodeName> (<n>): <message>` for a failed call, as the console shows errors. */
export function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  return `${Code[err.code] ?? "Unknown"} (${err.code}): ${err.rawMessage}`;
}

/** Whether a failure means the member could not be reached at all (network, not an etcd error). */
export function isConnectionError(e: unknown): boolean {
  const err = ConnectError.from(e);
  return err.code === Code.Unavailable || (err.code === Code.Unknown && /fetch|network|Failed/i.test(err.rawMessage));
}

/** Whether a failure asks for a login (auth enabled and no or a stale token). */
export function needsLogin(e: unknown): boolean {
  const m = ConnectError.from(e).rawMessage;
  return /user name is empty|invalid auth token/.test(m);
}

/** Bytes of a key or value given as text. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Text of key or value bytes. */
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
