/**
 * `/v2/stats/self`, `/v2/stats/leader`, `/v2/stats/store` (etcd's v2http statsHandler over
 * etcdserver/api/v2stats): JSON written without a trailing newline. The leader's per-follower
 * MsgApp counts and latencies come from the peer transport (server/v2stats/follower-stats.ts).
 */
import { goDurationString } from "../../../cli/go/duration.ts";
import { goJsonString } from "../../../cli/go/json.ts";
import { idToHex } from "../../membership/ids.ts";
import { rfc3339Nano } from "../../v2store/event.ts";
import { httpError } from "./members.ts";
import { methodNotAllowed } from "./keys.ts";
import { FollowerStats } from "../../v2stats/follower-stats.ts";

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
  /** The appends sent to follower `id` (undefined: no stream to it yet). */
  followerStats(id: bigint): FollowerStats | undefined;
  nowMs(): number;
  /** The v2 store's JSON counters. */
  storeStats(): string;
  /** The append counters and rates of /v2/stats/self (`"recvAppendRequestCnt":0,...`). */
  appendStatsJson(): string;
}

const json = { "content-type": "application/json" };

/** A follower no append was sent to yet. */
const NO_APPENDS = new FollowerStats();

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
  // Go's encoding/json writes a map's keys in order.
  const followers = deps
    .peers()
    .map((id) => `"${idToHex(id)}":${(deps.followerStats(id) ?? NO_APPENDS).json()}`)
    .sort();
  return new Response(`{"leader":"${idToHex(deps.memberId)}","followers":{${followers.join(",")}}}`, { headers: json });
}
