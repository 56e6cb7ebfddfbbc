/**
 * etcd's v2 HTTP client (`go.etcd.io/etcd/client`, httpClusterClient) for etcdctl's v2 mode:
 * a list of endpoints tried in turn (replaced by `Sync`, members.ts), a per-request header timeout
 * (`--timeout`) and a whole-command deadline (`--total-timeout`), and etcd's error texts:
 * `client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:1: connect:
 * connection refused`, `client: etcd member <ep> has no leader`, `context deadline exceeded`.
 *
 * Runtime-neutral (node:http/node:https, available under Bun and Deno).
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import { goQuote } from "../go/strconv.ts";

/** An error as Go's client returns it; `message` is its `Error()` text. */
export class V2ClientError extends Error {
  /** @param connection Go's `isConnectionError`: a dial/read failure or a timeout */
  constructor(
    message: string,
    readonly connection = false,
  ) {
    super(message);
  }
}

/** Go's `client.ClusterError`: one entry per endpoint tried. */
export class ClusterError extends V2ClientError {
  constructor(readonly errors: V2ClientError[]) {
    super(
      "client: etcd cluster is unavailable or misconfigured" + errors.map((e, i) => `; error #${i}: ${e.message}\n`).join(""),
      errors.every((e) => e.connection),
    );
  }

  /** Go's `ClusterError.Detail()`. */
  detail(): string {
    return this.errors.map((e, i) => `error #${i}: ${e.message}\n`).join("");
  }
}

/** `context deadline exceeded`: the `--total-timeout` ran out. */
export const DEADLINE_EXCEEDED = "context deadline exceeded";

/** Go's `client.ErrNoEndpoints`. */
export const ERR_NO_ENDPOINTS = "client: no endpoints available";

/** One HTTP request, as an etcd client action builds it. */
export interface V2Request {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path and query, already escaped (`/v2/keys/a?recursive=false`). */
  path: string;
  body?: string;
  contentType?: string;
  /** Long-poll watch: no header timeout. */
  wait?: boolean;
  /** Go's oneShot context: do not try the next endpoint after a failure (deletes, creates). */
  oneShot?: boolean;
}

/** A finished HTTP exchange. */
export interface V2HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** TLS material (`--ca-file --cert-file --key-file`), PEM contents; absent ones unused. */
export interface V2Tls {
  ca?: Uint8Array;
  cert?: Uint8Array;
  key?: Uint8Array;
}

/** Client settings from etcdctl's global flags. */
export interface V2ClientConfig {
  endpoints: string[];
  /** `--timeout` per request until response headers, ms (0: none). */
  headerTimeoutMs: number;
  tls: V2Tls;
  /** `--username user:password`, already split. */
  credentials?: { username: string; password: string };
  /** An HTTP proxy URL (`etcd --discovery-proxy`): plain-HTTP requests go through it. */
  proxy?: string;
  /** `--debug`: receives etcd's `cURL Command: curl -X <method> <url> [-d "<body>"]` line per request. */
  debug?: (line: string) => void;
}

/** Go's `net.OpError` text for a failed connect of `endpoint` (host:port). */
function dialError(e: NodeJS.ErrnoException, hostPort: string): V2ClientError {
  const texts: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused",
    EHOSTUNREACH: "connect: no route to host",
    ENETUNREACH: "connect: network is unreachable",
  };
  if (e.code && texts[e.code]) {
    const addr = (e as { address?: string }).address;
    const port = (e as { port?: number }).port;
    const target = addr !== undefined && port !== undefined ? (addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`) : hostPort;
    return new V2ClientError(`dial tcp ${target}: ${texts[e.code]}`, true);
  }
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") {
    return new V2ClientError(`dial tcp: lookup ${hostPort.replace(/:\d+$/, "")}: no such host`, true);
  }
  if (e.code === "ECONNRESET") return new V2ClientError(`read tcp ${hostPort}: read: connection reset by peer`, true);
  // Go's crypto/x509 texts for a server certificate that does not verify (not connection errors).
  if (e.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || e.code === "SELF_SIGNED_CERT_IN_CHAIN" || e.code === "DEPTH_ZERO_SELF_SIGNED_CERT" || e.code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY") {
    return new V2ClientError("x509: certificate signed by unknown authority");
  }
  return new V2ClientError(e.message, true);
}

/** Go's `path.Clean`. */
export function goPathClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
    } else out.push(part);
  }
  const s = (rooted ? "/" : "") + out.join("/");
  return s === "" ? (rooted ? "/" : ".") : s;
}

/** etcd's `pathutil.CanonicalURLPath`: rooted, cleaned, trailing slash kept. */
export function canonicalUrlPath(p: string): string {
  if (p === "") return "/";
  if (p[0] !== "/") p = "/" + p;
  let np = goPathClean(p);
  if (p.endsWith("/") && np !== "/") np += "/";
  return np;
}

const PATH_SAFE = /[A-Za-z0-9\-_.~$&+,/:;=@]/;

/** Go's `url.URL.EscapedPath` for a plain path (encodePath mode, upper-case hex). */
export function goEscapePath(p: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(p)) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && PATH_SAFE.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** Go's `url.Values.Encode`: keys sorted, `QueryEscape`d values. */
export function goQueryEncode(params: Record<string, string>): string {
  const esc = (s: string) => {
    let out = "";
    for (const b of new TextEncoder().encode(s)) {
      const c = String.fromCharCode(b);
      if (b < 0x80 && /[A-Za-z0-9\-_.~]/.test(c)) out += c;
      else if (c === " ") out += "+";
      else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  };
  return Object.keys(params)
    .sort()
    .map((k) => `${esc(k)}=${esc(params[k]!)}`)
    .join("&");
}

/**
 * The v2 cluster client: `do` tries endpoints from the pinned one on, as httpClusterClient.Do.
 * Endpoints are URLs as given (`http://127.0.0.1:2379`).
 */
export class V2Client {
  private endpoints: string[];
  private pinned = 0;
  private agentOptions: https.AgentOptions | undefined;

  constructor(private readonly config: V2ClientConfig) {
    this.endpoints = shuffle([...config.endpoints]);
  }

  /** The endpoints in use (after `sync`). */
  currentEndpoints(): string[] {
    return [...this.endpoints];
  }

  private tlsOptions(): https.AgentOptions {
    if (!this.agentOptions) {
      const { ca, cert, key } = this.config.tls;
      const pem = (b: Uint8Array) => Buffer.from(b);
      this.agentOptions = { ...(ca ? { ca: pem(ca) } : {}), ...(cert ? { cert: pem(cert) } : {}), ...(key ? { key: pem(key) } : {}) };
    }
    return this.agentOptions;
  }

  /** One request to one endpoint (Go's simpleHTTPClient.Do). */
  private once(endpoint: string, req: V2Request, deadline: number): Promise<V2HttpResponse> {
    if (this.config.debug) {
      // etcd client's printcURL: the URL as Go prints it, the body %q-quoted.
      const body = req.body !== undefined ? ` -d ${goQuote(req.body)}` : "";
      this.config.debug(`cURL Command: curl -X ${req.method} ${endpoint.replace(/\/$/, "")}${req.path}${body}`);
    }
    const url = new URL(endpoint);
    const hostPort = url.host;
    const base = url.pathname.replace(/\/$/, "");
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (req.contentType) headers["Content-Type"] = req.contentType;
      if (this.config.credentials) {
        const { username, password } = this.config.credentials;
        headers["Authorization"] = "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
      }
      const proxy = this.config.proxy && url.protocol === "http:" ? new URL(this.config.proxy) : undefined;
      const target = proxy ?? url;
      // Through a proxy, the request line carries the absolute URL (Go's http.ProxyURL).
      const path = proxy ? `${url.protocol}//${url.host}${base}${req.path}` : base + req.path;
      // A trailing dot (SRV targets keep Go's) names the same host.
      const options = { method: req.method, host: target.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, ""), port: target.port || (target.protocol === "https:" ? 443 : 80), path, headers };
      const r = url.protocol === "https:" ? https.request({ ...options, ...this.tlsOptions() }) : http.request(options);
      let settled = false;
      const timers: ReturnType<typeof setTimeout>[] = [];
      const fail = (e: V2ClientError) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        r.destroy();
        reject(e);
      };
      if (Number.isFinite(deadline)) {
        timers.push(setTimeout(() => fail(new V2ClientError(DEADLINE_EXCEEDED, true)), Math.max(0, deadline - Date.now())));
      }
      if (!req.wait && this.config.headerTimeoutMs > 0) {
        const header = setTimeout(() => fail(new V2ClientError(`client: endpoint ${endpoint} exceeded header timeout`)), this.config.headerTimeoutMs);
        timers.push(header);
        r.once("response", () => clearTimeout(header));
      }
      r.once("error", (e: NodeJS.ErrnoException) => fail(dialError(e, hostPort)));
      r.once("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("end", () => {
          if (settled) return;
          settled = true;
          timers.forEach(clearTimeout);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) });
        });
        res.once("error", (e: NodeJS.ErrnoException) => fail(dialError(e, hostPort)));
      });
      r.end(req.body);
    });
  }

  /**
   * httpClusterClient.Do: tries each endpoint from the pinned one; 5xx answers count as failures.
   * @param deadline absolute time (ms since epoch) of the command's total timeout (Infinity: none)
   * @throws V2ClientError `context deadline exceeded`, the first error of a one-shot request, or a {@link ClusterError}
   */
  async do(req: V2Request, deadline = Infinity): Promise<V2HttpResponse> {
    const n = this.endpoints.length;
    if (n === 0) throw new V2ClientError(ERR_NO_ENDPOINTS);
    const errors: V2ClientError[] = [];
    for (let i = this.pinned; i < n + this.pinned; i++) {
      const k = i % n;
      const ep = this.endpoints[k]!;
      let err: V2ClientError | undefined;
      let resp: V2HttpResponse | undefined;
      try {
        resp = await this.once(ep, req, deadline);
      } catch (e) {
        if (!(e instanceof V2ClientError)) throw e;
        if (e.message === DEADLINE_EXCEEDED) throw e;
        errors.push(e);
        err = e;
      }
      if (resp && Math.floor(resp.status / 100) === 5) {
        const text = resp.status === 500 || resp.status === 503 ? `client: etcd member ${ep} has no leader` : `client: etcd member ${ep} returns server error [${STATUS_TEXT[resp.status] ?? ""}]`;
        errors.push(new V2ClientError(text));
        err = errors[0];
      }
      if (err) {
        if (!req.oneShot) continue;
        this.pinned = (k + 1) % n;
        throw err;
      }
      this.pinned = k;
      return resp!;
    }
    throw new ClusterError(errors);
  }

  /**
   * httpClusterClient.Sync's update: adopts `eps` (shuffled, pinned to the first) unless they are
   * the endpoints in use already (same set).
   */
  setEndpoints(eps: string[]): void {
    const same = eps.length === this.endpoints.length && eps.every((e) => this.endpoints.includes(e));
    if (same) return;
    this.endpoints = shuffle([...eps]);
    this.pinned = 0;
  }
}

const STATUS_TEXT: Record<number, string> = { 501: "Not Implemented", 502: "Bad Gateway", 504: "Gateway Timeout", 505: "HTTP Version Not Supported" };

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Parses a JSON body as Go's json.Unmarshal would accept it; Go's error text otherwise. */
export function parseJsonBody(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.parse(text);
  } catch {
    throw new V2ClientError(text.trim() === "" ? "unexpected end of JSON input" : "invalid character in JSON body");
  }
}
