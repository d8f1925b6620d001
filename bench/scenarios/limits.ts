import { Worker, type Queue } from 'bullmq';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, sleep, timed, within, type Timed } from '../measure.js';
import { throughputRow, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { BULL_QUEUE, bullQueue, bullSetup, bulkJobs } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

const CONCURRENCY = 50;
const CONCURRENCY_LIMIT = 10;
const RATE = { max: 1000, perMs: 100 };
const TIMEOUT_MS = 120_000;

/**
 * Pre-filled no-op jobs under a limit shared by all workers, one worker process at concurrency 50: lagless's
 * `concurrencyLimit: 10` against BullMQ's queue-wide `setGlobalConcurrency(10)`, and `rateLimit` (1,000 starts per
 * 100 ms, a 10,000 jobs/s ceiling) against BullMQ's worker `limiter`. The rows measure what a limit costs: how
 * close each system gets to the limit, and the Redis and Node CPU per job it spends there. A fifth of the usual
 * job count: a concurrency-limited drain is bounded by slot turnover, not by the worker.
 */
export const limitsScenario: Scenario = {
  name: 'limits',
  title: `limits: no-op jobs under concurrencyLimit ${CONCURRENCY_LIMIT} and rateLimit ${RATE.max} per ${RATE.perMs} ms, one worker at concurrency ${CONCURRENCY}`,
  run: async (ctx) => {
    const count = Math.max(1000, Math.floor(ctx.config.counts.jobs / 5));
    const concurrency = await interleaved(ctx, { lagless: (n) => laglessDrain(ctx, n, 'concurrency'), bullmq: (n) => bullDrain(ctx, n, 'concurrency') }, count);
    const rate = await interleaved(ctx, { lagless: (n) => laglessDrain(ctx, n, 'rate'), bullmq: (n) => bullDrain(ctx, n, 'rate') }, count);
    return {
      rows: [
        throughputRow({ id: 'limits.concurrency', label: `process no-op jobs under a global concurrency limit of ${CONCURRENCY_LIMIT}` }, concurrency.lagless, concurrency.bullmq),
        throughputRow({ id: 'limits.rate', label: `process no-op jobs under a rate limit of ${RATE.max} per ${RATE.perMs} ms (ceiling ${(RATE.max * 1000) / RATE.perMs} jobs/s)` }, rate.lagless, rate.bullmq),
      ],
      checks: [],
    };
  },
};

type Limit = 'concurrency' | 'rate';

async function laglessDrain(ctx: BenchContext, count: number, limit: Limit): Promise<Timed> {
  const { app, store, close } = laglessApp(ctx, `limits-${limit}`);
  const performed = countdown(count);
  const limits = limit === 'concurrency' ? { concurrencyLimit: CONCURRENCY_LIMIT } : { rateLimit: RATE };
  const W = app.defineWorker({ name: 'LimitedNoop', queue: QUEUE, ...limits, perform: () => performed.tick() });
  for (const args of argBatches(count, ctx.config.counts.batch)) await W.enqueueMany(args);
  const worker = app.worker({ queues: [QUEUE], concurrency: CONCURRENCY });
  const active = store.keys.queue(QUEUE).active;
  const result = await timed(ctx, count, async () => {
    await worker.start();
    await within(performed.done, TIMEOUT_MS, `lagless under a ${limit} limit`);
    while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
  });
  const sizes = await store.queueSizes(QUEUE);
  const [usage] = await store.limitList({ queue: QUEUE, nowMs: Date.now() });
  if (sizes.ready + sizes.inFlight + sizes.retry + sizes.dead > 0 || (usage && usage.deferred > 0)) throw new Error(`lagless left jobs behind: ${JSON.stringify({ sizes, usage })}`);
  await close();
  return result;
}

async function bullDrain(ctx: BenchContext, count: number, limit: Limit): Promise<Timed> {
  const setup = bullSetup(ctx, `limits-${limit}`);
  const queue: Queue = await bullQueue(setup);
  if (limit === 'concurrency') await queue.setGlobalConcurrency(CONCURRENCY_LIMIT);
  for (const args of argBatches(count, ctx.config.counts.batch)) await queue.addBulk(bulkJobs(args));
  const completed = countdown(count);
  const limiter = limit === 'rate' ? { limiter: { max: RATE.max, duration: RATE.perMs } } : {};
  const worker = new Worker(BULL_QUEUE, async () => undefined, { connection: setup.connection, prefix: setup.prefix, concurrency: CONCURRENCY, autorun: false, ...limiter });
  worker.on('completed', () => completed.tick());
  worker.on('failed', (_job, error) => console.error(`BullMQ job failed: ${error.message}`));
  await worker.waitUntilReady();
  const result = await timed(ctx, count, async () => {
    void worker.run().catch((error: unknown) => console.error('BullMQ worker stopped:', error));
    await within(completed.done, TIMEOUT_MS, `BullMQ under a ${limit} limit`);
  });
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  if (Object.values(counts).some((n) => n > 0)) throw new Error(`BullMQ left jobs behind: ${JSON.stringify(counts)}`);
  await worker.close();
  await queue.close();
  return result;
}
