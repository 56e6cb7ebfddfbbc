/**
 * etcd 3.4's warnings about slow and failed requests (etcdserver/util.go warnOfExpensiveRequest,
 * warnOfFailedRequest): an applied entry, or a read-only range or txn served without the log,
 * that took longer than `--experimental-warning-apply-duration` (default 100 ms) is logged as
 * `apply request took too long` and counted in `etcd_server_slow_apply_total`; an applied entry
 * that failed is logged as `failed to apply request`.
 */
import { goDurationString } from "../../cli/go/duration.ts";
import type { MemberCounters } from "./member-counters.ts";

/** etcd's DefaultWarningApplyDuration (embed/config.go), ms. */
export const DEFAULT_WARNING_APPLY_DURATION_MS = 100;

/** `prefix` of a read-only request's line (etcd's warnOfExpensiveReadOnly*Request). */
export const READ_ONLY_PREFIX = "read-only range ";

/** Where the warnings go (server/log.ts Logger satisfies it). */
export interface WarnLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** What one finished request looks like to the warner; the texts are built only when logged. */
export interface FinishedRequest {
  /** How long it took, ms (from the member's monotonic clock). */
  tookMs: number;
  /** `""` for applied entries, {@link READ_ONLY_PREFIX} for reads served without the log. */
  prefix: string;
  /** The request text (server/metrics/loggable-request.ts). */
  request: () => string;
  /** The response text (`size:N`, or `range_response_count:N size:N`); `""` when it failed. */
  response: () => string;
  /** The error text of a failed request (etcd's error before the gRPC layer maps it). */
  error?: string;
}

/** Checks finished requests against the threshold; one per member. */
export class SlowApplyWarner {
  /** @param thresholdMs `--experimental-warning-apply-duration`, ms. */
  constructor(
    private readonly thresholdMs: number,
    private readonly log: WarnLogger,
    private readonly counters: MemberCounters,
  ) {}

  /**
   * Whether a request that took `tookMs` (and `failed` or not) is to be passed to {@link finished}:
   * hot paths ask this first, so a fast request builds nothing.
   */
  wants(tookMs: number, failed: boolean): boolean {
    return failed || tookMs > this.thresholdMs;
  }

  /** Logs and counts `r` if it was slow; logs it as failed if it was an applied entry that failed. */
  finished(r: FinishedRequest): void {
    if (r.tookMs > this.thresholdMs) {
      this.counters.slowApply++;
      this.log.warn("apply request took too long", {
        took: goDurationString(msToNs(r.tookMs)),
        "expected-duration": goDurationString(msToNs(this.thresholdMs)),
        prefix: r.prefix,
        request: r.request(),
        response: r.response(),
        ...(r.error !== undefined ? { error: r.error } : {}),
      });
    }
    if (r.error !== undefined && r.prefix === "") {
      this.log.warn("failed to apply request", {
        took: goDurationString(msToNs(r.tookMs)),
        request: r.request(),
        response: r.response(),
        error: r.error,
      });
    }
  }
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

/** The error text etcd's applier logs: the etcd error without the `etcdserver: ` the gRPC layer shows. */
export function applyErrorText(e: { rawMessage: string }): string {
  return e.rawMessage.replace(/^etcdserver: /, "");
}
