/**
 * Applying lease entries and keeping key attachments in step with MVCC writes, as etcd's
 * applier does (etcdserver/apply.go LeaseGrant/LeaseRevoke/LeaseCheckpoint; mvcc/kvstore_txn.go
 * put/delete calling the lessor's Attach/Detach). Runs inside the apply transaction.
 */
import { create } from "@bufbuild/protobuf";
import {
  LeaseCheckpointResponseSchema,
  LeaseGrantResponseSchema,
  LeaseRevokeResponseSchema,
  RequestOpSchema,
  TxnRequestSchema,
  type LeaseCheckpointRequest,
  type LeaseCheckpointResponse,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
} from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { type Event, Event_EventType } from "../../proto/gen/mvccpb/kv_pb.ts";
import { Errors } from "../errors.ts";
import { bytesToKey, keyToBytes } from "../mvcc/keys.ts";
import type { LeaseAttachment } from "../mvcc/store.ts";
import type { MvccStore } from "../mvcc/store.ts";
import type { Lessor } from "./lessor.ts";

/**
 * LeaseGrant entry: grants `req.ID` for `req.TTL` seconds; the response carries the ID and the
 * TTL actually granted (raised to the minimum). Errors: see {@link Lessor.grant}.
 */
export function applyLeaseGrant(lessor: Lessor, req: LeaseGrantRequest): LeaseGrantResponse {
  const l = lessor.grant(req.ID, Number(req.TTL));
  return create(LeaseGrantResponseSchema, { ID: l.id, TTL: BigInt(l.ttl) });
}

/**
 * LeaseRevoke entry: deletes every key attached to the lease in ONE MVCC revision (keys in
 * byte order, so every member writes the same rows), then removes the lease. Returns the
 * delete events for watchers. Revoking a lease without keys does not advance the revision.
 * Errors: LeaseNotFound (NotFound "etcdserver: requested lease not found").
 */
export function applyLeaseRevoke(
  lessor: Lessor,
  mvcc: MvccStore,
  req: LeaseRevokeRequest,
): { response: LeaseRevokeResponse; events: Event[] } {
  const l = lessor.lookup(req.ID);
  if (!l) throw Errors.LeaseNotFound();
  let events: Event[] = [];
  if (l.keys.size > 0) {
    const success = [...l.keys].sort().map((k) =>
      create(RequestOpSchema, { request: { case: "requestDeleteRange", value: { key: keyToBytes(k) } } }),
    );
    events = mvcc.txn(create(TxnRequestSchema, { success })).events;
  }
  trackLeaseAttachments(lessor, events);
  lessor.remove(req.ID);
  return { response: create(LeaseRevokeResponseSchema), events };
}

/** LeaseCheckpoint entry: records each lease's remaining TTL (unknown leases are skipped). */
export function applyLeaseCheckpoint(lessor: Lessor, req: LeaseCheckpointRequest): LeaseCheckpointResponse {
  for (const c of req.checkpoints) lessor.checkpoint(c.ID, Number(c.remainingTTL));
  return create(LeaseCheckpointResponseSchema);
}

/**
 * Moves key attachments after an MVCC write, from its events in order: a put detaches the key
 * from its previous lease when the lease changed and attaches it to the new one (if any); a
 * delete detaches it. A put naming a lease the lessor does not know (possible only for data
 * written before leases were checked) leaves the key unattached.
 */
export function trackLeaseAttachments(lessor: Lessor, events: readonly Event[]): void {
  for (const ev of events) {
    const kv = ev.kv;
    if (!kv) continue;
    const next = ev.type === Event_EventType.PUT ? kv.lease : 0n;
    // No key attached anywhere and none to attach: nothing moves (skips the key's string and lookup).
    if (next === 0n && lessor.attachedKeys === 0) continue;
    const key = bytesToKey(kv.key);
    const old = lessor.leaseOf(key);
    if (old === next) continue;
    if (old !== 0n) lessor.detach(old, key);
    if (next !== 0n && lessor.has(next)) lessor.attach(next, key);
  }
}

/**
 * Re-attaches keys found at start-up (MvccStore.leaseAttachmentsAtOpen) to their leases, as
 * etcd's store restore does; keys of unknown leases are skipped. Returns how many were skipped.
 */
export function restoreLeaseAttachments(lessor: Lessor, attachments: readonly LeaseAttachment[]): number {
  let skipped = 0;
  for (const a of attachments) {
    if (lessor.has(a.lease)) lessor.attach(a.lease, bytesToKey(a.key));
    else skipped++;
  }
  return skipped;
}
