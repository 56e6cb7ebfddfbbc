/**
 * A member as the `etcd` binary runs it: the EtcdNode (Raft, MVCC, leases, watch) joined to
 * its peers by the peer transport on `--listen-peer-urls` (server/transport). The transport
 * follows the applied membership: a member added or removed by a configuration change gets
 * or loses its stream. Source: etcd `embed/etcd.go` (servePeers) and `etcdserver/server.go`.
 */
import type { EtcdConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { startPeerTransport } from "../transport/transport.ts";
import { startEtcdNode, type EtcdNode } from "./etcd-node.ts";

/**
 * Starts the member and its peer transport, then waits until the member has joined the Raft
 * group (a leader is known and its attributes are published), like etcd's ReadyNotify.
 * `close()` stops the transport, then the node. Rejects with the start-up error
 * (DataDirLockedError, `listen tcp ...: bind: address already in use`, bad bootstrap flags).
 */
export async function startMember(cfg: EtcdConfig, log: Logger): Promise<EtcdNode> {
  const node = await startEtcdNode(cfg, log);
  let transport;
  try {
    transport = await startPeerTransport({
      memberId: node.memberId,
      clusterId: node.clusterId,
      listenPeerUrls: cfg.listenPeerUrls,
      log,
      onMessage: (m) => node.step(m),
      reportUnreachable: (id) => node.raft.reportUnreachable(id),
      reportSnapshot: (id, ok) => node.raft.reportSnapshot(id, ok),
      members: () => node.memberRecords(),
      leases: { renew: (id) => node.leaseRenew(id, true), timeToLive: (req) => node.leaseTimeToLive(req, true) },
      onRemovedFromCluster: () => log.warn("this member has been permanently removed from the cluster"),
    });
  } catch (e) {
    await node.close();
    throw e;
  }
  const known = new Set<bigint>();
  const syncPeers = () => {
    const current = node.memberRecords().filter((m) => m.id !== node.memberId);
    for (const m of current) {
      if (known.has(m.id)) transport.updatePeer(m.id, m.peerURLs);
      else transport.addPeer(m.id, m.peerURLs);
      known.add(m.id);
    }
    for (const id of known) {
      if (!current.some((m) => m.id === id)) {
        transport.removePeer(id);
        known.delete(id);
      }
    }
  };
  syncPeers();
  node.sink = transport;
  node.onMembersChanged = syncPeers;
  const closeNode = node.close.bind(node);
  node.close = async () => {
    await transport.close();
    await closeNode();
  };
  await node.ready();
  return node;
}
