import { bestOf } from '../compare.js';
import type { BenchContext } from '../context.js';
import { expectCount, timed, type Timed } from '../measure.js';
import { atLeast, throughputRow, type Check, type Row } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, bullQueue, bullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

type Mode = 'same' | 'distinct' | 'off';

/** Callers of the concurrent absorbed run: each awaits its own enqueues, as request handlers of one process do. */
const CALLERS = 20;

/**
 * Scenario g (issue 3): sequential enqueues of one args value (all absorbed after the first) against BullMQ's
 * `deduplication: { id }`, and the same from 20 concurrent callers; distinct args with dedup on against BullMQ
 * with distinct ids and against lagless with dedup off (the cost of the check itself).
 */
export async function dedupScenarios(ctx: BenchContext): Promise<{ rows: Row[]; overhead: Check }> {
  const same = await bestOf(ctx, { lagless: (n) => laglessEnqueue(ctx, n, 'same'), bullmq: (n) => bullEnqueue(ctx, n, 'same') });
  const sameConcurrent = await bestOf(ctx, { lagless: (n) => laglessEnqueue(ctx, n, 'same', CALLERS), bullmq: (n) => bullEnqueue(ctx, n, 'same', CALLERS) });
  const distinct = await bestOf(ctx, {
    lagless: (n) => laglessEnqueue(ctx, n, 'distinct'),
    bullmq: (n) => bullEnqueue(ctx, n, 'distinct'),
    laglessOff: (n) => laglessEnqueue(ctx, n, 'off'),
  });
  return {
    rows: [
      throughputRow({ id: 'dedup.absorbed', label: 'dedup: same args, all absorbed after the 1st', target: atLeast(2) }, same.lagless, same.bullmq),
      throughputRow({ id: 'dedup.absorbed.concurrent', label: `dedup: same args, ${CALLERS} concurrent callers` }, sameConcurrent.lagless, sameConcurrent.bullmq),
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

async function laglessEnqueue(ctx: BenchContext, count: number, mode: Mode, callers = 1): Promise<Timed> {
  const { app } = laglessApp(ctx, `dedup-${mode}`);
  const dedup = mode === 'off' ? {} : { idempotent: true, deduplicate: { strategy: 'until_executing' as const } };
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, ...dedup, perform: () => undefined });
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const result = await timed(ctx, count, () => callersLoop(count, callers, (i) => W.enqueue(smallArgs(mode === 'same' ? 0 : i))));
  expectCount(mode === 'same' ? 1 : count, (await app.store.queueSizes(QUEUE)).ready, `lagless dedup (${mode})`);
  await app.close();
  return result;
}

async function bullEnqueue(ctx: BenchContext, count: number, mode: 'same' | 'distinct', callers = 1): Promise<Timed> {
  const queue = await bullQueue(bullSetup(ctx, `dedup-${mode}`));
  const result = await timed(ctx, count, () =>
    callersLoop(count, callers, (i) => {
      const n = mode === 'same' ? 0 : i;
      return queue.add(BULL_JOB, smallArgs(n), { ...BULL_JOB_OPTIONS, deduplication: { id: `NoopWorker:${n}` } });
    }),
  );
  expectCount(mode === 'same' ? 1 : count, await queue.getWaitingCount(), `BullMQ dedup (${mode})`);
  await queue.close();
  return result;
}

/** `count` calls of `call(i)` shared by `callers` loops, each awaiting its call before taking the next i. */
async function callersLoop(count: number, callers: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: callers }, caller));
}
