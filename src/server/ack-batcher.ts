import type { JobAckItem, JobAckResult, JobStore } from '../store/job-store.js';

/**
 * Acks of jobs finishing in the same tick go to the store in one call per queue: under load many jobs finish
 * together, and one round trip for all of them is most of the throughput lever.
 */
export class AckBatcher {
  private pending = new Map<string, { item: JobAckItem; resolve: (r: JobAckResult) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: JobStore,
    private readonly token: string,
    private readonly now: () => number,
  ) {}

  ack(queue: string, item: JobAckItem): Promise<JobAckResult> {
    return new Promise((resolve, reject) => {
      const list = this.pending.get(queue) ?? [];
      list.push({ item, resolve, reject });
      this.pending.set(queue, list);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [queue, entries] of batches) {
      const sent = this.store
        .jobAck({ queue, token: this.token, nowMs: this.now(), jobs: entries.map((e) => e.item) })
        .then(
          (results) => entries.forEach((e, i) => e.resolve(results[i]!)),
          (error: unknown) => entries.forEach((e) => e.reject(error)),
        )
        .finally(() => this.inFlight.delete(sent));
      this.inFlight.add(sent);
    }
  }

  /** Resolves once every ack handed in so far has reached the store. */
  async drain(): Promise<void> {
    if (this.scheduled) this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
