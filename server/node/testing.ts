/**
 * Test helpers: Raft clusters of real members (EtcdNode + peer transport, server/node/member.ts)
 * inside the test process, on free loopback peer ports and temporary data dirs. Members are
 * started, closed and restarted by slot; nothing is left behind by `stop()`.
 * Not used by production code.
 */
import { afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EtcdConfig } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import { freePort, waitFor } from "../http/test-util.ts";
import type { EtcdNode, NodeConfig } from "./etcd-node.ts";
import { startMember } from "./member.ts";
import type { EnvTimer, MemberEnv } from "./env.ts";
import { Prng } from "../raft/prng.ts";

/** A logger that drops everything (for tests of one member). */
export const quietNodeLogger = { info() {}, warn() {} };

/**
 * Settings of a lone member named `default` in `dataDir` (peer URL http://localhost:2380,
 * never bound: EtcdNode alone opens no ports), with `overrides` on top.
 */
export function singleMemberConfig(dataDir: string, overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    name: "default",
    dataDir,
    initialCluster: "default=http://localhost:2380",
    initialClusterToken: "etcd-cluster",
    initialAdvertisePeerUrls: ["http://localhost:2380"],
    advertiseClientUrls: ["http://localhost:2379"],
    maxRequestBytes: 1 << 20,
    snapshotCount: 100000,
    ...overrides,
  };
}

/** One member slot: fixed name, peer URL and data dir; `node` while running. */
export interface Slot {
  name: string;
  peerUrl: string;
  dataDir: string;
  node?: EtcdNode;
  /** Log lines (parsed JSON) of every run of this slot. */
  logs: Record<string, unknown>[];
}

/** Settings of a test cluster; node settings apply to every member. */
export type TestClusterOptions = Partial<NodeConfig> & { token?: string };

export { waitFor };

/** A cluster of in-process members. */
export class TestCluster {
  readonly slots: Slot[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), "etcd-cluster-"));

  private constructor(private readonly opts: TestClusterOptions) {}

  /** Starts `size` members bootstrapped together from one `--initial-cluster`. */
  static async start(size: number, opts: TestClusterOptions = {}): Promise<TestCluster> {
    const c = new TestCluster(opts);
    for (let i = 0; i < size; i++) await c.addSlot();
    await Promise.all(c.slots.map((s) => c.run(s, "new")));
    return c;
  }

  /** A new empty slot (name `n<k>`, a free peer port), not started. */
  async addSlot(): Promise<Slot> {
    const name = `n${this.slots.length + 1}`;
    const slot: Slot = { name, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(this.root, name), logs: [] };
    this.slots.push(slot);
    return slot;
  }

  /** `--initial-cluster` naming `slots` (default: every slot). */
  initialCluster(slots: Slot[] = this.slots): string {
    return slots.map((s) => `${s.name}=${s.peerUrl}`).join(",");
  }

  private config(slot: Slot, state: "new" | "existing", initialCluster: string): EtcdConfig & Partial<NodeConfig> {
    return {
      name: slot.name,
      dataDir: slot.dataDir,
      listenClientUrls: [],
      advertiseClientUrls: [`http://client.${slot.name}:2379`],
      listenPeerUrls: [slot.peerUrl],
      initialAdvertisePeerUrls: [slot.peerUrl],
      initialCluster,
      initialClusterState: state,
      initialClusterToken: this.opts.token ?? "test-cluster",
      strictReconfigCheck: false,
      snapshotCount: 100_000,
      heartbeatIntervalMs: 50,
      electionTimeoutMs: 500,
      maxTxnOps: 128,
      maxRequestBytes: 1.5 * 1024 * 1024,
      quotaBackendBytes: 0,
      logLevel: "info",
      logger: "zap",
      authToken: "simple",
      authTokenTtl: 300,
      bcryptCost: 10,
      ...this.opts,
      enableV2: this.opts.enableV2 ?? false,
    };
  }

  private logger(slot: Slot): Logger {
    return createLogger({ level: "info", write: (line) => void slot.logs.push(JSON.parse(line)) });
  }

  /**
   * Starts (or restarts) `slot` and waits until it is ready (or learned it was removed).
   * `state` and `initialCluster` matter only on the first start of its data dir.
   */
  async run(slot: Slot, state: "new" | "existing" = "new", initialCluster = this.initialCluster()): Promise<EtcdNode> {
    if (slot.node) throw new Error(`${slot.name} is running`);
    slot.node = await startMember(this.config(slot, state, initialCluster), this.logger(slot));
    return slot.node;
  }

  /** Closes the member of `slot` (its data dir stays). */
  async kill(slot: Slot): Promise<void> {
    const node = slot.node;
    slot.node = undefined;
    await node?.close();
  }

  /** Running members. */
  running(): EtcdNode[] {
    return this.slots.flatMap((s) => (s.node ? [s.node] : []));
  }

  /** The running member that leads (as it sees itself), waiting for one. */
  async leader(): Promise<EtcdNode> {
    let found: EtcdNode | undefined;
    await waitFor(() => {
      found = this.running().find((n) => n.raft.isLeader);
      return found !== undefined;
    }, "a leader");
    return found!;
  }

  /** A running member that is not the leader. */
  async follower(): Promise<EtcdNode> {
    const lead = await this.leader();
    return this.running().find((n) => n !== lead)!;
  }

  /** The slot `node` runs in. */
  slotOf(node: EtcdNode): Slot {
    return this.slots.find((s) => s.node === node)!;
  }

  /** Closes every member and deletes the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.kill(s)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  everyMs?: number;
  cancelled: boolean;
}

/**
 * A {@link MemberEnv} whose time moves only when the test calls {@link ManualEnv.advance}: the
 * production member runs under it unchanged. `setImmediate` is the real one (a turn of the
 * event loop is not time); randomness is a PRNG seeded by `seed`.
 */
export class ManualEnv implements MemberEnv {
  private wallMs: number;
  private monoMs = 0;
  private seq = 0;
  private timers: ManualTimer[] = [];
  private readonly prng: Prng;

  /** `startMs`: the wall clock at the start, epoch ms. */
  constructor(startMs = Date.UTC(2026, 0, 1), seed = 1) {
    this.wallMs = startMs;
    this.prng = new Prng(seed);
  }

  now(): number {
    return this.wallMs;
  }

  monotonicMs(): number {
    return this.monoMs;
  }

  setTimeout(fn: () => void, ms: number): EnvTimer {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): EnvTimer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  setImmediate(fn: () => void): void {
    setImmediate(fn);
  }

  random(n: number): number {
    return this.prng.int(n);
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves both clocks forward by `ms`, running each timer due on the way at its own time, in
   * time order; after each one, a turn of the real event loop lets the member react (its Ready
   * loop, promise callbacks) before time moves on.
   */
  async advance(ms: number): Promise<void> {
    const end = this.monoMs + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.moveTo(next.at);
      if (next.everyMs !== undefined) {
        next.at += next.everyMs;
        next.seq = this.seq++;
      } else {
        next.cancelled = true;
      }
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.moveTo(end);
    await new Promise((r) => setImmediate(r));
  }

  private moveTo(mono: number): void {
    this.wallMs += mono - this.monoMs;
    this.monoMs = mono;
  }

  private add(fn: () => void, ms: number, everyMs?: number): EnvTimer {
    const t: ManualTimer = { at: this.monoMs + Math.max(0, ms), seq: this.seq++, fn, everyMs, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }
}

/**
 * The members and data dirs of one test file, closed and removed after each test (registers a
 * bun:test `afterEach`): push what a test opens into `nodes`/`dirs`, or make a temp dir with
 * `tempDir(label)` (`<tmpdir>/<label>-XXXXXX`, removed afterwards).
 */
export function nodesClosedAfterEach(): { nodes: EtcdNode[]; dirs: string[]; tempDir(label: string): string } {
  const nodes: EtcdNode[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    nodes,
    dirs,
    tempDir(label) {
      const d = mkdtempSync(join(tmpdir(), `${label}-`));
      dirs.push(d);
      return d;
    },
  };
}
