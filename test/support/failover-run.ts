import type { LaglessApp, Worker } from '../../src/index.js';
import { waitFor } from '../helpers/log-capture.js';

export interface FailoverRunResult {
  durableAcked: number;
  plainAcked: number;
  /** Enqueues that rejected, by error code (unavailable, outcome unknown, not replicated): never counted as acknowledged. */
  rejected: Record<string, number>;
  /** Acknowledged with durableEnqueue, never run. Must be 0. */
  durableLost: string[];
  /** Acknowledged without durableEnqueue, never run: the asynchronous-replication window, reported. */
  plainLost: string[];
  /** Acknowledged after the failover finished, without durableEnqueue: enqueuers went on without a restart. */
  ackedAfterRecovery: number;
  /** The same on the first queue only (on a cluster: the killed master's slot). */
  ackedAfterRecoveryOnFirstQueue: number;
  /** Run after the failover finished: workers went on without a restart. */
  ranAfterRecovery: number;
}

export interface FailoverRunOptions {
  queues: string[];
  /** Two apps on the same Redis and prefix: one with durableEnqueue, one without. The worker runs on `plain`. */
  durable: LaglessApp;
  plain: LaglessApp;
  /** SIGKILL the primary (or master) and resolve once the replica serves again. */
  failover: () => Promise<void>;
  enqueuers?: number;
  loadMsBefore?: number;
  loadMsAfter?: number;
}

/**
 * Concurrent enqueuers (half of their jobs through the durable app) and one worker run while `failover` kills the
 * primary; then the queues are drained and every acknowledged job is looked for among the jobs that ran.
 */
export async function runFailover(options: FailoverRunOptions): Promise<FailoverRunResult> {
  const ran = new Set<string>();
  const define = (app: LaglessApp, queue: string): Worker<{ n: string }> => app.defineWorker({ name: `F_${queue}`, queue, perform: (args: { n: string }) => void ran.add(args.n) });
  const durableWorkers = options.queues.map((q) => define(options.durable, q));
  const plainWorkers = options.queues.map((q) => define(options.plain, q));
  const worker = options.plain.worker({ queues: options.queues, concurrency: 4, leaseMs: 2000, maintenanceIntervalMs: 200 });
  await worker.start();
  const durableAcked: string[] = [];
  const plainAcked: string[] = [];
  const rejected: Record<string, number> = {};
  let recoveredAt: number | undefined;
  let ackedAfterRecovery = 0;
  let ackedAfterRecoveryOnFirstQueue = 0;
  let running = true;
  let next = 0;
  const enqueuer = async (): Promise<void> => {
    while (running) {
      const n = String(next++);
      const durable = Number(n) % 2 === 0;
      const queueIndex = Math.floor(Number(n) / 2) % options.queues.length;
      const target = (durable ? durableWorkers : plainWorkers)[queueIndex]!;
      try {
        await target.enqueue({ n });
        (durable ? durableAcked : plainAcked).push(n);
        if (recoveredAt !== undefined && !durable) {
          ackedAfterRecovery++;
          if (queueIndex === 0) ackedAfterRecoveryOnFirstQueue++;
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        rejected[code] = (rejected[code] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const loops = Array.from({ length: options.enqueuers ?? 4 }, () => enqueuer());
  try {
    await new Promise((resolve) => setTimeout(resolve, options.loadMsBefore ?? 1000));
    await options.failover();
    recoveredAt = Date.now();
    const ranAtRecovery = ran.size;
    await new Promise((resolve) => setTimeout(resolve, options.loadMsAfter ?? 1500));
    running = false;
    await Promise.all(loops);
    // Jobs leased on the dead primary come back when their lease expires (leaseMs 2 s, maintenance every 200 ms).
    await waitFor(() => durableAcked.every((n) => ran.has(n)), 20_000, 'every durable job ran').catch(() => undefined);
    await waitFor(async () => {
      for (const queue of options.queues) {
        const sizes = await options.plain.store.queueSizes(queue);
        if (sizes.ready + sizes.inFlight + sizes.scheduled + sizes.retry > 0) return false;
      }
      return true;
    }, 20_000, 'queues drained').catch(() => undefined);
    return {
      durableAcked: durableAcked.length,
      plainAcked: plainAcked.length,
      rejected,
      durableLost: durableAcked.filter((n) => !ran.has(n)),
      plainLost: plainAcked.filter((n) => !ran.has(n)),
      ackedAfterRecovery,
      ackedAfterRecoveryOnFirstQueue,
      ranAfterRecovery: ran.size - ranAtRecovery,
    };
  } finally {
    running = false;
    await Promise.all(loops);
    await worker.stop({ timeoutMs: 1000 });
  }
}
