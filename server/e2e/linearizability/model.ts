/**
 * The sequential specification the linearizability checker tests a history against: one
 * register per etcd key, with reads, writes (Put) and compare-and-set (a Txn comparing the
 * key's value, putting a new value on success). A missing key is `null`; as in etcd's
 * `applyCompare` (etcdserver/apply.go), a VALUE compare on a missing key is always false, so a
 * CAS never succeeds on a missing key.
 */

/** A key's value: the bytes as a string, or null when the key does not exist. */
export type RegisterValue = string | null;

/** What a client asked for (a write of null is a delete). */
export type RegisterInput =
  | { kind: "read" }
  | { kind: "write"; value: RegisterValue }
  | { kind: "cas"; expected: string; value: string };

/** What the server answered (only for operations whose outcome is known). */
export type RegisterOutput =
  | { kind: "read"; value: RegisterValue }
  | { kind: "write" }
  | { kind: "cas"; ok: boolean };

/**
 * One client operation on one key. Times are client-side `performance.now()` readings in ms:
 * `invokeMs` before the request was sent, `completeMs` after its answer arrived. An operation
 * whose outcome is unknown (timeout, connection lost after sending) has no `output` and
 * `completeMs = Infinity`: it may have taken effect at any time after `invokeMs`, or never.
 */
export interface Operation {
  /** Unique within a history (used in reports). */
  id: number;
  /** Client (process) number; a client has at most one operation in flight. */
  client: number;
  key: string;
  input: RegisterInput;
  /** Undefined when the outcome is unknown. */
  output?: RegisterOutput;
  invokeMs: number;
  completeMs: number;
}

/** Marker returned by `step` for an output the model cannot produce from a state. */
export const ILLEGAL = Symbol("illegal");

/**
 * Applies `op` to register state `state`: returns the next state, or ILLEGAL if `op`'s output
 * is impossible in `state`. An operation with unknown outcome is always legal (a CAS then
 * succeeds exactly when the state allows it); an unknown read changes nothing.
 */
export function step(state: RegisterValue, op: Operation): RegisterValue | typeof ILLEGAL {
  const input = op.input;
  const out = op.output;
  switch (input.kind) {
    case "read":
      if (out === undefined) return state;
      return out.kind === "read" && out.value === state ? state : ILLEGAL;
    case "write":
      return input.value;
    case "cas": {
      const matches = state !== null && state === input.expected;
      if (out === undefined) return matches ? input.value : state;
      if (out.kind !== "cas" || out.ok !== matches) return ILLEGAL;
      return matches ? input.value : state;
    }
  }
}

/** One-line description of an operation for failure reports, e.g. `#12 c3 k1 cas(a->b)=ok [10.5, 12.0]`. */
export function describeOp(op: Operation): string {
  const i = op.input;
  const call = i.kind === "read" ? "read()" : i.kind === "write" ? `write(${i.value})` : `cas(${i.expected}->${i.value})`;
  const o = op.output;
  const result =
    o === undefined ? "?" : o.kind === "read" ? JSON.stringify(o.value) : o.kind === "cas" ? (o.ok ? "ok" : "failed") : "ok";
  const end = Number.isFinite(op.completeMs) ? op.completeMs.toFixed(1) : "∞";
  return `#${op.id} c${op.client} ${op.key} ${call}=${result} [${op.invokeMs.toFixed(1)}, ${end}]`;
}
