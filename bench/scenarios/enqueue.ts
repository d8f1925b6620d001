import type { Queue } from 'bullmq';
import { CALLERS, callersLoop } from '../callers.js';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { KeptClients } from '../kept-clients.js';
import { expectCount, timed, type Timed } from '../measure.js';
import { atLeast, atMost, throughputRow, type Measured, type Scenario } from '../results.js';
import { argBatches, smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, bullQueue, bullSetup, bulkJobs } from '../systems/bullmq.js';
import { laglessNoopEnqueuer, QUEUE, type NoopEnqueuer } from '../systems/lagless.js';
import { floorClient, floorRun } from './floor.js';

type Mode = 'sequential' | 'concurrent' | 'bulk';

/**
 * Scenario a: one awaited enqueue at a time, measured beside the bare round trip (f) that is its floor; the same
 * from 20 concurrent callers; b: enqueueMany / addBulk in batches.
 */
export const enqueueScenario: Scenario = {
  name: 'enqueue',
  title: 'enqueue: sequential (with the bare round-trip floor), 20 concurrent callers, bulk',
  run: async (ctx) => {
    const clients = new KeptClients();
    const compare = (mode: Mode) => {
      const lagless = clients.keep(() => laglessNoopEnqueuer(ctx, `enqueue-${mode}`), (enqueuer) => enqueuer.setup.close());
      const bullmq = clients.keep(() => bullQueue(bullSetup(ctx, `enqueue-${mode}`)), (queue) => queue.close());
      return { lagless: (n: number) => laglessEnqueue(ctx, n, mode, lagless), bullmq: (n: number) => bullEnqueue(ctx, n, mode, bullmq) };
    };
    const floor = clients.keep(() => floorClient(ctx), (client) => client.close());
    const sequential = await interleaved(ctx, { ...compare('sequential'), floor: (n) => floorRun(ctx, n, floor) });
    const concurrent = await interleaved(ctx, compare('concurrent'));
    const bulk = await interleaved(ctx, compare('bulk'));
    await clients.close();
    return {
      rows: [
        throughputRow({ id: 'enqueue.sequential', label: 'enqueue, 1 awaited call at a time', target: atLeast(1.5) }, sequential.lagless, sequential.bullmq),
        throughputRow({ id: 'enqueue.concurrent', label: `enqueue, ${CALLERS} concurrent callers`, target: atLeast(3) }, concurrent.lagless, concurrent.bullmq),
        throughputRow({ id: 'enqueue.bulk', label: `enqueueMany / addBulk, batches of ${ctx.config.counts.batch}`, target: atLeast(2) }, bulk.lagless, bulk.bullmq),
      ],
      checks: [
        {
          id: 'floor.sequential-enqueue',
          label: 'sequential enqueue vs bare round trip (µs per call)',
          unit: 'µs',
          subject: microseconds('enqueue', sequential.lagless),
          reference: microseconds('EVALSHA no-op', sequential.floor),
          target: atMost(1.3),
          cpu: { subject: sequential.lagless.cpu, reference: sequential.floor.cpu },
        },
      ],
    };
  },
};

/** µs per call of a throughput run; the slowest run has the most µs. */
function microseconds(label: string, run: Timed): Measured {
  return { label, value: 1e6 / run.perSecond, ...(run.range ? { range: { min: 1e6 / run.range.max, max: 1e6 / run.range.min, runs: run.range.runs } } : {}) };
}

async function laglessEnqueue(ctx: BenchContext, count: number, mode: Mode, client: () => Promise<NoopEnqueuer>): Promise<Timed> {
  const { setup, worker: W } = await client();
  const batches = mode === 'bulk' ? argBatches(count, ctx.config.counts.batch) : [];
  const result = await timed(ctx, count, async () => {
    if (mode === 'bulk') for (const args of batches) await W.enqueueMany(args);
    else await callersLoop(count, mode === 'concurrent' ? CALLERS : 1, (i) => W.enqueue(smallArgs(i)));
  });
  expectCount(count, (await setup.app.store.queueSizes(QUEUE)).ready, `lagless ${mode} enqueue`);
  return result;
}

async function bullEnqueue(ctx: BenchContext, count: number, mode: Mode, client: () => Promise<Queue>): Promise<Timed> {
  const queue = await client();
  const batches = mode === 'bulk' ? argBatches(count, ctx.config.counts.batch).map(bulkJobs) : [];
  const result = await timed(ctx, count, async () => {
    if (mode === 'bulk') for (const jobs of batches) await queue.addBulk(jobs);
    else await callersLoop(count, mode === 'concurrent' ? CALLERS : 1, (i) => queue.add(BULL_JOB, smallArgs(i), BULL_JOB_OPTIONS));
  });
  expectCount(count, await queue.getWaitingCount(), `BullMQ ${mode} enqueue`);
  return result;
}
