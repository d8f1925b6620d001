import type { Logger } from 'pino';
import type { DashboardApp } from './dashboard-deps.js';
import { readHosts, readQueues, sumDecisions, type HostReading, type QueueReading } from './readings.js';

export interface Rates {
  processed: number;
  failed: number;
  deduplicated: number;
  rescheduled: number;
}

/** One point of every chart. Rates are per second since the previous sample. */
export interface Sample {
  /** Epoch ms. */
  t: number;
  queues: Array<QueueReading & { rates: Rates }>;
  hosts: HostReading[];
  /** Load-balancing decisions per second by strategy, made by every worker process. */
  strategies: Record<string, number>;
  /** Set when the store could not be read; the sample then has no queues. */
  error?: string;
}

interface Previous {
  t: number;
  counters: Map<string, Rates>;
  decisions: Record<string, number>;
}

/**
 * Reads queues, hosts and decisions every `intervalMs` into a window of `historyMs` (what a page draws on
 * load), and hands each new sample to listeners (the SSE stream). One read at a time: a slow store stretches
 * the interval instead of piling up reads.
 */
export class Sampler {
  private readonly samples: Sample[] = [];
  private readonly listeners = new Set<(sample: Sample) => void>();
  private previous: Previous | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private first: Promise<void> | undefined;
  /** The store read in flight; a read that outlives its sample is awaited again, never duplicated. */
  private reading: Promise<QueueReading[]> | undefined;

  constructor(
    private readonly deps: { app: DashboardApp; intervalMs: number; historyMs: number; now?: () => number; logger?: Logger },
  ) {}

  /** Starts sampling (once); resolves when the first sample is in. */
  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.first ??= this.tick();
    return this.first;
  }

  history(): Sample[] {
    return [...this.samples];
  }

  onSample(listener: (sample: Sample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const sample = await this.collect();
      this.samples.push(sample);
      const oldest = sample.t - this.deps.historyMs;
      while (this.samples.length > 0 && this.samples[0]!.t < oldest) this.samples.shift();
      for (const listener of this.listeners) listener(sample);
    } catch (error) {
      this.deps.logger?.error({ event: 'dashboard_sample_failed', err: error }, 'dashboard sampling failed');
    } finally {
      this.running = false;
      if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.deps.intervalMs).unref();
    }
  }

  private async collect(): Promise<Sample> {
    const { app } = this.deps;
    const t = (this.deps.now ?? Date.now)();
    const hosts = readHosts(app.databases);
    let queues: QueueReading[];
    try {
      // A store that is down holds commands until it is back (ioredis): report it instead of freezing the charts.
      this.reading ??= readQueues(app.store, t).finally(() => (this.reading = undefined));
      queues = await withTimeout(this.reading, Math.max(5_000, this.deps.intervalMs * 2));
    } catch (error) {
      this.deps.logger?.warn({ event: 'dashboard_sample_failed', err: error }, 'dashboard could not read the job store');
      return { t, queues: [], hosts, strategies: {}, error: `job store unreachable: ${(error as Error).message}` };
    }
    const decisions = sumDecisions(queues);
    const previous = this.previous;
    const seconds = previous ? Math.max(0.001, (t - previous.t) / 1000) : 0;
    const rate = (now: number, before: number | undefined): number => (previous && before !== undefined ? round(Math.max(0, now - before) / seconds) : 0);
    const withRates = queues.map((reading) => {
      const before = previous?.counters.get(reading.queue);
      return {
        ...reading,
        rates: {
          processed: rate(reading.processed, before?.processed),
          failed: rate(reading.failed, before?.failed),
          deduplicated: rate(reading.deduplicated, before?.deduplicated),
          rescheduled: rate(reading.rescheduled, before?.rescheduled),
        },
      };
    });
    const strategies: Record<string, number> = {};
    for (const [strategy, total] of Object.entries(decisions)) strategies[strategy] = rate(total, previous ? (previous.decisions[strategy] ?? 0) : undefined);
    this.previous = { t, decisions, counters: new Map(queues.map((q) => [q.queue, { processed: q.processed, failed: q.failed, deduplicated: q.deduplicated, rescheduled: q.rescheduled }])) };
    return { t, queues: withRates, hosts, strategies };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
