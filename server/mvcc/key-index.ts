/**
 * The revision history of one key, mirroring etcd's keyIndex (mvcc/key_index.go).
 *
 * A key's life is a list of generations. A generation starts with the put that creates the
 * key and ends with its tombstone (delete); the last generation is the live one, or empty
 * when the key is currently deleted. Example for puts at 1, 2, a delete at 3, a put at 4:
 * `[{created 1, revs [1, 2, 3(t)]}, {created 4, revs [4]}]`.
 *
 * Each revision is kept as (main, id): `main` the store revision of the write, `id` the row
 * of the `kv` table that holds it (ids grow with (main, sub), so they order writes within
 * one main revision like etcd's sub revision does).
 */

/** One lifetime of a key: from creation to tombstone (inclusive). */
export type Generation = {
  /** Number of puts in this generation so far (the version of its last put). */
  ver: number;
  /** Main revision that created the key in this generation (its create_revision). */
  created: number;
  /** Main revisions of the writes, ascending. */
  mains: number[];
  /** Row ids of the writes, parallel to `mains`. */
  ids: number[];
};

/** What the live-value cache keeps of a key's live revision. */
export type CachedValue = { value: Uint8Array; lease: bigint };

/** A revision found by {@link KeyIndex.find}: the generation and position in it. */
export type FoundRevision = { gen: Generation; i: number };

function newGeneration(): Generation {
  return { ver: 0, created: 0, mains: [], ids: [] };
}

/** History of one key (binary-string key, see server/mvcc/keys.ts). */
export class KeyIndex {
  /** The key, as a binary string. */
  readonly key: string;
  /** Generations, oldest first; the last one is empty while the key is deleted. */
  generations: Generation[] = [];
  /**
   * The value and lease of the live revision (last put of the live generation), when the owner
   * caches it; undefined otherwise. The owner keeps it in step with writes. The other KeyValue
   * fields come from the index itself (key, generation's created and ver, last main).
   */
  cached: CachedValue | undefined = undefined;

  constructor(key: string) {
    this.key = key;
  }

  /** True when no generation holds a revision (a fresh index, or everything compacted away). */
  isEmpty(): boolean {
    const g = this.generations;
    return g.length === 0 || (g.length === 1 && g[0]!.mains.length === 0);
  }

  /** Main revision of the last write (put or tombstone), 0 when empty. */
  modified(): number {
    for (let gi = this.generations.length - 1; gi >= 0; gi--) {
      const m = this.generations[gi]!.mains;
      if (m.length > 0) return m[m.length - 1]!;
    }
    return 0;
  }

  /** Records a put at main revision `main` stored in row `id` (keyIndex.put). */
  put(main: number, id: number): void {
    if (this.generations.length === 0) this.generations.push(newGeneration());
    const g = this.generations[this.generations.length - 1]!;
    if (g.mains.length === 0) g.created = main;
    g.mains.push(main);
    g.ids.push(id);
    g.ver++;
  }

  /**
   * Records a delete (keyIndex.tombstone): the tombstone ends the live generation and an
   * empty one follows. Returns false, changing nothing, when the key is not live.
   */
  tombstone(main: number, id: number): boolean {
    const last = this.generations[this.generations.length - 1];
    if (!last || last.mains.length === 0) return false;
    this.put(main, id);
    this.generations.push(newGeneration());
    return true;
  }

  /**
   * Starts the history from a row found at restore time after compaction dropped the
   * earlier ones (keyIndex.restore): its creation revision and version come from the row.
   */
  restore(created: number, main: number, id: number, ver: number): void {
    this.generations = [{ ver, created, mains: [main], ids: [id] }];
  }

  /** Undoes the last {@link put} (rolls back a write whose transaction failed). */
  undoPut(): void {
    const g = this.generations[this.generations.length - 1]!;
    g.mains.pop();
    g.ids.pop();
    g.ver--;
    if (g.mains.length === 0) g.created = 0;
  }

  /** Undoes the last successful {@link tombstone}. */
  undoTombstone(): void {
    this.generations.pop();
    this.undoPut();
  }

  /**
   * The revision visible at `atRev` (keyIndex.get + findGeneration): the last write with
   * main <= atRev in the generation live at atRev, or undefined when the key did not exist
   * (or was deleted) at atRev.
   */
  find(atRev: number): FoundRevision | undefined {
    const gens = this.generations;
    const lastg = gens.length - 1;
    for (let cg = lastg; cg >= 0; cg--) {
      const g = gens[cg]!;
      const n = g.mains.length;
      if (n === 0) continue;
      // A generation before the last ended with a tombstone: at or after it, the key is gone.
      if (cg !== lastg && g.mains[n - 1]! <= atRev) return undefined;
      if (g.mains[0]! <= atRev) {
        let i = n - 1;
        while (g.mains[i]! > atRev) i--;
        return { gen: g, i };
      }
    }
    return undefined;
  }

  /** Whether `f` is the live revision (the last put of the live generation). */
  isCurrent(f: FoundRevision): boolean {
    return f.gen === this.generations[this.generations.length - 1] && f.i === f.gen.mains.length - 1;
  }

  /** The revision visible now (latest put of the live generation), or undefined if deleted. */
  current(): FoundRevision | undefined {
    const g = this.generations[this.generations.length - 1];
    if (!g || g.mains.length === 0) return undefined;
    return { gen: g, i: g.mains.length - 1 };
  }

  /**
   * Compacts the history at `atRev` (keyIndex.compact): keeps, for the generation alive at
   * atRev, its last revision <= atRev, and drops every older revision and every generation
   * whose tombstone is <= atRev. Pushes the row ids it drops onto `removed`; with `apply`
   * false it only reports them and changes nothing. Afterwards {@link isEmpty} tells whether
   * the key can leave the index.
   */
  compact(atRev: number, removed: number[], apply: boolean): void {
    const gens = this.generations;
    if (gens.length === 0) return;
    let genIdx = 0;
    while (genIdx < gens.length - 1) {
      const g = gens[genIdx]!;
      if (g.mains[g.mains.length - 1]! > atRev) break;
      for (const id of g.ids) removed.push(id);
      genIdx++;
    }
    const g = gens[genIdx]!;
    if (g.mains.length > 0) {
      let keep = g.mains.length - 1;
      while (keep >= 0 && g.mains[keep]! > atRev) keep--;
      for (let i = 0; i < keep; i++) removed.push(g.ids[i]!);
      const left = keep > 0 ? g.mains.length - keep : g.mains.length;
      // etcd's rule: a lone revision left in a finished generation goes too.
      const dropLone = left === 1 && genIdx !== gens.length - 1;
      if (dropLone) removed.push(g.ids[g.ids.length - 1]!);
      if (apply && keep > 0) {
        g.mains = g.mains.slice(keep);
        g.ids = g.ids.slice(keep);
      }
      if (dropLone) genIdx++;
    }
    if (apply) this.generations = gens.slice(genIdx);
  }
}
