import type { BenchContext } from '../context.js';
import { expectCount, sleep } from '../measure.js';
import { redisUsedMemory } from '../redis-info.js';
import { atMost, type Row, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { bullQueue, bullSetup, bulkJobs, type BullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

export const memoryScenario: Scenario = {
  name: 'memory',
  title: 'memory per waiting job',
  run: async (ctx) => ({ rows: [await memoryRow(ctx)], checks: [] }),
};

/**
 * Scenario e: used_memory delta per waiting small job. One job is pushed first from a connection closed before
 * the first reading, so scripts and queue metadata are outside the delta; the fill comes from a second connection
 * on the same keys, closed before the second reading so its client buffers are outside it too.
 */
async function memoryRow(ctx: BenchContext): Promise<Row> {
  const count = ctx.config.counts.memoryJobs;
  await ctx.reset();
  const prefix = ctx.prefix('lagless-memory');
  const lagless = await perJob(ctx, count, async (n) => {
    const { app } = laglessApp(ctx, 'memory', { prefix });
    const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => undefined });
    return {
      fill: async () => {
        for (const args of argBatches(n, ctx.config.counts.batch)) await W.enqueueMany(args);
        expectCount(n + 1, (await app.store.queueSizes(QUEUE)).ready, 'lagless memory fill');
      },
      warm: async () => void (await W.enqueue({ n: -1 })),
      close: () => app.close(),
    };
  });
  await ctx.reset();
  const setup: BullSetup = bullSetup(ctx, 'memory');
  const bullmq = await perJob(ctx, count, async (n) => {
    const queue = await bullQueue(setup);
    return {
      fill: async () => {
        for (const args of argBatches(n, ctx.config.counts.batch)) await queue.addBulk(bulkJobs(args));
        expectCount(n + 1, await queue.getWaitingCount(), 'BullMQ memory fill');
      },
      warm: async () => void (await queue.addBulk(bulkJobs([{ n: -1 }]))),
      close: () => queue.close(),
    };
  });
  return { id: 'memory.waiting', label: `Redis memory per waiting small job (${count.toLocaleString('en-US')} jobs)`, unit: 'bytes', better: 'lower', lagless, bullmq, target: atMost(0.5) };
}

interface Filler {
  warm(): Promise<void>;
  fill(): Promise<void>;
  close(): Promise<void>;
}

async function perJob(ctx: BenchContext, count: number, open: (count: number) => Promise<Filler>): Promise<number> {
  const warm = await open(count);
  await warm.warm();
  await warm.close();
  await sleep(100);
  const before = await redisUsedMemory(ctx.admin);
  const filler = await open(count);
  await filler.fill();
  await filler.close();
  await sleep(100);
  const after = await redisUsedMemory(ctx.admin);
  return (after - before) / count;
}
