/**
 * Test helpers for membership commands: a real etcd 3.4 cluster of several members on free
 * loopback ports (static `--initial-cluster`), members that join it later, and one invocation of
 * the Go etcdctl or ours on it with comparable output.
 */
import { expect } from "bun:test";
import { join } from "node:path";
import {
  cleanEnv,
  freePort,
  placeEtcd,
  runProcess,
  spawnEtcd,
  type EtcdPlacement,
  type SpawnedEtcd,
} from "./etcd-process.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "cli", "main.ts");

/** The reference Go etcdctl 3.4. */
export const GO_ETCDCTL = ["/usr/bin/etcdctl"];
/** Our etcdctl under Bun (the test runner's own executable). */
export const OUR_ETCDCTL = [process.execPath, MAIN];
/** Our etcdctl under Deno. */
export const OUR_ETCDCTL_DENO = [join(ROOT, "node_modules", ".bin", "deno"), "run", "-A", "--no-lock", MAIN];

/** A started etcd cluster; {@link EtcdCluster.stop} ends every process it started, by PID. */
export interface EtcdCluster {
  /** `127.0.0.1:<client port>` of the initial members, in `--initial-cluster` order. */
  endpoints: string[];
  /** `http://127.0.0.1:<peer port>` of the initial members, same order. */
  peerUrls: string[];
  /**
   * Starts a member that was added with `member add` (`--initial-cluster-state existing`) and
   * waits until it serves. `initialCluster` is the `ETCD_INITIAL_CLUSTER` value etcdctl printed.
   */
  join(p: EtcdPlacement, initialCluster: string): Promise<SpawnedEtcd>;
  /** Kills every member started by this cluster (SIGKILL by PID) and removes their data. */
  stop(): Promise<void>;
}

/**
 * Starts `size` members named `m1`, `m2`... of a new cluster and waits until all serve.
 * @throws Error when a member does not become healthy within 20 s (everything started is stopped)
 */
export async function startEtcdCluster(size = 3, token = "etcdctl-test"): Promise<EtcdCluster> {
  const places: EtcdPlacement[] = [];
  for (let i = 1; i <= size; i++) places.push(await placeEtcd(`m${i}`));
  const peerUrls = places.map((p) => `http://127.0.0.1:${p.peerPort}`);
  const initialCluster = places.map((p, i) => `${p.name}=${peerUrls[i]}`).join(",");
  const started: SpawnedEtcd[] = places.map((p) =>
    spawnEtcd(p, [
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-token=${token}`,
      "--initial-cluster-state=new",
    ]),
  );
  const stop = async () => {
    await Promise.all(started.map((m) => m.stop(true)));
  };
  try {
    await Promise.all(started.map((m) => m.waitHealthy(20000)));
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    endpoints: started.map((m) => m.endpoint),
    peerUrls,
    async join(p, cluster) {
      const m = spawnEtcd(p, [`--initial-cluster=${cluster}`, "--initial-cluster-state=existing"]);
      started.push(m);
      await m.waitHealthy(20000);
      return m;
    },
    stop,
  };
}

/** One etcdctl run: stdout bytes, stderr text and exit code. */
export interface CtlRun {
  stdout: Uint8Array;
  stderr: string;
  code: number;
}

/**
 * Runs an etcdctl (`cmd`: {@link GO_ETCDCTL}, {@link OUR_ETCDCTL}...) with `args` and no
 * `ETCDCTL_*` environment. clientv3's zap warnings (`{"level":"warn",...}` lines on stderr for
 * every failed RPC, with times and random client IDs) are dropped: ours does not print them.
 */
export async function ctl(cmd: string[], args: string[]): Promise<CtlRun> {
  const r = await runProcess(cmd, args, "", cleanEnv());
  const stderr = r.stderr
    .split("\n")
    .filter((l) => !l.startsWith('{"level":"warn"'))
    .join("\n");
  return { stdout: r.stdout, stderr, code: r.code };
}

/** stdout as text (latin1-safe for our purposes: both sides decode the same way). */
export function text(r: CtlRun): string {
  return new TextDecoder().decode(r.stdout);
}

/** A loopback peer URL on a port that was free a moment ago (for members that are only added, never started). */
export async function unusedPeerUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/**
 * Runs Go's etcdctl, then ours, with the same arguments and expects the same stdout bytes,
 * stderr and exit code (test assertion). Returns Go's run.
 */
export async function expectSameOutput(args: string[]): Promise<CtlRun> {
  const go = await ctl(GO_ETCDCTL, args);
  const ours = await ctl(OUR_ETCDCTL, args);
  expect({ args, stdout: text(ours), stderr: ours.stderr, code: ours.code }).toEqual({
    args,
    stdout: text(go),
    stderr: go.stderr,
    code: go.code,
  });
  expect(ours.stdout).toEqual(go.stdout);
  return go;
}
