/**
 * The etcd command line of one member of a static cluster on loopback (etcd's clustering guide,
 * Documentation/op-guide/clustering.md, "Static"); shared by the `--cluster` benchmark and the e2e cluster harness.
 */

/** Where one member listens and what it bootstraps with. */
export interface MemberFlags {
  /** `--name`. */
  name: string;
  /** `--data-dir`. */
  dataDir: string;
  /** Listened on and advertised, e.g. "http://127.0.0.1:2379". */
  clientUrl: string;
  /** Listened on and advertised to peers, e.g. "http://127.0.0.1:2380". */
  peerUrl: string;
  /** `--initial-cluster`: "name=peerURL,...". */
  initialCluster: string;
  /** `--initial-cluster-token`. */
  token: string;
  /** `--initial-cluster-state`. */
  state: "new" | "existing";
}

/** The flags for `m`, followed by `extraArgs`. */
export function memberFlags(m: MemberFlags, extraArgs: string[] = []): string[] {
  return [
    "--name", m.name,
    "--data-dir", m.dataDir,
    "--listen-client-urls", m.clientUrl,
    "--advertise-client-urls", m.clientUrl,
    "--listen-peer-urls", m.peerUrl,
    "--initial-advertise-peer-urls", m.peerUrl,
    "--initial-cluster", m.initialCluster,
    "--initial-cluster-token", m.token,
    "--initial-cluster-state", m.state,
    ...extraArgs,
  ];
}
