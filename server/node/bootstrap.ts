/**
 * First-start bootstrap and restart of a member's identity and membership.
 *
 * On the first start (no member ID in `meta`), IDs are derived from the flags exactly as etcd
 * derives them (server/membership/ids.ts): each member of `--initial-cluster` gets
 * sha1(sorted peer URLs + `--initial-cluster-token`), the cluster gets sha1(sorted member IDs).
 * They and the member records are stored. A member joining a running cluster
 * (`--initial-cluster-state existing`) stores the IDs it learned from the cluster
 * (server/membership/join.ts) and no member records: it learns the membership from the log
 * (or a snapshot) the leader sends it. On every later start the stored values win and the
 * `--initial-*` flags are ignored, as etcd does once a data dir exists.
 * Source: etcd `etcdserver/api/membership/cluster.go` NewClusterFromURLsMap, `member.go`.
 */
import type { Database } from "bun:sqlite";
import { parseInitialCluster } from "../config.ts";
import { bootstrapCluster } from "../membership/ids.ts";
import type { JoinInfo } from "../membership/join.ts";
import type { MembersTable } from "../storage/members.ts";
import { MetaKeys, type Meta } from "../storage/meta.ts";

/** Flags that shape bootstrap; `EtcdConfig` satisfies it. */
export interface BootstrapConfig {
  name: string;
  /** `name=peerURL,...` */
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string[];
  advertiseClientUrls: string[];
}

/**
 * Returns this member's and the cluster's IDs (uint64 as bigint), creating them on first start
 * (from `join` when joining a running cluster). Throws Error if `--name` is missing from
 * `--initial-cluster` or its peer URLs differ from `--initial-advertise-peer-urls` (etcd refuses
 * to start in both cases).
 */
export function bootstrapMembership(
  db: Database,
  meta: Meta,
  members: MembersTable,
  cfg: BootstrapConfig,
  join?: JoinInfo,
): { memberId: bigint; clusterId: bigint } {
  const storedMember = meta.getBigint(MetaKeys.memberId);
  const storedCluster = meta.getBigint(MetaKeys.clusterId);
  if (storedMember !== undefined && storedCluster !== undefined) {
    // etcd republishes its name and client URLs at every start (publish -> member attributes).
    const self = members.get(storedMember);
    if (self) members.put({ ...self, name: cfg.name, clientURLs: cfg.advertiseClientUrls });
    return { memberId: storedMember, clusterId: storedCluster };
  }
  if (join) {
    db.transaction(() => {
      meta.setBigint(MetaKeys.memberId, join.memberId);
      meta.setBigint(MetaKeys.clusterId, join.clusterId);
    })();
    return { memberId: join.memberId, clusterId: join.clusterId };
  }
  const cluster = parseInitialCluster(cfg.initialCluster);
  const ownUrls = cluster.get(cfg.name);
  if (!ownUrls) {
    throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  }
  const advertised = [...cfg.initialAdvertisePeerUrls].sort();
  if ([...ownUrls].sort().join(",") !== advertised.join(",")) {
    throw new Error(
      `--initial-cluster has ${cfg.name}=${ownUrls.join(",")} but missing from --initial-advertise-peer-urls=${advertised.join(",")}`,
    );
  }
  const { members: initial, clusterId } = bootstrapCluster(cluster, cfg.initialClusterToken);
  const memberId = initial.find((m) => m.name === cfg.name)!.id;
  const records = initial.map((m) => ({
    id: m.id,
    name: m.name,
    peerURLs: m.peerUrls,
    clientURLs: m.id === memberId ? cfg.advertiseClientUrls : [],
    isLearner: false,
  }));
  db.transaction(() => {
    for (const r of records) members.put(r);
    meta.setBigint(MetaKeys.memberId, memberId);
    meta.setBigint(MetaKeys.clusterId, clusterId);
  })();
  return { memberId, clusterId };
}
