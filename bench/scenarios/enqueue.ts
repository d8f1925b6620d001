import { bestOf } from '../compare.js';
import type { BenchContext } from '../context.js';
import { expectCount, timed, type Timed } from '../measure.js';
import { atLeast, atMost, throughputRow, type Check, type Row } from '../results.js';
import { argBatches, smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, bullQueue, bullSetup, bulkJobs } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';
import { floorRun } from './floor.js';

/**
 * Scenario a: one awaited enqueue at a time, measured beside the bare round trip (f) that is its floor;
 * b: enqueueMany / addBulk in batches.
 */
export async function enqueueScenarios(ctx: BenchContext): Promise<{ rows: Row[]; floor: Check }> {
  const sequential = await bestOf(ctx, {
    lagless: (n) => laglessEnqueue(ctx, n, 'sequential'),
    bullmq: (n) => bullEnqueue(ctx, n, 'sequential'),
    floor: (n) => floorRun(ctx, n),
  });
  const bulk = await bestOf(ctx, { lagless: (n) => laglessEnqueue(ctx, n, 'bulk'), bullmq: (n) => bullEnqueue(ctx, n, 'bulk') });
  return {
    rows: [
      throughputRow({ id: 'enqueue.sequential', label: 'enqueue, 1 awaited call at a time', target: atLeast(1.5) }, sequential.lagless, sequential.bullmq),
      throughputRow({ id: 'enqueue.bulk', label: `enqueueMany / addBulk, batches of ${ctx.config.counts.batch}`, target: atLeast(2) }, bulk.lagless, bulk.bullmq),
    ],
    floor: {
      id: 'floor.sequential-enqueue',
      label: 'sequential enqueue vs bare round trip (µs per call)',
      unit: 'µs',
      subject: { label: 'enqueue', value: 1e6 / sequential.lagless.perSecond },
      reference: { label: 'EVALSHA no-op', value: 1e6 / sequential.floor.perSecond },
      target: atMost(1.3),
      cpu: { subject: sequential.lagless.cpu, reference: sequential.floor.cpu },
    },
  };
}

async function laglessEnqueue(ctx: BenchContext, count: number, mode: 'sequential' | 'bulk'): Promise<Timed> {
  const { app } = laglessApp(ctx, `enqueue-${mode}`);
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => undefined });
  const batches = mode === 'bulk' ? argBatches(count, ctx.config.counts.batch) : [];
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const result = await timed(ctx, count, async () => {
    if (mode === 'bulk') for (const args of batches) await W.enqueueMany(args);
    else for (let i = 0; i < count; i++) await W.enqueue(smallArgs(i));
  });
  expectCount(count, (await app.store.queueSizes(QUEUE)).ready, `lagless ${mode} enqueue`);
  await app.close();
  return result;
}

async function bullEnqueue(ctx: BenchContext, count: number, mode: 'sequential' | 'bulk'): Promise<Timed> {
  const queue = await bullQueue(bullSetup(ctx, `enqueue-${mode}`));
  const batches = mode === 'bulk' ? argBatches(count, ctx.config.counts.batch).map(bulkJobs) : [];
  const result = await timed(ctx, count, async () => {
    if (mode === 'bulk') for (const jobs of batches) await queue.addBulk(jobs);
    else for (let i = 0; i < count; i++) await queue.add(BULL_JOB, smallArgs(i), BULL_JOB_OPTIONS);
  });
  expectCount(count, await queue.getWaitingCount(), `BullMQ ${mode} enqueue`);
  await queue.close();
  return result;
}
