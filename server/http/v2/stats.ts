/**
 * `/v2/stats/self`, `/v2/stats/leader`, `/v2/stats/store` (etcd's v2http statsHandler over
 * etcdserver/api/v2stats): JSON written without a trailing newline. The follower latencies and
 * success/failure counts of etcd's LeaderStats are not tracked by this server's transport: they
 * read 0.
 */
import { goDurationString } from "../../../cli/go/duration.ts";
import { goJsonString } from "../../../cli/go/json.ts";
import { idToHex } from "../../membership/ids.ts";
import { rfc3339Nano } from "../../v2store/event.ts";
import { httpError } from "./members.ts";
import { methodNotAllowed } from "./keys.ts";

/** What the stats need from the member. */
export interface StatsDeps {
  name: string;
  memberId: bigint;
  /** The leader's ID (0n: none). */
  leader(): bigint;
  /** etcd's raft state name: `StateLeader`, `StateFollower`, `StateCandidate`, `StatePreCandidate`. */
  state(): string;
  /** When this member started, epoch ms. */
  startMs: number;
  /** When the current leader was elected as seen here, epoch ms. */
  leaderSinceMs(): number;
  /** Every other member's ID (the leader's followers). */
  peers(): bigint[];
  nowMs(): number;
  /** The v2 store's JSON counters. */
  storeStats(): string;
  /** The append counters and rates of /v2/stats/self (`"recvAppendRequestCnt":0,...`). */
  appendStatsJson(): string;
}

const json = { "content-type": "application/json" };

/** Serves `/v2/stats/<what>`; undefined for another path (404 by the caller). */
export function serveStats(req: Request, what: string, deps: StatsDeps): Response | undefined {
  if (!["store", "self", "leader"].includes(what)) return undefined;
  if (req.method !== "GET") return methodNotAllowed(["GET"]);
  if (what === "store") return new Response(deps.storeStats(), { headers: json });
  if (what === "self") {
    const since = deps.leaderSinceMs();
    const uptimeNs = BigInt(Math.max(0, deps.nowMs() - since)) * 1_000_000n;
    const body =
      `{"name":${goJsonString(deps.name)},"id":"${idToHex(deps.memberId)}","state":"${deps.state()}",` +
      `"startTime":"${rfc3339Nano(deps.startMs)}","leaderInfo":{"leader":"${idToHex(deps.leader())}",` +
      `"uptime":"${goDurationString(uptimeNs)}","startTime":"${rfc3339Nano(since)}"},` +
      `${deps.appendStatsJson()}}`;
    return new Response(body, { headers: json });
  }
  if (deps.leader() !== deps.memberId) return httpError(403, "not current leader");
  const zero = `{"latency":{"current":0,"average":0,"standardDeviation":0,"minimum":0,"maximum":0},"counts":{"fail":0,"success":0}}`;
  const followers = deps.peers().map((id) => `"${idToHex(id)}":${zero}`);
  return new Response(`{"leader":"${idToHex(deps.memberId)}","followers":{${followers.join(",")}}}`, { headers: json });
}
