import { Worker } from 'bullmq';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, sleep, timed, within, type Timed } from '../measure.js';
import { atLeast, throughputRow, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { BULL_QUEUE, bullQueue, bullSetup, bulkJobs } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

const TIMEOUT_MS = 120_000;
const QUEUES = 50;
const CONCURRENCY = 10;

/**
 * One worker on 50 queues of which one holds every job, against the same worker on that one queue: the cost of
 * empty queues in the fetch path (one fetch script and one wake-up connection for all of them). BullMQ has no
 * multi-queue worker (a Worker serves one queue; 50 queues take 50 Workers), so its row is one Worker on the
 * busy queue, the best BullMQ can do here.
 */
export const multiQueueScenario: Scenario = {
  name: 'multi-queue',
  title: 'multi-queue fetch: a worker on 50 queues, one busy',
  run: async (ctx) => {
  const idle = Array.from({ length: QUEUES - 1 }, (_, i) => `idle${i}`);
  const best = await interleaved(ctx, {
    fifty: (n) => laglessDrain(ctx, n, [...idle.slice(0, 24), QUEUE, ...idle.slice(24)]),
    one: (n) => laglessDrain(ctx, n, [QUEUE]),
    bullmq: (n) => bullDrain(ctx, n),
  });
  const label = `worker on ${QUEUES} queues, one busy, concurrency ${CONCURRENCY}`;
  return {
    rows: [throughputRow({ id: 'multi-queue.c10', label: `${label} (BullMQ: one Worker on the busy queue; it has no multi-queue worker)` }, best.fifty, best.bullmq)],
    checks: [
      {
        id: 'multi-queue.vs-one-queue',
        label: `${label}, against the same worker on the busy queue alone`,
        unit: 'jobs/s',
        subject: { label: `${QUEUES} queues`, value: best.fifty.perSecond },
        reference: { label: '1 queue', value: best.one.perSecond },
        target: atLeast(0.8),
        cpu: { subject: best.fifty.cpu, reference: best.one.cpu },
      },
    ],
  };
  },
};

async function laglessDrain(ctx: BenchContext, count: number, queues: string[]): Promise<Timed> {
  const { app, store, close } = laglessApp(ctx, `multi-queue-${queues.length}`);
  const performed = countdown(count);
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => performed.tick() });
  for (const args of argBatches(count, ctx.config.counts.batch)) await W.enqueueMany(args);
  const worker = app.worker({ queues, concurrency: CONCURRENCY });
  const active = store.keys.queue(QUEUE).active;
  const result = await timed(ctx, count, async () => {
    await worker.start();
    await within(performed.done, TIMEOUT_MS, `lagless processing on ${queues.length} queues`);
    while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
  });
  const sizes = await store.queueSizes(QUEUE);
  if (sizes.ready + sizes.inFlight + sizes.retry + sizes.dead > 0) throw new Error(`lagless processing left jobs behind: ${JSON.stringify(sizes)}`);
  await close();
  return result;
}

async function bullDrain(ctx: BenchContext, count: number): Promise<Timed> {
  const setup = bullSetup(ctx, 'multi-queue');
  const queue = await bullQueue(setup);
  for (const args of argBatches(count, ctx.config.counts.batch)) await queue.addBulk(bulkJobs(args));
  const completed = countdown(count);
  const worker = new Worker(BULL_QUEUE, async () => undefined, { connection: setup.connection, prefix: setup.prefix, concurrency: CONCURRENCY, autorun: false });
  worker.on('completed', () => completed.tick());
  await worker.waitUntilReady();
  const result = await timed(ctx, count, async () => {
    void worker.run().catch((error: unknown) => console.error('BullMQ worker stopped:', error));
    await within(completed.done, TIMEOUT_MS, 'BullMQ processing on one queue');
  });
  await worker.close();
  await queue.close();
  return result;
}
