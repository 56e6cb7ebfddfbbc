/**
 * clientv3/concurrency's Session as etcdctl's lock and elect open it (session.go): a lease of
 * `ttlSeconds` kept alive in the background (clientv3's KeepAlive, cli/commands/lease.ts) until
 * the session is orphaned or the lease is lost; {@link CliSession.done} resolves then.
 */
import type { EtcdClient } from "../client.ts";
import { keepAliveLoop } from "../commands/lease.ts";
import { DEFAULT_SESSION_TTL_S } from "../../server/concurrency/session.ts";

/** A granted lease kept alive; see the module doc. */
export class CliSession {
  private readonly stop = new AbortController();
  /** Resolves when the keep-alive ends: the lease expired or was revoked, or {@link orphan} was called. */
  readonly done: Promise<void>;

  private constructor(
    client: EtcdClient,
    /** The session's lease ID. */
    readonly lease: bigint,
  ) {
    this.done = keepAliveLoop(client, lease, client.config.keepAliveTimeoutMs, () => {}, this.stop.signal);
  }

  /**
   * Grants a lease of `ttlSeconds` (values below 1 mean {@link DEFAULT_SESSION_TTL_S}, as
   * WithTTL ignores them) and starts keeping it alive.
   * @throws CtlError the grant's failure (exit 1); while no endpoint answers it keeps trying
   */
  static async open(client: EtcdClient, ttlSeconds: number): Promise<CliSession> {
    const ttl = ttlSeconds > 0 ? BigInt(ttlSeconds) : DEFAULT_SESSION_TTL_S;
    // NewSession grants with the client's own context: no deadline, so etcdctl 3.4 keeps trying
    // an unreachable endpoint until interrupted.
    const resp = await client.call((s, o) => s.lease.leaseGrant({ TTL: ttl }, o), { timeoutMs: null });
    return new CliSession(client, resp.ID);
  }

  /** Stops keeping the lease alive (it expires after its TTL), as Session.Orphan. */
  async orphan(): Promise<void> {
    this.stop.abort();
    await this.done;
  }
}
