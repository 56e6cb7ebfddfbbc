/**
 * Joining a running cluster (`--initial-cluster-state existing`): the new member asks the other
 * members listed in `--initial-cluster` for the cluster's membership (`GET /members` on their peer
 * port, cluster ID in the `X-Etcd-Cluster-ID` header), checks that `--initial-cluster` names the
 * same members by peer URLs, and takes its own ID (given by `etcdctl member add`) from the
 * member whose peer URLs are its own. Source: etcd `etcdserver/server.go` NewServer
 * (`!haveWAL && !cfg.NewCluster`), `etcdserver/cluster_util.go` getClusterFromRemotePeers,
 * `membership/cluster.go` ValidateClusterAndAssignIDs.
 */
import { peerFetch, type PeerClientTls } from "../transport/peer-tls.ts";
import { parseInitialCluster } from "../config.ts";
import type { MemberRecord } from "../storage/members.ts";

/** What a joining member learns from the cluster. */
export interface JoinInfo {
  clusterId: bigint;
  /** This member's ID, as `member add` assigned it. */
  memberId: bigint;
  /** The cluster's members as served by a peer (this member included, maybe unnamed). */
  members: MemberRecord[];
}

/** Time one `GET /members` may take, ms (etcd: 10 s). */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Parses a `GET /members` body as etcd writes it (Go's encoding/json of membership.Member:
 * `id` a uint64 number, `peerURLs`, optional `name`, `clientURLs`, `isLearner`). IDs are read
 * from the text so that values above 2^53 stay exact. Throws SyntaxError on bad JSON.
 */
export function parseMembersJson(body: string): MemberRecord[] {
  const quoted = body.replace(/"id"\s*:\s*(\d+)/g, '"id":"$1"');
  const list = JSON.parse(quoted) as { id: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }[];
  return list.map((m) => ({
    id: BigInt(m.id),
    name: m.name ?? "",
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: !!m.isLearner,
  }));
}

/**
 * Fetches the membership from the first of `peerUrls` that answers. Rejects with etcd's
 * `could not retrieve cluster information from the given URLs` when none does.
 */
export async function fetchRemoteCluster(
  peerUrls: string[],
  timeoutMs = FETCH_TIMEOUT_MS,
  tls?: PeerClientTls,
): Promise<{ clusterId: bigint; members: MemberRecord[] }> {
  for (const url of peerUrls) {
    try {
      const res = await peerFetch(`${url}/members`, { signal: AbortSignal.timeout(timeoutMs) }, tls);
      const body = await res.text();
      const cid = res.headers.get("x-etcd-cluster-id");
      if (!res.ok || !cid || !/^[0-9a-fA-F]{1,16}$/.test(cid)) continue;
      return { clusterId: BigInt(`0x${cid}`), members: parseMembersJson(body) };
    } catch {
      // try the next URL, as etcd does
    }
  }
  throw new Error("could not retrieve cluster information from the given URLs");
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(",") === [...b].sort().join(",");
}

/**
 * Finds this member's ID in `existing` by matching `--initial-cluster` against it (etcd's
 * ValidateClusterAndAssignIDs): both must list the same number of members and every existing
 * member's peer URLs must appear in `--initial-cluster`. Throws etcd's
 * `error validating peerURLs ...: member count is unequal` / `...: PeerURLs: no match found for
 * existing member (<id>, [<urls>])`, or when `--name` is not in `--initial-cluster`.
 */
export function assignJoinId(initialCluster: string, name: string, existing: MemberRecord[]): bigint {
  const local = parseInitialCluster(initialCluster);
  const own = local.get(name);
  if (!own) throw new Error(`couldn't find local name "${name}" in the initial cluster configuration`);
  const desc = existing.map((m) => `{ID:${m.id.toString(16)} PeerURLs:[${m.peerURLs.join(" ")}]}`).join(" ");
  if (existing.length !== local.size) throw new Error(`error validating peerURLs {${desc}}: member count is unequal`);
  let self: bigint | undefined;
  for (const m of existing) {
    const match = [...local].find(([, urls]) => sameUrls(urls, m.peerURLs));
    if (!match) {
      throw new Error(
        `error validating peerURLs {${desc}}: PeerURLs: no match found for existing member (${m.id.toString(16)}, [${m.peerURLs.join(" ")}])`,
      );
    }
    if (match[0] === name) self = m.id;
  }
  if (self === undefined) throw new Error(`error validating peerURLs {${desc}}: no member with the peer URLs of ${name}`);
  return self;
}

/**
 * Everything a member started with `--initial-cluster-state existing` (and no data yet) needs:
 * asks the other members of `--initial-cluster` for the membership and finds its own ID.
 * Rejects with `cannot fetch cluster info from peer urls: ...` or a validation error.
 */
export async function joinExistingCluster(initialCluster: string, name: string, timeoutMs?: number, tls?: PeerClientTls): Promise<JoinInfo> {
  const local = parseInitialCluster(initialCluster);
  const remoteUrls = [...local].filter(([n]) => n !== name).flatMap(([, urls]) => urls).sort();
  let remote;
  try {
    remote = await fetchRemoteCluster(remoteUrls, timeoutMs, tls);
  } catch (e) {
    throw new Error(`cannot fetch cluster info from peer urls: ${(e as Error).message}`);
  }
  const memberId = assignJoinId(initialCluster, name, remote.members);
  return { clusterId: remote.clusterId, memberId, members: remote.members };
}
