import { describe, expect, test } from "bun:test";
import { KeyIndex } from "./key-index.ts";

/** Row ids equal to main revision * 10 make expectations easy to read. */
function history(ops: [number, "p" | "t"][]): KeyIndex {
  const ki = new KeyIndex("k");
  for (const [main, op] of ops) {
    if (op === "p") ki.put(main, main * 10);
    else expect(ki.tombstone(main, main * 10)).toBe(true);
  }
  return ki;
}

/** Main revisions per generation. */
const shape = (ki: KeyIndex) => ki.generations.map((g) => g.mains);

/** (main, version, created) seen at `rev`, or undefined. */
function at(ki: KeyIndex, rev: number) {
  const f = ki.find(rev);
  if (!f) return undefined;
  return { main: f.gen.mains[f.i], version: f.gen.ver - (f.gen.mains.length - 1 - f.i), created: f.gen.created };
}

// Puts at 2, 4, delete at 6; puts at 8, 10, delete at 12; puts at 14, 16 (etcd's key_index_test history).
const ETCD_HISTORY: [number, "p" | "t"][] = [
  [2, "p"], [4, "p"], [6, "t"], [8, "p"], [10, "p"], [12, "t"], [14, "p"], [16, "p"],
];

describe("KeyIndex", () => {
  test("generations: a tombstone ends one and opens an empty one", () => {
    const ki = history([[2, "p"], [3, "t"]]);
    expect(shape(ki)).toEqual([[2, 3], []]);
    expect(ki.current()).toBeUndefined();
    expect(ki.tombstone(4, 40)).toBe(false);
    ki.put(5, 50);
    expect(shape(ki)).toEqual([[2, 3], [5]]);
    expect(ki.generations[1]!.created).toBe(5);
    expect(ki.modified()).toBe(5);
  });

  test("find: visible revision, version and creation at each revision", () => {
    const ki = history(ETCD_HISTORY);
    expect(at(ki, 1)).toBeUndefined();
    expect(at(ki, 2)).toEqual({ main: 2, version: 1, created: 2 });
    expect(at(ki, 5)).toEqual({ main: 4, version: 2, created: 2 });
    expect(at(ki, 6)).toBeUndefined();
    expect(at(ki, 7)).toBeUndefined();
    expect(at(ki, 9)).toEqual({ main: 8, version: 1, created: 8 });
    expect(at(ki, 11)).toEqual({ main: 10, version: 2, created: 8 });
    expect(at(ki, 12)).toBeUndefined();
    expect(at(ki, 15)).toEqual({ main: 14, version: 1, created: 14 });
    expect(at(ki, 100)).toEqual({ main: 16, version: 2, created: 14 });
  });

  test("compact keeps the last revision <= rev of the live generation and drops finished ones", () => {
    const cases: [number, number[][], number[]][] = [
      [1, [[2, 4, 6], [8, 10, 12], [14, 16]], []],
      [2, [[2, 4, 6], [8, 10, 12], [14, 16]], []],
      [4, [[4, 6], [8, 10, 12], [14, 16]], [20]],
      [5, [[4, 6], [8, 10, 12], [14, 16]], [20]],
      [6, [[8, 10, 12], [14, 16]], [20, 40, 60]],
      [9, [[8, 10, 12], [14, 16]], [20, 40, 60]],
      [10, [[10, 12], [14, 16]], [20, 40, 60, 80]],
      [12, [[14, 16]], [20, 40, 60, 80, 100, 120]],
      [15, [[14, 16]], [20, 40, 60, 80, 100, 120]],
      [16, [[16]], [20, 40, 60, 80, 100, 120, 140]],
      [99, [[16]], [20, 40, 60, 80, 100, 120, 140]],
    ];
    for (const [rev, gens, removed] of cases) {
      const ki = history(ETCD_HISTORY);
      const dry: number[] = [];
      ki.compact(rev, dry, false);
      expect(shape(ki)).toEqual([[2, 4, 6], [8, 10, 12], [14, 16]]);
      const got: number[] = [];
      ki.compact(rev, got, true);
      expect({ rev, gens: shape(ki), removed: got }).toEqual({ rev, gens, removed });
      expect(dry).toEqual(got);
    }
  });

  test("etcd's newTestKeyIndex history: two writes in one revision, ending in a tombstone", () => {
    const build = () => {
      const ki = history([[2, "p"], [4, "p"], [6, "t"], [8, "p"], [10, "p"], [12, "t"]]);
      ki.put(14, 140);
      ki.put(14, 141);
      expect(ki.tombstone(16, 160)).toBe(true);
      return ki;
    };
    const ki15 = build();
    const removed15: number[] = [];
    ki15.compact(15, removed15, true);
    expect({ gens: shape(ki15), ids: ki15.generations[0]!.ids }).toEqual({ gens: [[14, 16], []], ids: [141, 160] });
    expect(removed15).toEqual([20, 40, 60, 80, 100, 120, 140]);
    const ki16 = build();
    const removed16: number[] = [];
    ki16.compact(16, removed16, true);
    expect(ki16.isEmpty()).toBe(true);
    expect(removed16).toEqual([20, 40, 60, 80, 100, 120, 140, 141, 160]);
  });

  test("compact at or after a key's final tombstone empties it", () => {
    const ki = history([[2, "p"], [3, "p"], [4, "t"]]);
    const removed: number[] = [];
    ki.compact(4, removed, true);
    expect(removed).toEqual([20, 30, 40]);
    expect(ki.isEmpty()).toBe(true);
  });

  test("compact before the final tombstone keeps it", () => {
    const ki = history([[2, "p"], [3, "p"], [5, "t"]]);
    const removed: number[] = [];
    ki.compact(4, removed, true);
    expect(removed).toEqual([20]);
    expect(shape(ki)).toEqual([[3, 5], []]);
    expect(at(ki, 4)).toEqual({ main: 3, version: 2, created: 2 });
  });

  test("restore starts from a row's create revision and version", () => {
    const ki = new KeyIndex("k");
    ki.restore(3, 7, 70, 4);
    ki.put(9, 90);
    expect(at(ki, 8)).toEqual({ main: 7, version: 4, created: 3 });
    expect(at(ki, 9)).toEqual({ main: 9, version: 5, created: 3 });
  });

  test("undoPut and undoTombstone restore the previous history", () => {
    const ki = history([[2, "p"]]);
    ki.put(3, 30);
    ki.undoPut();
    expect(shape(ki)).toEqual([[2]]);
    expect(ki.tombstone(3, 30)).toBe(true);
    ki.undoTombstone();
    expect(shape(ki)).toEqual([[2]]);
    expect(at(ki, 9)).toEqual({ main: 2, version: 1, created: 2 });
  });
});
