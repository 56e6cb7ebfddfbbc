/**
 * Server-chosen lease IDs, shaped like etcd's (pkg/idutil/id.go Generator, used by
 * etcdserver/v3_server.go LeaseGrant): the low 16 bits of the member ID in the top bits, then a
 * millisecond timestamp of the start-up time, then a counter, masked to a positive int64. IDs
 * from one member are unique and increasing; different members differ in the prefix.
 */

const TS_BITS = 40n;
const COUNT_BITS = 8n;
const SUFFIX_BITS = TS_BITS + COUNT_BITS;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;
const POSITIVE_MASK = (1n << 63n) - 1n;

/** Generator of lease IDs for one member. */
export class LeaseIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  /**
   * @param memberId this member's ID (uint64); its low 16 bits become the ID prefix
   * @param nowMs wall-clock time at start-up, ms since the Unix epoch
   */
  constructor(memberId: bigint, nowMs: number = Date.now()) {
    this.prefix = (memberId & 0xffffn) << SUFFIX_BITS;
    this.suffix = (BigInt(Math.floor(nowMs)) & ((1n << TS_BITS) - 1n)) << COUNT_BITS;
  }

  /** The next ID: positive, never 0. */
  next(): bigint {
    for (;;) {
      this.suffix++;
      const id = (this.prefix | (this.suffix & SUFFIX_MASK)) & POSITIVE_MASK;
      if (id !== 0n) return id;
    }
  }
}
