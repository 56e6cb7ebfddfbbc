/**
 * Group commit: every proposal made during one turn of the event loop is flushed together,
 * so one SQLite transaction (one fsync) makes a whole batch durable.
 *
 * bun:sqlite is synchronous: while a flush waits on fsync, new requests pile up in the socket
 * buffers and are proposed in the next turn, which becomes the next batch. Throughput thus
 * grows with concurrency instead of being capped at fsyncs per second.
 */

/** One queued item and the callbacks that settle its caller's promise. */
interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Queues items and hands them in batches to `flush`, which must return one outcome per item
 * in order (a value, or an Error instance to reject that item's promise with).
 * If `flush` itself throws, every item of the batch is rejected with that error.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private scheduled = false;

  /** `maxBatch`: at most this many items per flush (the rest go to the next flush). */
  constructor(
    private readonly flush: (items: T[]) => (R | Error)[],
    private readonly maxBatch = 1000,
  ) {}

  /** Enqueues `item`; resolves with its outcome once its batch has been flushed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    });
  }

  /** Number of items waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  private run(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let outcomes: (R | Error)[];
      try {
        outcomes = this.flush(batch.map((p) => p.item));
      } catch (error) {
        for (const p of batch) p.reject(error);
        continue;
      }
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) p.reject(outcome);
        else p.resolve(outcome as R);
      });
    }
  }
}
