/**
 * Counters of the v2 store (etcd's v2store/stats.go), served by `/v2/stats/store`. Like etcd's,
 * they are this member's own: writes are counted when applied here, reads when answered here.
 */

/** The counters in etcd's JSON order. */
export const STAT_NAMES = [
  "getsSuccess",
  "getsFail",
  "setsSuccess",
  "setsFail",
  "deleteSuccess",
  "deleteFail",
  "updateSuccess",
  "updateFail",
  "createSuccess",
  "createFail",
  "compareAndSwapSuccess",
  "compareAndSwapFail",
  "compareAndDeleteSuccess",
  "compareAndDeleteFail",
  "expireCount",
] as const;

export type StatName = (typeof STAT_NAMES)[number];

/** The store's counters. */
export class V2Stats {
  private readonly counts = new Map<StatName, number>(STAT_NAMES.map((n) => [n, 0]));

  inc(name: StatName): void {
    this.counts.set(name, this.counts.get(name)! + 1);
  }

  get(name: StatName): number {
    return this.counts.get(name)!;
  }

  /** etcd's JSON: the counters then `watchers` (the watchers registered now). */
  toJson(watchers: number): string {
    const fields = STAT_NAMES.map((n) => `"${n}":${this.counts.get(n)}`);
    return `{${fields.join(",")},"watchers":${watchers}}`;
  }
}
