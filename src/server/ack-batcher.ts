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
    /** Asks for flush() within this tick (the worker flushes acks together with its fetches). */
    private readonly schedule: () => void,
  ) {}

  ack(queue: string, item: JobAckItem): Promise<JobAckResult> {
    return new Promise((resolve, reject) => {
      const list = this.pending.get(queue) ?? [];
      list.push({ item, resolve, reject });
      this.pending.set(queue, list);
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule();
      }
    });
  }

  /** Sends every ack handed in since the last flush. */
  flush(): void {
    if (!this.scheduled) return;
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
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
