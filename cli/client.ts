/**
 * gRPC client of the etcd v3 API for the CLI: `@connectrpc/connect-node`'s gRPC transport over
 * `node:http2` (works unchanged in Bun and Deno), one transport per endpoint, the etcd service
 * descriptors from `proto/gen`.
 *
 * Timeouts and retries behave like etcdctl 3.4 on clientv3 (`clientv3/retry_interceptor.go`):
 * while no endpoint accepts a connection, calls keep retrying every endpoint until the command
 * deadline and then fail with `context deadline exceeded`; read-only ("repeatable") calls also
 * retry server errors with code Unavailable (`etcdserver: no leader`...) every ~25 ms, at most 100
 * attempts; errors come back as clientv3 shows them (the bare etcd message for known etcd errors,
 * `rpc error: code = X desc = Y` otherwise).
 *
 * Authentication as clientv3 3.4 (`client.go` `getToken`, `retry_interceptor.go`): with a user
 * name and a password (both non-empty), {@link EtcdClient.authenticate} calls `Auth.Authenticate`
 * before any other call, within `--dial-timeout`, and every later call (unary and streams: watch,
 * lease keep-alive) carries the token as gRPC metadata `token` (an HTTP/2 header). A server
 * answer `etcdserver: invalid auth token` or `etcdserver: revision of auth store is old` (or
 * `etcdserver: user name is empty` while credentials are set) makes the client fetch a new token
 * and repeat the call. `etcdserver: authentication is not enabled` from Authenticate means no
 * token is used.
 *
 * Transport security: see `tls.ts` (which endpoints use TLS, node:http2 options).
 */
import {
  Code,
  ConnectError,
  createClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../server/errors.ts";
import type { Credentials } from "./credentials.ts";
import { CtlError, ExitCode } from "./errors.ts";
import { endpointTarget, type ClientTls } from "./tls.ts";
import { HandshakeCheckedSessionManager, IS_DENO } from "./h2-session.ts";

/** Connection settings, all durations in milliseconds. */
export interface ClientConfig {
  /** `host:port` or `http://host:port` endpoints, tried in order. */
  endpoints: string[];
  /** Default deadline of a call (`--command-timeout`). */
  commandTimeoutMs: number;
  /** HTTP/2 PING interval (`--keepalive-time`). */
  keepAliveTimeMs: number;
  /** How long to wait for a PING answer (`--keepalive-timeout`). */
  keepAliveTimeoutMs: number;
  /** Deadline of fetching the auth token in {@link EtcdClient.authenticate} (`--dial-timeout`); default 2000. */
  dialTimeoutMs?: number;
  /** Who to authenticate as (`--user`); none: no token. */
  credentials?: Credentials;
  /** TLS configuration from the flags (`tls.ts`); none: only `https://` endpoints use TLS, with defaults. */
  tls?: ClientTls;
  /**
   * Builds the transport for an endpoint URL (tests); it must apply `interceptors` (they add the
   * auth token). Default: connect-node's gRPC transport.
   */
  transport?: (baseUrl: string, interceptors: Interceptor[]) => Transport;
}

/** Typed clients of the etcd services on one endpoint (streaming ones for watch/lease keep-alive too). */
export interface Services {
  kv: Client<typeof KV>;
  watch: Client<typeof Watch>;
  lease: Client<typeof Lease>;
  cluster: Client<typeof Cluster>;
  maintenance: Client<typeof Maintenance>;
  auth: Client<typeof Auth>;
}

/** Per-call settings of {@link EtcdClient.call}. */
export interface CallSettings {
  /** Talk to this endpoint only (as `clientv3.Status(ctx, endpoint)` does). */
  endpoint?: string;
  /** Deadline in ms; `null` for none (etcdctl's txn uses `context.Background()`). Default: command timeout. */
  timeoutMs?: number | null;
  /** A read-only RPC (Range, MemberList, Status...): server `Unavailable` errors are retried. */
  repeatable?: boolean;
  /** The Authenticate call itself: no token refresh on its errors. */
  authCall?: boolean;
}

/** Socket errors meaning the request never reached a server, so retrying is safe. */
const DIAL_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * TLS handshake failures (node:tls error codes such as `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`, `ERR_TLS_CERT_ALTNAME_INVALID`, or a reset before the
 * handshake ended; under Deno, EPIPE on the first write of a TLS session whose client certificate the
 * server refused): the request was not sent either. connect-node reports them with various codes
 * (Internal, Aborted); like grpc-go, the client keeps trying until the deadline
 * (`context deadline exceeded`).
 */
function isTlsFailure(e: ConnectError, code: string, secure: boolean): boolean {
  if (code === "ECONNRESET") return e.rawMessage.includes("secure TLS connection");
  // Deno: a server refusing the client certificate after a TLS 1.3 handshake breaks the first write.
  if (code === "EPIPE") return secure;
  return (
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
  );
}

/** Pause between rounds over all endpoints while none accepts connections. */
const RETRY_PAUSE_MS = 200;

/** clientv3's retry interceptor: attempts of one unary call and the pause between them (+0-10% jitter). */
const MAX_ATTEMPTS = 100;
const BACKOFF_MS = 25;

/**
 * The messages etcdctl prints bare: those clientv3 turns back into etcd errors (rpctypes'
 * errStringToError) and Go's context errors. Errors the server passes through as Unknown from
 * etcd's auth package (`auth: ...`) are not among them and print as `rpc error: ...`.
 */
const KNOWN_ETCD_ERRORS = new Set(
  Object.values(Errors)
    .map((make) => make().rawMessage)
    .filter((message) => !message.startsWith("auth: ")),
);

/** The message clientv3 gives the user for the deadline of the command context expiring. */
export const DEADLINE_EXCEEDED = "context deadline exceeded";

/**
 * Whether a failed call never reached a server, so that trying again (until the deadline) is
 * safe: refused connections, failed TLS handshakes, and on a session that has not answered yet
 * (`answered` false) a stream cancelled or a write broken without any response (a plaintext
 * client talking to a TLS port, or a TLS client the server refused).
 */
function isDialFailure(e: unknown, secure: boolean, answered: boolean): boolean {
  if (!(e instanceof ConnectError) || e.metadata.has("grpc-status")) return false;
  const cause = e.cause as { code?: unknown } | undefined;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  // The peer reset the stream (RST_STREAM CANCEL), as opposed to our own aborted signal.
  const resetByPeer = e.code === Code.Canceled && e.rawMessage.includes("stream closed with error code CANCEL");
  if (!answered && (resetByPeer || code === "EPIPE" || code === "ECONNRESET")) return true;
  if (code === undefined) return false;
  return (e.code === Code.Unavailable && DIAL_ERRORS.has(code)) || isTlsFailure(e, code, secure);
}

/** Server answers after which clientv3 fetches a new token and repeats the call (`shouldRefreshToken`). */
const STALE_TOKEN_ERRORS = new Set([Errors.InvalidAuthToken().rawMessage, Errors.AuthOldRevision().rawMessage]);
const USER_EMPTY = Errors.UserEmpty().rawMessage;
const AUTH_NOT_ENABLED = Errors.AuthNotEnabled().rawMessage;

/** clientv3's default `DialTimeout` in etcdctl (`--dial-timeout`), ms. */
const DEFAULT_DIAL_TIMEOUT_MS = 2000;

/**
 * The text etcdctl prints for a failed RPC: known etcd errors (rpctypes) by their message, other
 * gRPC statuses as `rpc error: code = <Code> desc = <message>`.
 */
export function rpcErrorText(e: unknown): string {
  if (!(e instanceof ConnectError)) return e instanceof Error ? e.message : String(e);
  if (KNOWN_ETCD_ERRORS.has(e.rawMessage)) return e.rawMessage;
  return `rpc error: code = ${Code[e.code]} desc = ${e.rawMessage}`;
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An etcd client bound to a list of endpoints. */
export class EtcdClient {
  private readonly services = new Map<string, Services>();
  /** Endpoints whose current session has answered a call (see isDialFailure). */
  private readonly answered = new Set<string>();
  /** The auth token sent with every call; undefined: none. */
  private token: string | undefined;
  /** Adds the `token` metadata to every call, unary or streaming. */
  private readonly tokenInterceptor: Interceptor = (next) => (req) => {
    if (this.token !== undefined) req.header.set("token", this.token);
    return next(req);
  };

  /** @param config endpoints, timeouts, credentials and TLS */
  constructor(readonly config: ClientConfig) {}

  /** clientv3 authenticates only with both a user name and a password. */
  private get authenticates(): boolean {
    const c = this.config.credentials;
    return c !== undefined && c.user !== "" && c.password !== "";
  }

  /**
   * clientv3's `getToken` while dialing: fetches the auth token (when credentials are set) trying
   * every endpoint until `dialTimeoutMs`. Call once before the command's calls.
   * @throws CtlError exit 2 (etcdctl's ExitBadConnection for a failed `clientv3.New`) with the
   *   server's error, e.g. `etcdserver: authentication failed, invalid user ID or password`, or
   *   `context deadline exceeded` when no endpoint answered in time
   */
  async authenticate(): Promise<void> {
    if (!this.authenticates) return;
    try {
      await this.fetchToken(this.config.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS);
    } catch (e) {
      throw e instanceof CtlError ? new CtlError(ExitCode.BadConnection, e.message) : e;
    }
  }

  /**
   * A new token, as clientv3 3.4.23's stream interceptor fetches one before it opens a stream: for
   * streams opened again after a break (a restarted etcd has forgotten its simple tokens).
   * No-op without credentials.
   * @throws CtlError exit 1 when no token can be had within `dialTimeoutMs`
   */
  async refreshToken(): Promise<void> {
    if (this.authenticates) await this.fetchToken(this.config.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS);
  }

  /** Clears the token and fetches a new one; none when the server has auth disabled. */
  private async fetchToken(timeoutMs: number): Promise<void> {
    const { user: name, password } = this.config.credentials!;
    this.token = undefined;
    try {
      const resp = await this.call((s, o) => s.auth.authenticate({ name, password }, o), { timeoutMs, authCall: true });
      this.token = resp.token;
    } catch (e) {
      if (!(e instanceof CtlError && e.message === AUTH_NOT_ENABLED)) throw e;
    }
  }

  private shouldRefreshToken(e: unknown): boolean {
    if (!(e instanceof ConnectError)) return false;
    if (e.rawMessage === USER_EMPTY) return this.authenticates;
    return STALE_TOKEN_ERRORS.has(e.rawMessage);
  }

  private servicesFor(endpoint: string): Services {
    let s = this.services.get(endpoint);
    if (!s) {
      const { baseUrl, nodeOptions } = endpointTarget(endpoint, this.config.tls);
      const interceptors = [this.tokenInterceptor];
      const ping = { pingIntervalMs: this.config.keepAliveTimeMs, pingTimeoutMs: this.config.keepAliveTimeoutMs };
      // Under Deno a refused TLS handshake would hang connect-node's own manager (h2-session.ts).
      const sessionManager =
        IS_DENO && nodeOptions
          ? new HandshakeCheckedSessionManager(baseUrl, ping, nodeOptions, this.config.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)
          : undefined;
      const transport =
        this.config.transport?.(baseUrl, interceptors) ??
        createGrpcTransport({
          baseUrl,
          interceptors,
          ...ping,
          ...(sessionManager ? { sessionManager } : nodeOptions ? { nodeOptions } : {}),
        });
      s = {
        kv: createClient(KV, transport),
        watch: createClient(Watch, transport),
        lease: createClient(Lease, transport),
        cluster: createClient(Cluster, transport),
        maintenance: createClient(Maintenance, transport),
        auth: createClient(Auth, transport),
      };
      this.services.set(endpoint, s);
    }
    return s;
  }

  /**
   * Runs one RPC, retrying on other endpoints (and again after a pause) while connections are
   * refused or TLS handshakes fail, until the deadline; repeatable calls also retry server
   * `Unavailable` errors; a stale auth token is replaced and the call repeated (see module doc).
   * @param rpc performs the call with the given services and call options (carrying the deadline)
   * @throws CtlError exit 1 with `context deadline exceeded` or the RPC's error text (for a failed
   *   token refresh, the Authenticate error)
   */
  async call<T>(rpc: (s: Services, options: CallOptions) => Promise<T>, settings: CallSettings = {}): Promise<T> {
    const endpoints = settings.endpoint !== undefined ? [settings.endpoint] : this.config.endpoints;
    const timeoutMs = settings.timeoutMs === undefined ? this.config.commandTimeoutMs : settings.timeoutMs;
    const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
    let serverAttempts = 0;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new CtlError(ExitCode.Error, DEADLINE_EXCEEDED);
      const options: CallOptions = Number.isFinite(remaining) ? { timeoutMs: Math.ceil(remaining) } : {};
      const endpoint = endpoints[attempt % endpoints.length]!;
      try {
        const result = await rpc(this.servicesFor(endpoint), options);
        this.answered.add(endpoint);
        return result;
      } catch (e) {
        const secure = endpointTarget(endpoint, this.config.tls).nodeOptions !== undefined;
        if (isDialFailure(e, secure, this.answered.has(endpoint))) {
          // The next attempt opens a fresh session rather than reusing one whose setup failed.
          this.services.delete(endpoint);
          this.answered.delete(endpoint);
          if ((attempt + 1) % endpoints.length === 0) await sleep(Math.min(RETRY_PAUSE_MS, Math.max(0, deadline - Date.now())));
          continue;
        }
        if (e instanceof ConnectError && e.metadata.has("grpc-status")) this.answered.add(endpoint);
        if (!settings.authCall && this.shouldRefreshToken(e) && ++serverAttempts < MAX_ATTEMPTS) {
          if (this.authenticates) await this.fetchToken(Math.max(0, deadline - Date.now()));
          continue;
        }
        if (settings.repeatable && e instanceof ConnectError && e.code === Code.Unavailable && ++serverAttempts < MAX_ATTEMPTS) {
          await sleep(Math.min(BACKOFF_MS * (1 + Math.random() * 0.1), Math.max(0, deadline - Date.now())));
          continue;
        }
        const clientSide = e instanceof ConnectError && !e.metadata.has("grpc-status");
        if (e instanceof ConnectError && e.code === Code.DeadlineExceeded && (clientSide || Date.now() >= deadline)) {
          throw new CtlError(ExitCode.Error, DEADLINE_EXCEEDED);
        }
        throw new CtlError(ExitCode.Error, rpcErrorText(e));
      }
    }
  }
}
