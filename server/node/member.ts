/**
 * A member as the `etcd` binary runs it: the EtcdNode (Raft, MVCC, leases, watch) joined to
 * its peers by the peer transport on `--listen-peer-urls` (server/transport). The transport
 * follows the applied membership: a member added or removed by a configuration change gets
 * or loses its stream. A member joining a running cluster streams to the members it learned
 * from the cluster until the log or a snapshot has given it the membership.
 * Source: etcd `embed/etcd.go` (servePeers) and `etcdserver/server.go`.
 */
import type { EtcdConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { servePromote } from "../membership/promote-http.ts";
import { startPeerTransport, type PeerTransport } from "../transport/transport.ts";
import { startEtcdNode, type EtcdNode, type NodeConfig } from "./etcd-node.ts";
import { create } from "@bufbuild/protobuf";
import { AlarmRequestSchema, AlarmRequest_AlarmAction, AlarmType } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { CorruptChecker } from "../corrupt/check.ts";
import { fetchPeerHashKV } from "../corrupt/peer-hashkv.ts";
import { peerClientTls } from "../transport/peer-tls.ts";
import { realEnv } from "./env.ts";
import { PeerLink } from "./peer-link.ts";

/**
 * Starts the member and its peer transport, then waits until the member has joined the Raft
 * group (a leader is known and its attributes are published), like etcd's ReadyNotify, or has
 * learned that it was removed from the cluster (then `node.removed` resolves soon).
 * `close()` stops the corruption checker and the transport, then the node. Rejects with the start-up error
 * (DataDirLockedError, `listen tcp ...: bind: address already in use`, bad bootstrap flags,
 * `cannot fetch cluster info from peer urls: ...` when joining). `cfg` may carry the node's
 * test-only settings (NodeConfig: catchUpEntries, requestTimeoutMs, clock).
 */
export async function startMember(cfg: EtcdConfig & Partial<NodeConfig>, log: Logger): Promise<EtcdNode> {
  // The transport answers peers with the running node's state, so it starts after the node and
  // is attached to the link the node was built with (server/node/peer-link.ts).
  const peers = new PeerLink();
  const node = await startEtcdNode({ ...cfg, peers }, log);
  let transport: PeerTransport;
  try {
    transport = await startPeerTransport({
      memberId: node.memberId,
      clusterId: node.clusterId,
      listenPeerUrls: cfg.listenPeerUrls,
      tls: cfg.peerTls,
      log,
      counters: node.counters.peers,
      onMessage: (m) => node.step(m),
      reportUnreachable: (id) => node.raft.reportUnreachable(id),
      reportSnapshot: (id, ok) => node.raft.reportSnapshot(id, ok),
      snapshotImage: () => node.raftSnapshotImage(),
      receiveSnapshotImage: (m) => node.receiveRaftSnapshotImage(m),
      members: () => node.memberRecords(),
      isIdRemoved: (id) => node.isIdRemoved(id),
      leases: { renew: (id) => node.leaseRenew(id, true), timeToLive: (req) => node.leaseTimeToLive(req, true) },
      promote: (idText) => servePromote(idText, (id) => node.cluster.promoteLocal(id)),
      hashKV: (rev) => node.hashKV(rev, true),
      onRemovedFromCluster: () => node.stopRemoved(),
    });
  } catch (e) {
    await node.close();
    throw e;
  }
  const syncPeers = peerSync(node, transport);
  syncPeers();
  const checker = corruptChecker(node, cfg, log);
  peers.attach({
    sink: transport,
    membersChanged: syncPeers,
    close: async () => {
      checker.stop();
      await transport.close();
    },
  });
  if (cfg.initialCorruptCheck) {
    try {
      await checker.initialCheck();
    } catch (e) {
      await node.close();
      throw e;
    }
  }
  checker.start(cfg.corruptCheckTimeMs ?? 0);
  await Promise.race([node.ready(), node.removed]);
  return node;
}

/** The member's corruption checker (server/corrupt/check.ts), asking peers over the peer port. */
function corruptChecker(node: EtcdNode, cfg: EtcdConfig & Partial<NodeConfig>, log: Logger): CorruptChecker {
  const tls = peerClientTls(cfg.peerTls);
  const timeoutMs = cfg.requestTimeoutMs ?? 5000 + 2 * (cfg.electionTimeoutMs ?? 1000);
  return new CorruptChecker({
    memberId: node.memberId,
    hashKV: (rev) => node.hashKV(rev, true),
    peers: () => node.memberRecords().map((m) => ({ id: m.id, peerURLs: m.peerURLs })),
    fetchPeer: (url, rev) => fetchPeerHashKV(url, rev, timeoutMs, tls),
    isLeader: () => node.raft.leader === node.memberId,
    linearizableReadNotify: () => node.linearizableReadNotify(),
    raiseCorrupt: async () => {
      await node.alarm(create(AlarmRequestSchema, { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: 0n, alarm: AlarmType.CORRUPT }));
    },
    logger: log,
    env: cfg.env ?? realEnv,
  });
}

/**
 * Keeps the transport's peers equal to the applied membership (minus this member). A joining
 * member starts with the members it fetched from the cluster; peers are only dropped once the
 * applied membership includes this member (before that, it is still catching up).
 */
function peerSync(node: EtcdNode, transport: PeerTransport): () => void {
  const known = new Set<bigint>();
  const connect = (id: bigint, peerURLs: string[]) => {
    if (id === node.memberId) return;
    if (known.has(id)) transport.updatePeer(id, peerURLs);
    else transport.addPeer(id, peerURLs);
    known.add(id);
  };
  for (const m of node.joinedMembers ?? []) connect(m.id, m.peerURLs);
  return () => {
    const all = node.memberRecords();
    for (const m of all) connect(m.id, m.peerURLs);
    if (!all.some((m) => m.id === node.memberId)) return;
    for (const id of known) {
      if (!all.some((m) => m.id === id)) {
        transport.removePeer(id);
        known.delete(id);
      }
    }
  };
}
