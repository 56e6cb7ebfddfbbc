/**
 * Unit tests of the register/CAS linearizability checker on hand-made histories, linearizable
 * and not, plus generated histories of a correct register (always linearizable) and the same
 * histories with one read made stale (the checker must notice).
 */
import { describe, expect, test } from "bun:test";
import { checkHistory, checkKey } from "./checker.ts";
import type { Operation, RegisterInput, RegisterOutput, RegisterValue } from "./model.ts";
import { HistoryRecorder } from "./recorder.ts";

let nextId = 0;

/** An operation on key "k" (unless `key` is given); `end` Infinity and no output = unknown outcome. */
function op(client: number, start: number, end: number, input: RegisterInput, output?: RegisterOutput, key = "k"): Operation {
  return { id: nextId++, client, key, input, output, invokeMs: start, completeMs: end };
}
const read = (c: number, s: number, e: number, value: RegisterValue, key?: string) => op(c, s, e, { kind: "read" }, { kind: "read", value }, key);
const write = (c: number, s: number, e: number, value: string, key?: string) => op(c, s, e, { kind: "write", value }, { kind: "write" }, key);
const cas = (c: number, s: number, e: number, expected: string, value: string, ok: boolean) =>
  op(c, s, e, { kind: "cas", expected, value }, { kind: "cas", ok });
const unknownWrite = (c: number, s: number, value: string) => op(c, s, Infinity, { kind: "write", value });
const unknownCas = (c: number, s: number, expected: string, value: string) => op(c, s, Infinity, { kind: "cas", expected, value });

describe("linearizable histories pass", () => {
  test("sequential write then read; read of the initial value", () => {
    expect(checkKey("k", [write(0, 0, 1, "a"), read(0, 2, 3, "a")]).ok).toBe(true);
    expect(checkKey("k", [read(0, 0, 1, "x")], "x").ok).toBe(true);
    expect(checkKey("k", [read(0, 0, 1, null)]).ok).toBe(true);
  });

  test("a read overlapping a write may see the old or the new value", () => {
    expect(checkKey("k", [write(0, 0, 10, "a"), read(1, 1, 2, null)]).ok).toBe(true);
    expect(checkKey("k", [write(0, 0, 10, "a"), read(1, 1, 2, "a")]).ok).toBe(true);
    // Both orders of two concurrent writes are allowed.
    expect(checkKey("k", [write(0, 0, 10, "a"), write(1, 0, 10, "b"), read(2, 11, 12, "a")]).ok).toBe(true);
    expect(checkKey("k", [write(0, 0, 10, "a"), write(1, 0, 10, "b"), read(2, 11, 12, "b")]).ok).toBe(true);
  });

  test("compare-and-set chains", () => {
    const h = [write(0, 0, 1, "0"), cas(0, 2, 3, "0", "1", true), cas(1, 4, 5, "0", "2", false), cas(1, 6, 7, "1", "2", true), read(0, 8, 9, "2")];
    expect(checkKey("k", h).ok).toBe(true);
    // Two concurrent CAS with the same expected value: one wins.
    expect(checkKey("k", [cas(0, 0, 5, "x", "a", true), cas(1, 0, 5, "x", "b", false), read(2, 6, 7, "a")], "x").ok).toBe(true);
  });

  test("an unknown write may have taken effect late, or never", () => {
    expect(checkKey("k", [unknownWrite(0, 0, "a"), read(1, 100, 101, "a")]).ok).toBe(true);
    expect(checkKey("k", [unknownWrite(0, 0, "a"), read(1, 100, 101, null)]).ok).toBe(true);
    expect(checkKey("k", [unknownWrite(0, 0, "a"), read(1, 100, 101, null), read(1, 200, 201, "a")]).ok).toBe(true);
  });

  test("an unknown CAS applies only when its compare holds", () => {
    expect(checkKey("k", [unknownCas(0, 0, "x", "y"), read(1, 10, 11, "y")], "x").ok).toBe(true);
    expect(checkKey("k", [unknownCas(0, 0, "x", "y"), read(1, 10, 11, "x")], "x").ok).toBe(true);
  });

  test("touching intervals count as concurrent", () => {
    expect(checkKey("k", [write(0, 0, 5, "a"), read(1, 5, 6, null)]).ok).toBe(true);
  });

  test("reads with unknown outcome are ignored", () => {
    const r = checkKey("k", [write(0, 0, 1, "a"), op(1, 2, Infinity, { kind: "read" }), read(0, 3, 4, "a")]);
    expect(r).toMatchObject({ ok: true, operations: 2 });
  });
});

describe("non-linearizable histories fail", () => {
  test("stale read after a completed write", () => {
    const r = checkKey("k", [write(0, 0, 1, "a"), write(0, 2, 3, "b"), read(1, 4, 5, "a")]);
    expect(r.ok).toBe(false);
    expect(r.longestPrefix!.length).toBeGreaterThan(0);
    expect(r.pendingAtFailure!.join("\n")).toContain("read()");
  });

  test("a read of a value never written", () => {
    expect(checkKey("k", [write(0, 0, 1, "a"), read(1, 2, 3, "zzz")]).ok).toBe(false);
  });

  test("a value comes back after it was overwritten (lost write)", () => {
    const h = [write(0, 0, 1, "a"), read(1, 2, 3, "a"), write(0, 4, 5, "b"), read(1, 6, 7, "b"), read(2, 8, 9, "a")];
    expect(checkKey("k", h).ok).toBe(false);
  });

  test("two CAS with the same expected value both succeed", () => {
    expect(checkKey("k", [cas(0, 0, 5, "x", "a", true), cas(1, 0, 5, "x", "b", true)], "x").ok).toBe(false);
  });

  test("a CAS fails although its compare held and nothing else ran", () => {
    expect(checkKey("k", [cas(0, 0, 1, "x", "a", false)], "x").ok).toBe(false);
  });

  test("a CAS on a missing key succeeds (etcd: a VALUE compare on a missing key is false)", () => {
    expect(checkKey("k", [cas(0, 0, 1, "", "a", true)]).ok).toBe(false);
    expect(checkKey("k", [cas(0, 0, 1, "", "a", false)]).ok).toBe(true);
  });

  test("an unknown write cannot explain a read made before it was invoked", () => {
    expect(checkKey("k", [read(1, 0, 1, "a"), unknownWrite(0, 2, "a")]).ok).toBe(false);
  });

  test("an unknown write, once seen, cannot be undone", () => {
    expect(checkKey("k", [unknownWrite(0, 0, "a"), read(1, 10, 11, "a"), read(1, 20, 21, null)]).ok).toBe(false);
  });

  test("reads of different clients disagree on the order of two writes", () => {
    const h = [
      write(0, 0, 100, "a"),
      write(1, 0, 100, "b"),
      read(2, 10, 20, "a"),
      read(2, 30, 40, "b"),
      read(3, 10, 20, "b"),
      read(3, 30, 40, "a"),
    ];
    expect(checkKey("k", h).ok).toBe(false);
  });
});

describe("checkHistory", () => {
  test("partitions by key and names the key that fails", () => {
    const h = [write(0, 0, 1, "a", "k1"), write(1, 0, 1, "a", "k2"), read(0, 2, 3, "a", "k1"), read(1, 2, 3, null, "k2")];
    const r = checkHistory(h);
    expect(r.ok).toBe(false);
    expect(r.keys.map((k) => [k.key, k.ok])).toEqual([["k1", true], ["k2", false]]);
  });

  test("initial values per key", () => {
    const h = [read(0, 0, 1, "x", "k1"), read(0, 0, 1, null, "k2")];
    expect(checkHistory(h, { initial: new Map([["k1", "x"]]) }).ok).toBe(true);
    expect(checkHistory(h).ok).toBe(false);
  });

  test("an exhausted step budget gives no verdict", () => {
    const writes = Array.from({ length: 12 }, (_, i) => write(i, 0, 100, `v${i}`));
    const r = checkHistory([...writes, read(20, 200, 201, "nope")], { maxStepsPerKey: 50 });
    expect(r.ok).toBeUndefined();
    expect(r.keys[0]!.steps).toBeGreaterThan(50);
  });
});

/** Deterministic PRNG (mulberry32) for the generated histories. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A history of `clients` clients on one correct register: each operation takes effect at one
 * instant between its invocation and completion (chosen at random), so the history is
 * linearizable by construction. Some writes are given unknown outcomes.
 */
function correctHistory(seed: number, clients: number, opsPerClient: number): Operation[] {
  const rnd = prng(seed);
  // Per client: consecutive [invoke, point, complete] intervals; gather all effect points.
  const planned: { client: number; invoke: number; point: number; complete: number; input: RegisterInput; unknown: boolean }[] = [];
  for (let c = 0; c < clients; c++) {
    let t = rnd() * 5;
    for (let i = 0; i < opsPerClient; i++) {
      const invoke = t;
      const point = invoke + rnd() * 10;
      const complete = point + rnd() * 10;
      const r = rnd();
      const input: RegisterInput =
        r < 0.4 ? { kind: "read" } : r < 0.7 ? { kind: "write", value: `c${c}-${i}` } : { kind: "cas", expected: `c${Math.floor(rnd() * clients)}-${Math.floor(rnd() * i)}`, value: `c${c}-${i}` };
      const unknown = input.kind !== "read" && rnd() < 0.05;
      planned.push({ client: c, invoke, point, complete, input, unknown });
      if (unknown) break; // a client whose request timed out gives up (as after a crash)
      t = complete + rnd() * 3;
    }
  }
  let state: RegisterValue = null;
  const ops: Operation[] = [];
  for (const p of [...planned].sort((a, b) => a.point - b.point)) {
    let output: RegisterOutput;
    if (p.input.kind === "read") output = { kind: "read", value: state };
    else if (p.input.kind === "write") {
      state = p.input.value;
      output = { kind: "write" };
    } else {
      const ok = state !== null && state === p.input.expected;
      if (ok) state = p.input.value;
      output = { kind: "cas", ok };
    }
    ops.push({
      id: ops.length,
      client: p.client,
      key: "k",
      input: p.input,
      output: p.unknown ? undefined : output,
      invokeMs: p.invoke,
      completeMs: p.unknown ? Infinity : p.complete,
    });
  }
  return ops.sort((a, b) => a.invokeMs - b.invokeMs);
}

describe("generated histories", () => {
  test("histories of a correct register are linearizable (50 seeds)", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const r = checkKey("k", correctHistory(seed, 5, 40));
      if (r.ok !== true) throw new Error(`seed ${seed}: ${JSON.stringify(r)}`);
    }
  });

  test("making a late read return an earlier, overwritten value is caught", () => {
    let caught = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const h = correctHistory(seed, 5, 40);
      // The last read of the history now returns the value of the first completed write, which
      // a later write (completed before that read began) overwrote.
      const writes = h.filter((o) => o.input.kind === "write" && o.output !== undefined);
      const first = writes[0];
      const reads = h.filter((o) => o.input.kind === "read");
      const last = reads.at(-1);
      if (!first || !last || first.input.kind !== "write") continue;
      const overwritten = writes.some((w) => w !== first && w.invokeMs > first.completeMs && w.completeMs < last.invokeMs);
      if (!overwritten) continue;
      // Values are unique per operation, so no other write or CAS could have restored it.
      last.output = { kind: "read", value: first.input.value };
      expect(checkKey("k", h).ok).toBe(false);
      caught++;
    }
    expect(caught).toBeGreaterThan(10);
  });
});

describe("HistoryRecorder", () => {
  test("records outputs and times, unknown outcomes at +∞, drops operations known not applied", async () => {
    const rec = new HistoryRecorder();
    const done = rec.invoke(0, "k", { kind: "write", value: "a" });
    const unknown = rec.invoke(1, "k", { kind: "write", value: "b" });
    const refused = rec.invoke(2, "k", { kind: "write", value: "c" });
    await Bun.sleep(2);
    done({ kind: "write" });
    unknown(undefined);
    refused("not-applied");
    const h = rec.history();
    expect(h.map((o) => [o.client, o.output, Number.isFinite(o.completeMs)])).toEqual([
      [0, { kind: "write" }, true],
      [1, undefined, false],
    ]);
    expect(h[0]!.completeMs).toBeGreaterThan(h[0]!.invokeMs);
  });
});
