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
 */
import { Code, ConnectError, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../server/errors.ts";
import { CtlError, ExitCode } from "./errors.ts";

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
  /** Builds the transport for an endpoint URL (tests); default: connect-node's gRPC transport. */
  transport?: (baseUrl: string) => Transport;
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
}

/** Socket errors meaning the request never reached a server, so retrying is safe. */
const DIAL_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"]);

/** Pause between rounds over all endpoints while none accepts connections. */
const RETRY_PAUSE_MS = 200;

/** clientv3's retry interceptor: attempts of one unary call and the pause between them (+0-10% jitter). */
const MAX_ATTEMPTS = 100;
const BACKOFF_MS = 25;

const KNOWN_ETCD_ERRORS = new Set(Object.values(Errors).map((make) => make().rawMessage));

/** The message clientv3 gives the user for the deadline of the command context expiring. */
export const DEADLINE_EXCEEDED = "context deadline exceeded";

function isDialFailure(e: unknown): boolean {
  if (!(e instanceof ConnectError) || e.code !== Code.Unavailable) return false;
  const cause = e.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "string" && DIAL_ERRORS.has(cause.code);
}

/**
 * The text etcdctl prints for a failed RPC: known etcd errors (rpctypes) by their message, other
 * gRPC statuses as `rpc error: code = <Code> desc = <message>`.
 */
export function rpcErrorText(e: unknown): string {
  if (!(e instanceof ConnectError)) return e instanceof Error ? e.message : String(e);
  if (KNOWN_ETCD_ERRORS.has(e.rawMessage)) return e.rawMessage;
  return `rpc error: code = ${Code[e.code]} desc = ${e.rawMessage}`;
}

/** `http://host:port` for an endpoint given as `host:port`. */
export function endpointUrl(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An etcd client bound to a list of endpoints. */
export class EtcdClient {
  private readonly services = new Map<string, Services>();

  /** @param config endpoints and timeouts */
  constructor(readonly config: ClientConfig) {}

  private servicesFor(endpoint: string): Services {
    let s = this.services.get(endpoint);
    if (!s) {
      const baseUrl = endpointUrl(endpoint);
      const transport =
        this.config.transport?.(baseUrl) ??
        createGrpcTransport({
          baseUrl,
          pingIntervalMs: this.config.keepAliveTimeMs,
          pingTimeoutMs: this.config.keepAliveTimeoutMs,
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
   * refused, until the deadline; repeatable calls also retry server `Unavailable` errors.
   * @param rpc performs the call with the given services and call options (carrying the deadline)
   * @throws CtlError exit 1 with `context deadline exceeded` or the RPC's error text
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
      try {
        return await rpc(this.servicesFor(endpoints[attempt % endpoints.length]!), options);
      } catch (e) {
        if (isDialFailure(e)) {
          if ((attempt + 1) % endpoints.length === 0) await sleep(Math.min(RETRY_PAUSE_MS, Math.max(0, deadline - Date.now())));
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
