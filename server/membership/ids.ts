/**
 * Member and cluster IDs, derived exactly like etcd v3.4 so that the same flags give the
 * same IDs as the real etcd (etcdserver/api/membership/member.go newMember,
 * cluster.go genID).
 */
import { createHash } from "node:crypto";

function first8BytesBigEndian(digest: Uint8Array): bigint {
  let id = 0n;
  for (let i = 0; i < 8; i++) id = (id << 8n) | BigInt(digest[i]!);
  return id;
}

/**
 * A member's ID (uint64): the first 8 bytes, big-endian, of SHA-1 over the member's peer
 * URLs sorted and concatenated, then `clusterToken`, then the add time in whole Unix seconds
 * as decimal text when given.
 *
 * Bootstrap members (`--initial-cluster`): token `--initial-cluster-token`, no time.
 * Members added at run time (Cluster.MemberAdd, v3rpc/member.go): token `""` and the time
 * the leader's API received the request; the joining member (`--initial-cluster-state
 * existing`) learns that ID from the cluster instead of computing it.
 *
 * `peerUrls` must be normalised like etcd's URL strings (see parseUrls in server/config.ts).
 */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  const h = createHash("sha1");
  for (const u of [...peerUrls].sort()) h.update(u, "utf8");
  h.update(clusterToken, "utf8");
  if (addedAtUnixSeconds !== undefined) h.update(String(Math.floor(addedAtUnixSeconds)), "utf8");
  return first8BytesBigEndian(h.digest());
}

/**
 * The cluster ID (uint64) of a bootstrapped cluster: the first 8 bytes, big-endian, of SHA-1
 * over all member IDs sorted ascending, each as 8 bytes big-endian.
 */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return first8BytesBigEndian(createHash("sha1").update(buf).digest());
}

/** An ID as etcd prints it in logs and `etcdctl member list` tables: lower-case hex, no padding (types.ID.String). */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

/** One member of the bootstrap cluster, from `--initial-cluster`. */
export interface BootstrapMember {
  /** Member name (the `name=` part). */
  name: string;
  /** Peer URLs, sorted. */
  peerUrls: string[];
  /** {@link computeMemberId} without time. */
  id: bigint;
}

/**
 * Members and cluster ID of a new cluster from a parsed `--initial-cluster`
 * (server/config.ts parseInitialCluster) and `--initial-cluster-token`, like etcd's
 * NewClusterFromURLsMap. Throws etcd's errors for two members with one ID
 * (`member exists with identical ID ...`) and for ID 0 (`cannot use 0 as member id`).
 */
export function bootstrapCluster(
  initialCluster: ReadonlyMap<string, readonly string[]>,
  clusterToken: string,
): { members: BootstrapMember[]; clusterId: bigint } {
  const members: BootstrapMember[] = [];
  const seen = new Set<bigint>();
  for (const [name, urls] of initialCluster) {
    const id = computeMemberId(urls, clusterToken);
    if (seen.has(id)) throw new Error(`member exists with identical ID ${idToHex(id)} (name ${name})`);
    if (id === 0n) throw new Error("cannot use 0 as member id");
    seen.add(id);
    members.push({ name, peerUrls: [...urls].sort(), id });
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members, clusterId: computeClusterId(members.map((m) => m.id)) };
}
