import type { JobStore } from './job-store.js';
import type { LimitUsage } from './limits.js';

export type LimitReading = { queue: string } & LimitUsage;

/** Every limited worker class of every known queue (or of `queues`), with its usage now: read from the shared store. */
export async function readLimits(store: JobStore, nowMs: number, queues?: string[]): Promise<LimitReading[]> {
  const names = queues ?? (await store.queueList());
  const perQueue = await Promise.all(names.map(async (queue) => (await store.limitList({ queue, nowMs })).map((usage) => ({ queue, ...usage }))));
  return perQueue.flat();
}

/** "10" / "100 per 1000 ms" / "-", as the CLI and dashboard show a limit. */
export function describeLimit(reading: LimitUsage): { concurrency: string; rate: string } {
  const { concurrency, rate } = reading.limits;
  return { concurrency: concurrency ? String(concurrency) : '-', rate: rate ? `${rate.max} per ${rate.perMs} ms` : '-' };
}
