/**
 * Health probes of the client and metrics ports, as etcd serves them
 * (etcdserver/api/etcdhttp/metrics.go in 3.4; health.go of the 3.4/3.5 backports that added
 * `/livez` and `/readyz`):
 *
 * - `GET /health` → 200 `{"health":"true"}` or 503 `{"health":"false"}` + newline. Unhealthy
 *   when an alarm is raised (unless its type is named by `?exclude=NOSPACE`, repeatable), when there is no
 *   leader (not checked with `?serializable=true`), or when a read through the member fails or
 *   takes over 1 s (linearizable; local with `?serializable=true`).
 * - `GET /livez`: check `serializable_read`; `GET /readyz`: checks `data_corruption` (no CORRUPT
 *   alarm), `serializable_read`, `linearizable_read` (fails at once without a leader: not ready).
 *   Each check also has its own path (`/readyz/linearizable_read`). `?exclude=<check>` skips a
 *   check (unknown names are ignored, as etcd does). Passing: 200 `ok\n`, with `?verbose` the
 *   lines `[+]<check> ok` first. Failing: 503 with every line (`[-]<check> failed: <error>`).
 * - Other methods → 405 `Method Not Allowed` with `Allow: GET`.
 */
import { create } from "@bufbuild/protobuf";
import type { Hono } from "hono";
import { AlarmType, RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Errors } from "../errors.ts";
import type { EtcdServerApi } from "../node/types.ts";
import { ROOT_USER, type AuthInfo } from "../auth/store.ts";

/** What `/health` reports, as etcd 3.4's `Health` JSON (etcdserver/api/etcdhttp/metrics.go). */
export interface Health {
  health: "true" | "false";
}

/** Time a probe's read may take before it counts as failed, ms (etcd's /health: 1 s). */
export const PROBE_READ_TIMEOUT_MS = 1000;

/** Options of {@link checkHealth}: etcd 3.5's `/health` query parameters. */
export interface HealthOptions {
  /** `?serializable=true`: skip the leader check and read locally. */
  serializable?: boolean;
  /** `?exclude=NOSPACE`: alarm names that do not make the member unhealthy. */
  excludedAlarms?: ReadonlySet<string>;
}

/** Names of the alarms raised on this member (`NOSPACE`, `CORRUPT`; server/alarm/). */
function activeAlarms(api: EtcdServerApi): string[] {
  return (api.alarmList?.() ?? []).map((a) => AlarmType[a.alarm] ?? "UNKNOWN");
}

/** Runs `read` with {@link PROBE_READ_TIMEOUT_MS}; rejects with etcd's request timeout error when it takes longer. */
async function withTimeout(read: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Errors.Timeout()), PROBE_READ_TIMEOUT_MS);
    });
    await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const probeRead = (serializable: boolean) => create(RangeRequestSchema, { key: new TextEncoder().encode("health"), keysOnly: true, limit: 1n, serializable });

/**
 * Probes read as root at the current auth revision, so that they pass with auth enabled (etcd:
 * `srv.AuthStore().WithRoot(ctx)`).
 */
function asRoot(api: EtcdServerApi): AuthInfo {
  return { username: ROOT_USER, revision: api.auth ? Number(api.auth.authStatus().authRevision) : 0 };
}

/** A read through the member: local (serializable) or a ReadIndex round (linearizable; a learner may do that too). */
function readCheck(api: EtcdServerApi, serializable: boolean): Promise<void> {
  if (!serializable && api.status().leader === 0n) return Promise.reject(Errors.NoLeader());
  const read = serializable
    ? api.range(probeRead(true), asRoot(api))
    : api.linearizableReadNotify
      ? api.linearizableReadNotify()
      : api.range(probeRead(false), asRoot(api));
  return withTimeout(read);
}

/**
 * etcd's `/health` check: unhealthy with a raised alarm not in `excludedAlarms`, without a
 * leader (unless serializable), or when the read fails or takes over 1 s.
 */
export async function checkHealth(api: EtcdServerApi, opts: HealthOptions = {}): Promise<Health> {
  if (activeAlarms(api).some((a) => !opts.excludedAlarms?.has(a))) return { health: "false" };
  if (!opts.serializable && api.status().leader === 0n) return { health: "false" };
  try {
    await readCheck(api, opts.serializable ?? false);
  } catch {
    return { health: "false" };
  }
  return { health: "true" };
}

type Check = (api: EtcdServerApi) => Promise<void>;

/** The checks of `/livez` and `/readyz`, in the order they are run and listed. */
const PROBES: Record<"livez" | "readyz", [string, Check][]> = {
  livez: [["serializable_read", (api) => readCheck(api, true)]],
  readyz: [
    [
      "data_corruption",
      async (api) => {
        if (activeAlarms(api).includes("CORRUPT")) throw new Error("alarm activated: CORRUPT");
      },
    ],
    ["serializable_read", (api) => readCheck(api, true)],
    ["linearizable_read", (api) => readCheck(api, false)],
  ],
};

/** Runs `checks`; returns whether all passed and the `[+]`/`[-]` lines. */
async function runChecks(api: EtcdServerApi, checks: [string, Check][]): Promise<{ ok: boolean; lines: string }> {
  let ok = true;
  let lines = "";
  for (const [name, check] of checks) {
    try {
      await check(api);
      lines += `[+]${name} ok\n`;
    } catch (e) {
      ok = false;
      const message = e instanceof Error && "rawMessage" in e ? (e as { rawMessage: string }).rawMessage : String(e instanceof Error ? e.message : e);
      lines += `[-]${name} failed: ${message}\n`;
    }
  }
  return { ok, lines };
}

const TEXT = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

function methodNotAllowed(): Response {
  return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "GET", ...TEXT } });
}

/** Where `/health` results are counted (`etcd_server_health_success`/`_failures`; server/metrics/member-counters.ts). */
export interface HealthCounters {
  healthSuccess: number;
  healthFailures: number;
}

/**
 * Mounts `/health`, `/livez`, `/readyz` and their per-check paths on `app` (see the module doc);
 * `/health` results are counted in `counters` when given.
 */
export function mountProbes(app: Hono, api: EtcdServerApi, counters?: HealthCounters): void {
  app.all("/health", async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed();
    const h = await checkHealth(api, {
      serializable: c.req.query("serializable") === "true",
      excludedAlarms: new Set(c.req.queries("exclude") ?? []),
    });
    if (counters) {
      if (h.health === "true") counters.healthSuccess++;
      else counters.healthFailures++;
    }
    // Healthy: w.Write (type sniffed as text); unhealthy: http.Error (newline, nosniff).
    if (h.health === "true") return c.body(JSON.stringify(h), 200, { "content-type": "text/plain; charset=utf-8" });
    return c.body(`${JSON.stringify(h)}\n`, 503, TEXT);
  });
  for (const [kind, checks] of Object.entries(PROBES)) {
    const answer = async (verbose: boolean, selected: [string, Check][]) => {
      const { ok, lines } = await runChecks(api, selected);
      if (!ok) return new Response(`${lines}\n`, { status: 503, headers: TEXT });
      return new Response(`${verbose ? lines : ""}ok\n`, { status: 200, headers: TEXT });
    };
    app.all(`/${kind}`, async (c) => {
      if (c.req.method !== "GET") return methodNotAllowed();
      const excluded = new Set(c.req.queries("exclude") ?? []);
      return answer(c.req.query("verbose") !== undefined, checks.filter(([name]) => !excluded.has(name)));
    });
    for (const check of checks) {
      app.all(`/${kind}/${check[0]}`, async (c) => {
        if (c.req.method !== "GET") return methodNotAllowed();
        return answer(c.req.query("verbose") !== undefined, [check]);
      });
    }
  }
}
