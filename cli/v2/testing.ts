/**
 * Test helper of the etcdctl v2 differential tests: the Go etcdctl and ours each run their
 * scripted commands against a fresh member of the server under test (`ETCD_UNDER_TEST`, started
 * with `--enable-v2`), so both see the same store from the same start.
 */
import { ETCD_UNDER_TEST, placeEtcd, spawnEtcd, type EtcdClientTls, type EtcdProcess, type RunResult } from "../testing/etcd-process.ts";

/** What {@link runOnFreshMembers} leaves: the results of both runs and the second member, still running. */
export interface FreshRuns {
  real: RunResult[];
  ours: RunResult[];
  /** The member ours ran against; the caller stops it. */
  etcd: EtcdProcess;
}

/**
 * Starts a one-member v2 cluster named `name` (client TLS with `tls`; https endpoint then),
 * `prepare`s it (e.g. enables v2 auth), runs `runReal` on it, stops it, and does the same on a new
 * member with `runOurs`. Each run gets the client endpoint.
 */
export async function runOnFreshMembers(
  name: string,
  tls: EtcdClientTls | undefined,
  runReal: (ep: string) => Promise<RunResult[]>,
  runOurs: (ep: string) => Promise<RunResult[]>,
  prepare: (ep: string) => Promise<void> = async () => {},
): Promise<FreshRuns> {
  const placement = await placeEtcd(name);
  const ep = `${tls ? "https" : "http"}://127.0.0.1:${placement.clientPort}`;
  const start = async () => {
    const e = spawnEtcd(placement, [`--initial-cluster=${placement.name}=http://127.0.0.1:${placement.peerPort}`, "--enable-v2"], tls, ETCD_UNDER_TEST);
    await e.waitHealthy(15000);
    await prepare(ep);
    return e;
  };
  const first = await start();
  let real: RunResult[];
  try {
    real = await runReal(ep);
  } finally {
    await first.stop();
  }
  const etcd = await start();
  return { real, ours: await runOurs(ep), etcd };
}
