/**
 * A key's history since the last compaction, read with a watch from revision 1 (or from the
 * compaction revision when the server says the start was compacted): every PUT and DELETE of
 * the key with the value at that revision. The replay ends at the key's current mod revision,
 * or, for a deleted key, when the stream has been quiet for HISTORY_IDLE_MS.
 */
import { Event_EventType } from "../../../proto/gen/mvccpb/kv_pb.ts";
import { api } from "./client.ts";

/** Quiet time after which a deleted key's replay is taken as complete, ms. */
const HISTORY_IDLE_MS = 400;
/** Most events read for one key. */
const HISTORY_MAX_EVENTS = 1000;

/** One change of a key. */
export interface KeyChange {
  type: "PUT" | "DELETE";
  revision: bigint;
  version: bigint;
  value: Uint8Array;
  lease: bigint;
}

/**
 * Reads the changes of `key` up to `untilRevision` (its current mod revision; 0n when the key
 * does not exist now). Returns them oldest first, and the revision the history starts at
 * (the compaction revision, or 1).
 */
export async function keyHistory(key: Uint8Array, untilRevision: bigint): Promise<{ changes: KeyChange[]; from: bigint }> {
  let from = 1n;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ac = new AbortController();
    const changes: KeyChange[] = [];
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ac.abort(), HISTORY_IDLE_MS);
    };
    let compactedTo = 0n;
    try {
      arm();
      for await (const r of api.watch.watch({ key, startRevision: from }, { signal: ac.signal })) {
        if (r.canceled) {
          compactedTo = r.compactRevision;
          break;
        }
        for (const ev of r.events) {
          const kv = ev.kv!;
          changes.push({ type: ev.type === Event_EventType.DELETE ? "DELETE" : "PUT", revision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease });
        }
        const last = changes[changes.length - 1];
        if ((untilRevision > 0n && last && last.revision >= untilRevision) || changes.length >= HISTORY_MAX_EVENTS) break;
        arm();
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    } finally {
      clearTimeout(idle);
      ac.abort();
    }
    if (compactedTo > 0n) {
      from = compactedTo;
      continue;
    }
    return { changes, from };
  }
  throw new Error("history: the start revision kept being compacted");
}
