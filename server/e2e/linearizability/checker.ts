/**
 * Linearizability checker for register/CAS histories (model.ts): the Wing & Gong search with
 * Lowe's memoisation ("Testing for linearizability", G. Lowe, 2017; also the algorithm of the
 * Porcupine checker), run separately on each key, since operations on different keys commute
 * (a history is linearizable iff each per-key sub-history is, Herlihy & Wing's locality).
 *
 * The history becomes a list of call and return events sorted by time (a call before a return
 * at the same instant, so touching intervals count as concurrent). The search repeatedly picks
 * a pending call, applies it to the model and removes it with its return ("lifts" it); when it
 * reaches a return whose call is not yet linearized it backtracks. States already seen
 * (linearized set + register value) are never explored twice. Operations with unknown outcome
 * return at +∞, so they can be linearized anywhere after their call, including after every
 * other operation (i.e. never applied). The search is bounded by a step budget: past it the
 * verdict is "unknown".
 */
import { describeOp, ILLEGAL, type Operation, type RegisterValue, step } from "./model.ts";

/** Verdict for one key. */
export interface KeyResult {
  key: string;
  /** true: linearizable; false: not; undefined: the step budget ran out. */
  ok: boolean | undefined;
  /** Operations checked (after dropping reads with unknown outcome). */
  operations: number;
  /** Search steps used. */
  steps: number;
  /**
   * When not linearizable: the longest sequence of operations the search could linearize, and
   * the operations that were pending (called, not linearized) at that point, one line each.
   */
  longestPrefix?: string[];
  pendingAtFailure?: string[];
}

/** Verdict for a whole history. */
export interface CheckResult {
  /** true when every key is linearizable; false when one is not; undefined when none failed but a budget ran out. */
  ok: boolean | undefined;
  keys: KeyResult[];
}

/** Options of `checkHistory`. */
export interface CheckOptions {
  /** Value of each key before the history (default null: missing). */
  initial?: ReadonlyMap<string, RegisterValue>;
  /** Search steps allowed per key (default 5 000 000). */
  maxStepsPerKey?: number;
}

/** A call or return event in the doubly linked event list. */
interface Event {
  op: number;
  isCall: boolean;
  time: number;
  /** The call's return event (only on calls). */
  match?: Event;
  prev: Event | undefined;
  next: Event | undefined;
}

/** Builds the sorted event list of `ops` and returns its head sentinel. */
function eventList(ops: Operation[]): Event {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const ret: Event = { op: i, isCall: false, time: op.completeMs, prev: undefined, next: undefined };
    events.push({ op: i, isCall: true, time: op.invokeMs, match: ret, prev: undefined, next: undefined }, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Event = { op: -1, isCall: false, time: -Infinity, prev: undefined, next: undefined };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Removes a call and its return from the list. */
function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts a lifted call and its return back (in reverse order of `lift`). */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/**
 * Checks the operations of one key, starting from register value `initial`. Reads with unknown
 * outcome are dropped (they change nothing). See the file comment for the algorithm.
 */
export function checkKey(key: string, history: Operation[], initial: RegisterValue = null, maxSteps = 5_000_000): KeyResult {
  const ops = history.filter((op) => op.input.kind !== "read" || op.output !== undefined);
  const head = eventList(ops);
  const linearized = new Uint32Array((ops.length + 31) >>> 5);
  const seen = new Set<string>();
  const stack: { call: Event; state: RegisterValue }[] = [];
  let state = initial;
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];
  const toggle = (i: number) => (linearized[i >>> 5]! ^= 1 << (i & 31));
  while (head.next !== undefined) {
    if (++steps > maxSteps) return { key, ok: undefined, operations: ops.length, steps };
    if (entry!.isCall) {
      const next = step(state, ops[entry!.op]!);
      if (next !== ILLEGAL) {
        toggle(entry!.op);
        const memo = `${linearized.join(",")}|${JSON.stringify(next)}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ call: entry!, state });
          state = next;
          lift(entry!);
          entry = head.next;
          continue;
        }
        toggle(entry!.op);
      }
      entry = entry!.next;
    } else {
      // A return whose call is not linearized: this branch is dead; undo the last choice.
      if (stack.length > longest.length) longest = stack.map((s) => s.call.op);
      const top = stack.pop();
      if (top === undefined) {
        return {
          key,
          ok: false,
          operations: ops.length,
          steps,
          longestPrefix: longest.map((i) => describeOp(ops[i]!)),
          pendingAtFailure: pendingAfter(ops, longest).map(describeOp),
        };
      }
      state = top.state;
      toggle(top.call.op);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { key, ok: true, operations: ops.length, steps };
}

/**
 * Operations not in `prefix` that were invoked before the earliest completion among them: the
 * candidates the search had for the next step after `prefix`.
 */
function pendingAfter(ops: Operation[], prefix: number[]): Operation[] {
  const done = new Set(prefix);
  const rest = ops.filter((_, i) => !done.has(i));
  const firstReturn = Math.min(...rest.map((op) => op.completeMs));
  return rest.filter((op) => op.invokeMs <= firstReturn);
}

/**
 * Checks a whole history: partitions it by key and checks each key (see `checkKey`). The
 * verdict is false as soon as one key is not linearizable.
 */
export function checkHistory(history: Operation[], opts: CheckOptions = {}): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    const list = byKey.get(op.key);
    if (list) list.push(op);
    else byKey.set(op.key, [op]);
  }
  const keys = [...byKey].map(([key, ops]) => checkKey(key, ops, opts.initial?.get(key) ?? null, opts.maxStepsPerKey));
  const ok = keys.some((k) => k.ok === false) ? false : keys.every((k) => k.ok === true) ? true : undefined;
  return { ok, keys };
}
