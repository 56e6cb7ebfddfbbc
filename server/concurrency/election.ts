/**
 * Leader election on a name, as etcd's clientv3/concurrency Election (election.go) that etcd
 * 3.4's v3election server uses: a candidate puts `<name>/<lease hex>` (its proposal as the
 * value, attached to its lease) and leads once every key created before it is gone; the
 * leader's key is the one with the lowest create revision under `<name>/`. Proclaim and resign
 * are guarded by the key's create revision, so a deposed leader cannot touch its successor.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ResponseHeader } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { ResponseHeaderSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, type KeyValue } from "../../proto/gen/mvccpb/kv_pb.ts";
import type { LeaderKey } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { concatKey, contextCanceled, prefixEnd, type KvClient } from "./kv-client.ts";
import { createRevisionIs, rangeKvs } from "./mutex.ts";
import { sessionKeySuffix, sessionLease } from "./session.ts";
import { waitDeletes } from "./wait-deletes.ts";

/** concurrency.ErrElectionNotLeader as the election server answers it (Unknown). */
export function notLeader(): ConnectError {
  return new ConnectError("election: not leader", Code.Unknown);
}

/** concurrency.ErrElectionNoLeader as the election server answers it (Unknown). */
export function noLeader(): ConnectError {
  return new ConnectError("election: no leader", Code.Unknown);
}

/** The leadership a campaign won, as CampaignResponse carries it. */
export interface Leadership {
  header: ResponseHeader;
  leader: { name: Uint8Array; key: Uint8Array; rev: bigint; lease: bigint };
}

/** One proclamation: the leader's key-value and the header it was seen with. */
export interface Proclamation {
  header: ResponseHeader;
  kv: KeyValue;
}

/**
 * Campaigns for `name` with `value` held by `lease` (0: a fresh 60 s lease) and resolves once
 * elected. Campaigning again with the same lease resumes the earlier campaign (and proclaims
 * `value` if it changed). On an aborted wait the candidacy is withdrawn.
 * Header: of the campaign txn (etcd keeps that one, not the one of the wait).
 * Errors: Unknown with the member's message (`etcdserver: requested lease not found`...);
 * Canceled when `signal` aborts.
 */
export async function campaign(
  client: KvClient,
  name: Uint8Array,
  lease: bigint,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<Leadership> {
  const id = await sessionLease(client, lease);
  const prefix = concatKey(name, "/");
  const key = concatKey(prefix, sessionKeySuffix(id));
  const resp = await client.txn({
    compare: [createRevisionIs(key, 0n)],
    success: [{ request: { case: "requestPut", value: { key, value, lease: id } } }],
    failure: [{ request: { case: "requestRange", value: { key } } }],
  });
  const leader = { name, key, rev: resp.header!.revision, lease: id };
  if (!resp.succeeded) {
    const kv = rangeKvs(resp.responses[0])[0]!;
    leader.rev = kv.createRevision;
    if (!sameBytes(kv.value, value)) {
      try {
        await proclaim(client, leader, value);
      } catch (e) {
        await resign(client, leader).catch(() => {});
        throw e;
      }
    }
  }
  try {
    await waitDeletes(client, prefix, leader.rev - 1n, signal);
  } catch (e) {
    if (signal.aborted) await resign(client, leader).catch(() => {});
    throw e;
  }
  return { header: resp.header!, leader };
}

/**
 * Replaces the leader's value with `value` if `leader.key` still has create revision
 * `leader.rev`. Resolves with the put's header. Errors: Unknown `election: not leader` when the
 * leadership is gone; Unknown `etcdserver: key is not provided` for an empty key.
 */
export async function proclaim(client: KvClient, leader: Pick<LeaderKey, "key" | "rev" | "lease">, value: Uint8Array): Promise<ResponseHeader> {
  const resp = await client.txn({
    compare: [createRevisionIs(leader.key, leader.rev)],
    success: [{ request: { case: "requestPut", value: { key: leader.key, value, lease: leader.lease } } }],
  });
  if (!resp.succeeded) throw notLeader();
  return resp.header!;
}

/**
 * Gives up leadership: deletes `leader.key` if it still has create revision `leader.rev`
 * (otherwise nothing happens and the answer is the same). Resolves with the txn's header.
 * Errors: Unknown `etcdserver: key is not provided` for an empty key.
 */
export async function resign(client: KvClient, leader: Pick<LeaderKey, "key" | "rev">): Promise<ResponseHeader> {
  const resp = await client.txn({
    compare: [createRevisionIs(leader.key, leader.rev)],
    success: [{ request: { case: "requestDeleteRange", value: { key: leader.key } } }],
  });
  return resp.header!;
}

/** The current leader's key-value of `name`. Errors: Unknown `election: no leader`. */
export async function leader(client: KvClient, name: Uint8Array): Promise<Proclamation> {
  const resp = await client.byCreate(concatKey(name, "/"), "first");
  const kv = resp.kvs[0];
  if (!kv) throw noLeader();
  return { header: resp.header!, kv };
}

/**
 * Every proclamation of `name` in order (etcd's Election.observe): the current leader's value
 * (or, with none, the first candidate's put), then each new value of that leader until its key
 * is deleted, then the next leader's, and so on. Ends quietly when a lookup fails or a watch
 * ends (compaction, member stopping); throws Canceled when `signal` aborts.
 */
export async function* observe(client: KvClient, name: Uint8Array, signal: AbortSignal): AsyncGenerator<Proclamation> {
  const prefix = concatKey(name, "/");
  for (;;) {
    let current: Proclamation;
    try {
      const resp = await client.byCreate(prefix, "first");
      const kv = resp.kvs[0];
      if (kv) current = { header: resp.header!, kv };
      else {
        const first = await firstPut(client, prefix, resp.header!.revision, signal);
        if (!first) break;
        current = first;
      }
    } catch {
      break;
    }
    yield current;
    let deleted = false;
    for await (const wr of client.watch(current.kv.key, new Uint8Array(0), current.header.revision + 1n, signal)) {
      for (const ev of wr.events) {
        if (ev.type === Event_EventType.DELETE) {
          deleted = true;
          break;
        }
        yield { header: wr.header!, kv: ev.kv! };
      }
      if (deleted) break;
    }
    if (!deleted) break;
  }
  if (signal.aborted) throw contextCanceled();
}

/** The first put under `prefix` from `revision` on, its header's revision set to the put's; undefined if the watch ends first. */
async function firstPut(client: KvClient, prefix: Uint8Array, revision: bigint, signal: AbortSignal): Promise<Proclamation | undefined> {
  for await (const wr of client.watch(prefix, prefixEnd(prefix), revision, signal)) {
    if (wr.compactRevision !== 0n) return undefined;
    const put = wr.events.find((ev) => ev.type === Event_EventType.PUT);
    if (put) return { header: create(ResponseHeaderSchema, { ...wr.header!, revision: put.kv!.modRevision }), kv: put.kv! };
  }
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
