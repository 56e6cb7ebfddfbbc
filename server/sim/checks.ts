/**
 * What must hold after every simulated run (each returns the problems found, empty when none):
 * the client history is linearizable (server/e2e/linearizability), no acknowledged write is
 * lost, every read matches the agreed history at its revision, every watcher saw every event
 * once in revision order without gaps, all members agree on the MVCC hash at the same revision,
 * and no lease expired earlier than its TTL after its last keep-alive.
 */
import { create } from "@bufbuild/protobuf";
import { RangeRequestSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import { checkHistory } from "../e2e/linearizability/checker.ts";
import { describeOp } from "../e2e/linearizability/model.ts";
import { hashKV } from "../mvcc/hash.ts";
import { HistoryReader } from "../mvcc/watch/history.ts";
import type { EtcdNode } from "../node/etcd-node.ts";
import type { SimMember } from "./cluster.ts";
import type { ClientRecord } from "./workload.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The history is linearizable (a budget running out is not a failure). */
export function checkLinearizable(rec: ClientRecord): string[] {
  const result = checkHistory(rec.history, { maxStepsPerKey: 200_000 });
  if (result.ok !== false) return [];
  return result.keys
    .filter((k) => k.ok === false)
    .map((k) => `not linearizable on ${k.key}:\n  linearized: ${(k.longestPrefix ?? []).slice(-8).join("\n    ")}\n  pending: ${(k.pendingAtFailure ?? []).join("\n    ")}`);
}

/** The value of `key` at `revision` in `ref`'s history (null: absent). */
function valueAt(ref: EtcdNode, key: string, revision: number): { value: string | null; modRevision: number } {
  const r = ref.mvcc.range(create(RangeRequestSchema, { key: enc.encode(key), revision: BigInt(revision) }));
  const kv = r.kvs[0];
  return kv ? { value: dec.decode(kv.value), modRevision: Number(kv.modRevision) } : { value: null, modRevision: 0 };
}

/** Every acknowledged write is in `ref`'s history at its revision; every read saw that history. */
export function checkDurability(rec: ClientRecord, ref: EtcdNode): string[] {
  const out: string[] = [];
  const cur = ref.mvcc.currentRevision;
  for (const a of rec.acked) {
    if (a.revision > cur) {
      out.push(`acknowledged write lost: ${a.key}=${a.value} at revision ${a.revision} (by ${a.member}), store is at ${cur}`);
      continue;
    }
    const at = valueAt(ref, a.key, a.revision);
    if (at.value !== a.value || (a.value !== null && at.modRevision !== a.revision)) {
      out.push(`acknowledged write lost: ${a.key}=${a.value} at revision ${a.revision} (by ${a.member}); history has ${at.value} (mod ${at.modRevision})`);
    }
  }
  for (const r of rec.localReads) {
    if (r.revision > cur) {
      out.push(`read from ${r.member} at revision ${r.revision} beyond the agreed history (${cur})`);
      continue;
    }
    const at = valueAt(ref, r.key, r.revision);
    if (at.value !== r.value) out.push(`read from ${r.member}: ${r.key}=${r.value} at revision ${r.revision}, agreed history has ${at.value}`);
  }
  return out;
}

/** Every watcher got exactly the events of revisions [start, current] of `ref`, in order. */
export function checkWatches(rec: ClientRecord, ref: EtcdNode, db: import("bun:sqlite").Database): string[] {
  const out: string[] = [];
  const reader = new HistoryReader(db);
  const cur = ref.mvcc.currentRevision;
  for (const w of rec.watches) {
    const want = reader.read(w.startRevision, cur, 1e9).events.map((e) => ({
      revision: Number(e.kv!.modRevision),
      key: dec.decode(e.kv!.key),
      type: e.type === Event_EventType.DELETE ? ("DELETE" as const) : ("PUT" as const),
      value: dec.decode(e.kv!.value),
    }));
    const got = w.events;
    const n = Math.max(want.length, got.length);
    for (let i = 0; i < n; i++) {
      const a = got[i];
      const b = want[i];
      if (a && b && a.revision === b.revision && a.key === b.key && a.type === b.type && a.value === b.value) continue;
      const show = (e: typeof a) => (e ? `${e.revision} ${e.type} ${e.key}=${e.value}` : "nothing");
      out.push(`watcher ${w.name} (from ${w.startRevision}, ${w.reconnects} reconnects): event ${i} is ${show(a)}, history has ${show(b)}`);
      break;
    }
  }
  return out;
}

/** All `members` are at the same revision and hash their MVCC history alike. */
export async function checkHashes(members: SimMember[]): Promise<string[]> {
  const revs = members.map((m) => m.node!.mvcc.currentRevision);
  const applied = members.map((m) => m.node!.appliedIndex);
  if (new Set(revs).size > 1 || new Set(applied).size > 1) {
    return [`members did not converge: ${members.map((m, i) => `${m.name} rev ${revs[i]} applied ${applied[i]}`).join(", ")}`];
  }
  const hashes = await Promise.all(members.map((m) => hashKV(m.node!.mvcc, revs[0]!)));
  if (new Set(hashes.map((h) => h.hash)).size > 1) {
    return [`MVCC hashes differ at revision ${revs[0]}: ${members.map((m, i) => `${m.name} ${hashes[i]!.hash}`).join(", ")}`];
  }
  return [];
}

/** A lease removal seen on a member at simulated time `at`, ms. */
export interface LeaseRemoval {
  member: string;
  id: bigint;
  at: number;
}

/** No lease the clients did not revoke was removed before its TTL after its last keep-alive. */
export function checkLeases(rec: ClientRecord, removals: LeaseRemoval[]): string[] {
  const out: string[] = [];
  for (const r of removals) {
    const l = rec.leases.get(r.id);
    if (!l || l.revokeAsked) continue;
    const earliest = l.renewedAt + l.ttl * 1000;
    if (r.at < earliest) out.push(`lease ${r.id.toString(16)} (TTL ${l.ttl}s, renewed at ${l.renewedAt} ms) expired on ${r.member} at ${r.at} ms, before ${earliest} ms`);
  }
  return out;
}

export { describeOp };
