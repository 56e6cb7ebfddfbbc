/**
 * Simulated clients of the member API: each runs a loop of requests against a random running
 * member (puts, compare-and-swap txns, deletes, linearizable and serializable ranges, leases with
 * keep-alives and revokes, member changes) and records what it saw for ./checks.ts. Watchers
 * keep a watch on every key open, moving to another member (from the next revision) when theirs
 * crashes, as clientv3 does. A request whose member crashed, or that failed, has an unknown
 * outcome for a write (it may still commit) and no result for a read.
 */
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  CompareSchema,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequestSchema,
  LeaseGrantRequestSchema,
  LeaseRevokeRequestSchema,
  PutRequestSchema,
  RangeRequestSchema,
  RequestOpSchema,
  TxnRequestSchema,
  WatchCreateRequestSchema,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import { describeOp, type Operation, type RegisterValue } from "../e2e/linearizability/model.ts";
import type { Prng } from "../raft/prng.ts";
import type { SimCluster, SimMember } from "./cluster.ts";
import type { SimScheduler } from "./scheduler.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Keys of the linearizability history (no lease is ever attached to them). */
export const REGISTER_KEYS = ["k0", "k1", "k2", "k3"];

/** A write a member acknowledged: `key` has `value` (null: deleted) at `revision`. */
export interface AckedWrite {
  key: string;
  value: RegisterValue;
  revision: number;
  member: string;
}

/** A serializable read: the member said `key` was `value` at `revision`. */
export interface LocalRead {
  key: string;
  value: RegisterValue;
  revision: number;
  member: string;
}

/** A watch event as a watcher received it. */
export interface SeenEvent {
  revision: number;
  key: string;
  type: "PUT" | "DELETE";
  value: string;
}

/** One watcher: the revision it started at and every event it received, in order. */
export interface WatchLog {
  name: string;
  startRevision: number;
  events: SeenEvent[];
  reconnects: number;
}

/** What a lease looked like to its clients, for the expiry check. */
export interface LeaseLog {
  id: bigint;
  /** Granted TTL, s. */
  ttl: number;
  /** Simulated time of the request of the last keep-alive (or grant) that succeeded, ms. */
  renewedAt: number;
  /** A client asked to revoke it (its removal is then not an expiry). */
  revokeAsked: boolean;
}

/** Everything the clients saw. */
export class ClientRecord {
  readonly history: Operation[] = [];
  readonly acked: AckedWrite[] = [];
  readonly localReads: LocalRead[] = [];
  readonly watches: WatchLog[] = [];
  readonly leases = new Map<bigint, LeaseLog>();
  counts: Record<string, number> = {};
  private nextOp = 0;

  count(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }

  newOp(client: number, key: string, input: Operation["input"], invokeMs: number): Operation {
    const op: Operation = { id: this.nextOp++, client, key, input, invokeMs, completeMs: Infinity };
    this.history.push(op);
    return op;
  }
}

/** Settings of the workload. */
export interface WorkloadOptions {
  clients: number;
  watchers: number;
  /** Allow membership changes. */
  memberChanges: boolean;
}

export class Workload {
  readonly record = new ClientRecord();
  private stopped = false;
  private seq = 0;
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly sched: SimScheduler,
    private readonly cluster: SimCluster,
    private readonly prng: Prng,
    private readonly opts: WorkloadOptions,
    private readonly trace?: (line: string) => void,
  ) {}

  /** Starts the clients and watchers (they run as the scheduler runs). */
  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.pending.push(this.client(c));
    for (let w = 0; w < this.opts.watchers; w++) this.pending.push(this.watcher(w));
  }

  /** Clients finish their current request and stop; watchers keep watching until {@link close}. */
  stop(): void {
    this.stopped = true;
  }

  private closed = false;
  private readonly streams = new Set<{ close(): void }>();

  /** Stops the watchers. */
  close(): void {
    this.closed = true;
    for (const s of this.streams) s.close();
  }

  private pick(): SimMember | undefined {
    return this.prng.pick(this.cluster.running());
  }

  /** Waits for `p` or the member's crash; a crash or an error is `undefined` with its reason. */
  private async call<T>(m: SimMember, p: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    const call = { member: m.name, since: this.sched.now };
    this.inFlight.add(call);
    try {
      const node = m.node;
      if (!node) return { ok: false, error: "not running" };
      return { ok: true, value: await Promise.race([p(), m.down]) };
    } catch (e) {
      return { ok: false, error: e instanceof ConnectError ? e.rawMessage : String(e) };
    } finally {
      this.inFlight.delete(call);
    }
  }

  /** Requests not answered yet (a running member must answer each within its request timeout). */
  readonly inFlight = new Set<{ member: string; since: number }>();

  private async client(c: number): Promise<void> {
    const known = new Map<string, string>();
    while (!this.stopped) {
      await this.sched.sleep(1 + this.prng.int(40));
      if (this.stopped) break;
      const m = this.pick();
      if (!m) continue;
      const r = this.prng.int(100);
      const key = this.prng.pick(REGISTER_KEYS)!;
      const t0 = this.sched.now;
      if (r < 25) {
        const value = `c${c}-${this.seq++}`;
        const op = this.record.newOp(c, key, { kind: "write", value }, t0);
        const res = await this.call(m, () => m.node!.put(create(PutRequestSchema, { key: enc.encode(key), value: enc.encode(value) })));
        this.record.count(res.ok ? "put" : "put failed");
        if (res.ok) {
          op.output = { kind: "write" };
          op.completeMs = this.sched.now;
          this.record.acked.push({ key, value, revision: Number(res.value.header!.revision), member: m.name });
          known.set(key, value);
        }
      } else if (r < 40) {
        const expected = known.get(key) ?? `c${c}-none`;
        const value = `c${c}-${this.seq++}`;
        const op = this.record.newOp(c, key, { kind: "cas", expected, value }, t0);
        const txn = create(TxnRequestSchema, {
          compare: [create(CompareSchema, { key: enc.encode(key), target: Compare_CompareTarget.VALUE, result: Compare_CompareResult.EQUAL, targetUnion: { case: "value", value: enc.encode(expected) } })],
          success: [create(RequestOpSchema, { request: { case: "requestPut", value: create(PutRequestSchema, { key: enc.encode(key), value: enc.encode(value) }) } })],
          failure: [create(RequestOpSchema, { request: { case: "requestRange", value: create(RangeRequestSchema, { key: enc.encode(key) }) } })],
        });
        const res = await this.call(m, () => m.node!.txn(txn));
        this.record.count(res.ok ? (res.value.succeeded ? "cas ok" : "cas failed") : "cas error");
        if (res.ok) {
          op.output = { kind: "cas", ok: res.value.succeeded };
          op.completeMs = this.sched.now;
          if (res.value.succeeded) {
            this.record.acked.push({ key, value, revision: Number(res.value.header!.revision), member: m.name });
            known.set(key, value);
          } else {
            const kv = res.value.responses[0]?.response.case === "responseRange" ? res.value.responses[0].response.value.kvs[0] : undefined;
            if (kv) known.set(key, dec.decode(kv.value));
          }
        }
      } else if (r < 48) {
        const op = this.record.newOp(c, key, { kind: "write", value: null }, t0);
        const res = await this.call(m, () => m.node!.deleteRange(create(DeleteRangeRequestSchema, { key: enc.encode(key) })));
        this.record.count(res.ok ? "delete" : "delete failed");
        if (res.ok) {
          op.output = { kind: "write" };
          op.completeMs = this.sched.now;
          this.record.acked.push({ key, value: null, revision: Number(res.value.header!.revision), member: m.name });
        }
      } else if (r < 75) {
        const op = this.record.newOp(c, key, { kind: "read" }, t0);
        const res = await this.call(m, () => m.node!.range(create(RangeRequestSchema, { key: enc.encode(key) })));
        this.record.count(res.ok ? "range" : "range failed");
        if (res.ok) {
          const kv = res.value.kvs[0];
          const value = kv ? dec.decode(kv.value) : null;
          op.output = { kind: "read", value };
          op.completeMs = this.sched.now;
          this.record.localReads.push({ key, value, revision: Number(res.value.header!.revision), member: m.name });
          if (value !== null) known.set(key, value);
        }
      } else if (r < 80) {
        // A read-only txn: served without a proposal, after a ReadIndex round (etcd's v3_server.go Txn).
        const op = this.record.newOp(c, key, { kind: "read" }, t0);
        const txn = create(TxnRequestSchema, {
          success: [create(RequestOpSchema, { request: { case: "requestRange", value: create(RangeRequestSchema, { key: enc.encode(key) }) } })],
        });
        const res = await this.call(m, () => m.node!.txn(txn));
        this.record.count(res.ok ? "txn range" : "txn range failed");
        if (res.ok) {
          const first = res.value.responses[0]?.response;
          const kv = first?.case === "responseRange" ? first.value.kvs[0] : undefined;
          const value = kv ? dec.decode(kv.value) : null;
          op.output = { kind: "read", value };
          op.completeMs = this.sched.now;
          this.record.localReads.push({ key, value, revision: Number(res.value.header!.revision), member: m.name });
        }
      } else if (r < 87) {
        const res = await this.call(m, () => m.node!.range(create(RangeRequestSchema, { key: enc.encode(key), serializable: true })));
        this.record.count(res.ok ? "serializable range" : "serializable range failed");
        if (res.ok) {
          const kv = res.value.kvs[0];
          this.record.localReads.push({ key, value: kv ? dec.decode(kv.value) : null, revision: Number(res.value.header!.revision), member: m.name });
        }
      } else if (r < 97) {
        await this.leaseOp(m);
      } else if (this.opts.memberChanges) {
        await this.memberChange();
      }
      const last = this.trace && this.record.history.findLast((o) => o.client === c);
      if (this.trace && last && last.invokeMs === t0) {
        this.trace(`${this.sched.now.toFixed(0).padStart(6)} c${c} @${m.name} ${describeOp(last)} rev ${this.record.localReads.at(-1)?.revision ?? "-"}/${this.record.acked.at(-1)?.revision ?? "-"}`);
      }
    }
  }

  /** Grants a lease and attaches a key, renews one, or revokes one. */
  private async leaseOp(m: SimMember): Promise<void> {
    const leases = [...this.record.leases.values()].filter((l) => !l.revokeAsked);
    const r = this.prng.int(10);
    if (r < 3 || leases.length === 0) {
      const ttl = 2 + this.prng.int(4);
      const t0 = this.sched.now;
      const res = await this.call(m, () => m.node!.leaseGrant(create(LeaseGrantRequestSchema, { TTL: BigInt(ttl) })));
      this.record.count(res.ok ? "lease grant" : "lease grant failed");
      if (!res.ok) return;
      const id = res.value.ID;
      this.record.leases.set(id, { id, ttl: Number(res.value.TTL), renewedAt: t0, revokeAsked: false });
      const key = `l${id.toString(16).slice(-6)}`;
      const put = await this.call(m, () => m.node!.put(create(PutRequestSchema, { key: enc.encode(key), value: enc.encode("v"), lease: id })));
      this.record.count(put.ok ? "put with lease" : "put with lease failed");
      return;
    }
    const l = this.prng.pick(leases)!;
    if (r < 8) {
      // Keep-alives go to the lease holder (a follower would forward them over the peer port).
      const holder = this.cluster.running().find((x) => x.node!.lessor.isPrimary) ?? m;
      const t0 = this.sched.now;
      const res = await this.call(holder, () => holder.node!.leaseRenew(l.id, true));
      this.record.count(res.ok ? "keep-alive" : "keep-alive failed");
      if (res.ok && t0 > l.renewedAt) {
        l.renewedAt = t0;
        l.ttl = Number(res.value);
      }
      return;
    }
    l.revokeAsked = true;
    const res = await this.call(m, () => m.node!.leaseRevoke(create(LeaseRevokeRequestSchema, { ID: l.id })));
    this.record.count(res.ok ? "lease revoke" : "lease revoke failed");
  }

  /** Adds a learner (up to 5 members), promotes a caught-up learner, or removes a voter (down to 3). */
  private async memberChange(): Promise<void> {
    const lead = this.cluster.leader();
    if (!lead) return;
    const records = lead.node!.memberRecords();
    const voters = records.filter((r) => !r.isLearner);
    const learners = records.filter((r) => r.isLearner);
    if (this.prng.chance(0.25)) {
      const target = this.prng.pick(voters.filter((v) => v.id !== lead.id));
      if (!target) return;
      const res = await this.call(lead, () => lead.node!.cluster.moveLeader(target.id));
      this.record.count(res.ok ? "move leader" : "move leader failed");
      this.trace?.(`move leader to ${target.id.toString(16)}: ${res.ok ? "ok" : res.error}`);
    } else if (learners.length > 0) {
      const id = learners[0]!.id;
      const res = await this.call(lead, () => lead.node!.cluster.promoteLocal(id));
      this.record.count(res.ok ? "member promote" : "member promote failed");
      this.trace?.(`promote ${id.toString(16)}: ${res.ok ? "ok" : res.error}`);
    } else if (records.length < 5 && this.prng.chance(0.6)) {
      const added = await this.cluster.addLearner(lead);
      this.record.count(added ? "member add" : "member add failed");
    } else if (voters.length > 3) {
      const victim = this.prng.pick(voters.filter((v) => v.id !== lead.id))!;
      const res = await this.call(lead, () => lead.node!.cluster.remove(victim.id));
      this.record.count(res.ok ? "member remove" : "member remove failed");
      this.trace?.(`remove ${victim.id.toString(16)}: ${res.ok ? "ok" : res.error}`);
    }
  }

  /** Watches every key from the current revision on, across member crashes. */
  private async watcher(w: number): Promise<void> {
    let log: WatchLog | undefined;
    let next = 0;
    while (!this.closed) {
      const m = this.pick();
      if (!m) {
        await this.sched.sleep(50);
        continue;
      }
      const node = m.node!;
      if (!log) {
        next = node.mvcc.currentRevision + 1;
        log = { name: `w${w}@${m.name}`, startRevision: next, events: [], reconnects: 0 };
        this.record.watches.push(log);
      } else {
        log.reconnects++;
      }
      let stream;
      try {
        stream = node.openWatchStream();
      } catch {
        await this.sched.sleep(50);
        continue;
      }
      this.streams.add(stream);
      stream.create(create(WatchCreateRequestSchema, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), startRevision: BigInt(next) }));
      for (;;) {
        let resp;
        try {
          resp = await Promise.race([stream.next(), m.down]);
        } catch {
          break;
        }
        if (!resp) break;
        if (resp.canceled) break;
        for (const ev of resp.events) {
          const revision = Number(ev.kv!.modRevision);
          log.events.push({
            revision,
            key: dec.decode(ev.kv!.key),
            type: ev.type === Event_EventType.DELETE ? "DELETE" : "PUT",
            value: dec.decode(ev.kv!.value),
          });
          next = revision + 1;
        }
      }
      this.streams.delete(stream);
      stream.close();
      if (!this.closed) await this.sched.sleep(20 + this.prng.int(100));
    }
  }
}
