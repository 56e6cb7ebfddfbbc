/**
 * The lease holder's expiry loop (etcd's lessor runLoop + EtcdServer.revokeExpiredLeases):
 * every 500 ms it asks the lessor for expired leases (at most half the revoke rate per round)
 * and proposes a LeaseRevoke for each through the log, like any client write. A revoke that
 * fails (e.g. the lease was revoked meanwhile, or the member is stopping) is retried by the
 * lessor's retry interval if the lease is still there.
 */
import { LEASE_REVOKE_RATE, type Lessor } from "./lessor.ts";

/** The timer the loop needs (server/node/env.ts MemberEnv satisfies it). */
export interface ExpiryTimers {
  setInterval(fn: () => void, ms: number): { cancel(): void };
}

/** The runtime's timer; it does not keep the process alive. */
const runtimeTimers: ExpiryTimers = {
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    (timer as { unref?: () => void }).unref?.();
    return { cancel: () => clearInterval(timer) };
  },
};

/** How often expired leases are looked for, ms (etcd's lessor loop: 500 ms). */
export const EXPIRY_CHECK_INTERVAL_MS = 500;

/** A running expiry loop. */
export interface LeaseExpiryLoop {
  /** Looks for expired leases now (what each tick does); returns how many revokes were proposed. */
  tick(): number;
  /** Stops the timer. */
  stop(): void;
}

/**
 * Starts the loop over `lessor`; `revoke` proposes LeaseRevoke for one ID. `timers`: the
 * member's (default the runtime's, which do not keep the process alive).
 */
export function startLeaseExpiry(
  lessor: Lessor,
  revoke: (id: bigint) => Promise<unknown>,
  intervalMs: number = EXPIRY_CHECK_INTERVAL_MS,
  timers: ExpiryTimers = runtimeTimers,
): LeaseExpiryLoop {
  const tick = () => {
    const ids = lessor.findExpired(LEASE_REVOKE_RATE / 2);
    for (const id of ids) revoke(id).catch(() => {});
    return ids.length;
  };
  const timer = timers.setInterval(tick, intervalMs);
  return { tick, stop: () => timer.cancel() };
}
