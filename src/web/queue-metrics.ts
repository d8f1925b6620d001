import { Gauge, Registry } from 'prom-client';
import type { JobStore } from '../store/job-store.js';
import { readQueues, type QueueReading } from './readings.js';

const STATES = [
  ['ready', 'ready'],
  ['scheduled', 'scheduled'],
  ['retry', 'retry'],
  ['dead', 'dead'],
  ['in_flight', 'inFlight'],
  ['deferred', 'deferred'],
] as const;

/**
 * Store-wide queue gauges for `/metrics`, read at scrape time (one read shared by the gauges of one scrape).
 * Kept out of the app's registry: every worker process would otherwise report the same cluster-wide numbers.
 */
export function queueMetricsRegistry(store: JobStore, now: () => number): Registry {
  const registry = new Registry();
  let reading: { at: number; queues: Promise<QueueReading[]> } | undefined;
  const read = (): Promise<QueueReading[]> => {
    if (!reading || now() - reading.at > 1000) reading = { at: now(), queues: readQueues(store, now()).catch(() => []) };
    return reading.queues;
  };
  new Gauge({
    name: 'lagless_queue_jobs',
    help: 'Jobs in each queue by state (ready, scheduled, retry, dead, in_flight, deferred), from the shared store',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await read()) for (const [state, field] of STATES) this.set({ queue: q.queue, state }, q[field]);
    },
  });
  new Gauge({
    name: 'lagless_queue_oldest_job_age_seconds',
    help: 'How long the oldest ready job of each queue has waited since it was due (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await read()) this.set({ queue: q.queue }, q.latencyS);
    },
  });
  new Gauge({
    name: 'lagless_queue_paused',
    help: 'Whether each queue is paused (1) or fetched from (0)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await read()) this.set({ queue: q.queue }, q.pausedAt === null ? 0 : 1);
    },
  });
  new Gauge({
    name: 'lagless_dedup_keys',
    help: 'Live deduplication cookies per queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await read()) this.set({ queue: q.queue }, q.dedupKeys);
    },
  });
  return registry;
}
