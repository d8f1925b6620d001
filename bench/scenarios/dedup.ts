import { bestOf } from '../compare.js';
import type { BenchContext } from '../context.js';
import { expectCount, timed, type Timed } from '../measure.js';
import { atLeast, throughputRow, type Check, type Row } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, bullQueue, bullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

type Mode = 'same' | 'distinct' | 'off';

/**
 * Scenario g (issue 3): sequential enqueues of one args value (all absorbed after the first) against BullMQ's
 * `deduplication: { id }`; distinct args with dedup on against BullMQ with distinct ids and against lagless with
 * dedup off (the cost of the check itself).
 */
export async function dedupScenarios(ctx: BenchContext): Promise<{ rows: Row[]; overhead: Check }> {
  const same = await bestOf(ctx, { lagless: (n) => laglessEnqueue(ctx, n, 'same'), bullmq: (n) => bullEnqueue(ctx, n, 'same') });
  const distinct = await bestOf(ctx, {
    lagless: (n) => laglessEnqueue(ctx, n, 'distinct'),
    bullmq: (n) => bullEnqueue(ctx, n, 'distinct'),
    laglessOff: (n) => laglessEnqueue(ctx, n, 'off'),
  });
  return {
    rows: [
      throughputRow({ id: 'dedup.absorbed', label: 'dedup: same args, all absorbed after the 1st', target: atLeast(2) }, same.lagless, same.bullmq),
      throughputRow({ id: 'dedup.distinct', label: 'dedup: distinct args (every enqueue pushed)' }, distinct.lagless, distinct.bullmq),
    ],
    overhead: {
      id: 'dedup.overhead',
      label: 'distinct-args enqueue: dedup on vs off (jobs/s)',
      unit: 'jobs/s',
      subject: { label: 'dedup on', value: distinct.lagless.perSecond },
      reference: { label: 'dedup off', value: distinct.laglessOff.perSecond },
      target: atLeast(0.85),
      cpu: { subject: distinct.lagless.cpu, reference: distinct.laglessOff.cpu },
    },
  };
}

async function laglessEnqueue(ctx: BenchContext, count: number, mode: Mode): Promise<Timed> {
  const { app } = laglessApp(ctx, `dedup-${mode}`);
  const dedup = mode === 'off' ? {} : { idempotent: true, deduplicate: { strategy: 'until_executing' as const } };
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, ...dedup, perform: () => undefined });
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const result = await timed(ctx, count, async () => {
    for (let i = 0; i < count; i++) await W.enqueue(smallArgs(mode === 'same' ? 0 : i));
  });
  expectCount(mode === 'same' ? 1 : count, (await app.store.queueSizes(QUEUE)).ready, `lagless dedup (${mode})`);
  await app.close();
  return result;
}

async function bullEnqueue(ctx: BenchContext, count: number, mode: 'same' | 'distinct'): Promise<Timed> {
  const queue = await bullQueue(bullSetup(ctx, `dedup-${mode}`));
  const result = await timed(ctx, count, async () => {
    for (let i = 0; i < count; i++) {
      const n = mode === 'same' ? 0 : i;
      await queue.add(BULL_JOB, smallArgs(n), { ...BULL_JOB_OPTIONS, deduplication: { id: `NoopWorker:${n}` } });
    }
  });
  expectCount(mode === 'same' ? 1 : count, await queue.getWaitingCount(), `BullMQ dedup (${mode})`);
  await queue.close();
  return result;
}
