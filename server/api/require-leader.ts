/**
 * etcd's require-leader metadata (etcdserver/api/v3rpc/interceptor.go, rpctypes/md.go): a client
 * that sends the gRPC metadata `hasleader: true` (clientv3.WithRequireLeader; the Go etcdctl's
 * `watch` and clientv3's lease keep-alive streams do) wants no answer from a member that has lost
 * its leader:
 * - a unary call or a new stream on a member that knows no leader fails at once with
 *   Unavailable `etcdserver: no leader`;
 * - an open stream is cancelled with that error once the member has gone `maxNoLeaderCnt` (3)
 *   election timeouts in a row without a leader (etcd's monitorLeader, which polls once per
 *   election timeout). Reconnecting streams costs more than refusing new calls, hence the wait.
 * Calls without the metadata are served as before, leader or not.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectError, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Errors } from "../errors.ts";
import { realEnv, type EnvTimer, type MemberEnv } from "../node/env.ts";

/** The metadata key and the value that asks for a leader (rpctypes.MetadataRequireLeaderKey / MetadataHasLeader). */
export const REQUIRE_LEADER_KEY = "hasleader";
export const REQUIRE_LEADER_VALUE = "true";
/** Election timeouts in a row without a leader before require-leader streams are cancelled (etcd's maxNoLeaderCnt). */
export const MAX_NO_LEADER_ELECTIONS = 3;

/**
 * Checks require-leader calls and cancels require-leader streams of one member.
 * `hasLeader()`: whether the member knows a leader now; `electionMs`: the election timeout, ms
 * (the polling period); `env`: the timers (server/node/env.ts). The poll runs only while at
 * least one require-leader stream is open.
 */
export class LeaderRequirement {
  /**
   * Cancel functions of the open require-leader streams, removed when a stream ends. No limit of
   * its own: nearly all are Watch and LeaseKeepAlive streams, which the member already caps
   * (server/node/limits.ts MAX_WATCH_STREAMS, MAX_LEASE_KEEPALIVE_STREAMS); the rest are
   * snapshot streams, one per client transfer.
   */
  private readonly streams = new Set<(err: ConnectError) => void>();
  private timer: EnvTimer | undefined;
  private noLeaderCount = 0;

  constructor(
    private readonly hasLeader: () => boolean,
    private readonly electionMs: number,
    private readonly env: Pick<MemberEnv, "setInterval"> = realEnv,
  ) {}

  /** Whether a metadata value (`headers.get("hasleader")`) asks for a leader. */
  static asked(value: string | null | undefined): boolean {
    return value === REQUIRE_LEADER_VALUE;
  }

  /** Throws Unavailable `etcdserver: no leader` when the member knows no leader now. */
  check(): void {
    if (!this.hasLeader()) throw Errors.NoLeader();
  }

  /**
   * Registers an open require-leader stream; `cancel` is called once, with Unavailable
   * `etcdserver: no leader`, after {@link MAX_NO_LEADER_ELECTIONS} election timeouts without a
   * leader. Returns the function that unregisters it (call it when the stream ends).
   */
  track(cancel: (err: ConnectError) => void): () => void {
    this.streams.add(cancel);
    this.timer ??= this.env.setInterval(() => this.poll(), this.electionMs);
    return () => {
      this.streams.delete(cancel);
      if (this.streams.size === 0) this.stopPolling();
    };
  }

  /** Number of require-leader streams being watched. */
  get trackedStreams(): number {
    return this.streams.size;
  }

  private poll(): void {
    this.noLeaderCount = this.hasLeader() ? 0 : this.noLeaderCount + 1;
    if (this.noLeaderCount < MAX_NO_LEADER_ELECTIONS) return;
    const cancels = [...this.streams];
    this.streams.clear();
    this.stopPolling();
    for (const cancel of cancels) cancel(Errors.NoLeader());
  }

  private stopPolling(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.noLeaderCount = 0;
  }
}

type AnyMethod = (req: unknown, ctx: HandlerContext) => unknown;

/**
 * Wraps the methods of a Connect service implementation so that calls carrying `hasleader:
 * true` pass {@link LeaderRequirement}: unary calls are checked; streaming calls are checked
 * when they open and their responses end with `etcdserver: no leader` once the member lost its
 * leader for good. Calls without the metadata reach `impl` untouched.
 */
export function requireLeaderService<S extends DescService>(service: S, impl: ServiceImpl<S>, leader: LeaderRequirement): ServiceImpl<S> {
  const wrapped: Record<string, AnyMethod> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, AnyMethod | undefined>)[method.localName];
    if (!fn) continue;
    const call = fn.bind(impl);
    if (method.methodKind === "unary") {
      wrapped[method.localName] = (req, ctx) => {
        if (LeaderRequirement.asked(ctx.requestHeader.get(REQUIRE_LEADER_KEY))) leader.check();
        return call(req, ctx);
      };
    } else {
      wrapped[method.localName] = (req, ctx) => {
        if (!LeaderRequirement.asked(ctx.requestHeader.get(REQUIRE_LEADER_KEY))) return call(req, ctx);
        leader.check();
        return untilLeaderLost(call(req, ctx) as AsyncIterable<unknown>, leader);
      };
    }
  }
  return wrapped as ServiceImpl<S>;
}

/** The responses of `inner` until it ends, or until `leader` cancels the stream (then throws its error). */
async function* untilLeaderLost<T>(inner: AsyncIterable<T>, leader: LeaderRequirement): AsyncGenerator<T> {
  let lost!: (err: ConnectError) => void;
  const cancelled = new Promise<never>((_, reject) => (lost = reject));
  cancelled.catch(() => {});
  const untrack = leader.track((err) => lost(err));
  const it = inner[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await Promise.race([it.next(), cancelled]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    untrack();
    void it.return?.();
  }
}
