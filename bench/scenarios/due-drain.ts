import { Worker } from 'bullmq';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, sleep, timed, within, type Timed } from '../measure.js';
import { atLeast, throughputRow, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, BULL_QUEUE, bullQueue, bullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

/** Jobs due at the same moment; a tenth with --quick. */
const FULL_JOBS = 200_000;
const CONCURRENCY = 50;
/** Rounds per side (after a warm-up), the median reported: each full round of 200,000 takes tens of seconds. */
const MAX_ROUNDS = 3;
const TIMEOUT_MS = 300_000;
/** Room for the enqueue before the jobs come due: a conservative enqueue rate per side, plus a margin. */
const ENQUEUE_MARGIN_MS = 2_000;
const ENQUEUE_RATE = { lagless: 15_000, bullmq: 8_000 };

/**
 * Scenario: `count` jobs scheduled for one moment (lagless enqueueAt, BullMQ delayed jobs), one worker of
 * concurrency 50 started before that moment and idle; timed from the moment the jobs come due (or the worker is
 * up, if the enqueue ran late) until every job is settled. Measures how fast due jobs are promoted and run.
 */
export const dueDrainScenario: Scenario = {
  name: 'due-drain',
  title: 'due jobs: 200,000 scheduled for one moment, drained',
  run: async (ctx) => {
    const count = ctx.config.quick ? FULL_JOBS / 10 : FULL_JOBS;
    // The same context with fewer rounds (an object inheriting from it, so its methods keep working).
    const rounds = Object.create(ctx, { config: { value: { ...ctx.config, repeats: Math.min(ctx.config.repeats, MAX_ROUNDS) } } }) as BenchContext;
    const runs = await interleaved(rounds, { lagless: (n) => laglessDrain(ctx, n), bullmq: (n) => bullDrain(ctx, n) }, count);
    for (const [name, run] of Object.entries(runs)) console.error(`  due-drain ${name}: ${run.jobs} due jobs drained in ${run.seconds.toFixed(2)} s (median run)`);
    return { rows: [throughputRow({ id: 'due.drain', label: `drain ${count.toLocaleString('en')} jobs due at once, concurrency ${CONCURRENCY}`, target: atLeast(3) }, runs.lagless, runs.bullmq)], checks: [] };
  },
};

function dueAt(count: number, rate: number): number {
  return Date.now() + ENQUEUE_MARGIN_MS + Math.ceil((count / rate) * 1000);
}

/** Time from the due moment (or now, if later) until `done`; a run that stalls says where its jobs are. */
async function drainFrom(ctx: BenchContext, count: number, due: number, done: Promise<void>, what: string, where: () => Promise<unknown>): Promise<Timed> {
  await sleep(Math.max(0, due - Date.now()));
  try {
    return await timed(ctx, count, () => within(done, TIMEOUT_MS, what));
  } catch (error) {
    throw new Error(`${(error as Error).message}; jobs now: ${JSON.stringify(await where())}`, { cause: error });
  }
}

async function laglessDrain(ctx: BenchContext, count: number): Promise<Timed> {
  const { app, store } = laglessApp(ctx, 'due-drain');
  const performed = countdown(count);
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => performed.tick() });
  const due = new Date(dueAt(count, ENQUEUE_RATE.lagless));
  for (const args of argBatches(count, ctx.config.counts.batch)) await Promise.all(args.map((a) => W.enqueueAt(due, a)));
  const queued = await store.queueSizes(QUEUE);
  if (queued.scheduled + queued.ready !== count) throw new Error(`lagless: expected ${count} scheduled or ready jobs, found ${JSON.stringify(queued)}`);
  // Closed whatever happens: a failed run must not leave a worker behind reconnecting for ever.
  try {
    await app.worker({ queues: [QUEUE], concurrency: CONCURRENCY }).start();
    const active = store.keys.queue(QUEUE).active;
    const result = await drainFrom(
      ctx,
      count,
      due.getTime(),
      (async () => {
        await performed.done;
        while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
      })(),
      'lagless due-jobs drain',
      () => store.queueSizes(QUEUE),
    );
    const sizes = await store.queueSizes(QUEUE);
    if (sizes.ready + sizes.scheduled + sizes.inFlight + sizes.retry + sizes.dead > 0) throw new Error(`lagless drain left jobs behind: ${JSON.stringify(sizes)}`);
    return result;
  } finally {
    await app.close();
  }
}

async function bullDrain(ctx: BenchContext, count: number): Promise<Timed> {
  const setup = bullSetup(ctx, 'due-drain');
  const queue = await bullQueue(setup);
  const due = dueAt(count, ENQUEUE_RATE.bullmq);
  for (const args of argBatches(count, ctx.config.counts.batch)) {
    const delay = Math.max(0, due - Date.now());
    await queue.addBulk(args.map((data) => ({ name: BULL_JOB, data, opts: { ...BULL_JOB_OPTIONS, delay } })));
  }
  // An enqueue that ran past the due moment (a loaded machine) adds its last jobs as waiting: still due at once.
  const queued = await queue.getJobCounts('delayed', 'waiting');
  if (queued.delayed! + queued.waiting! !== count) throw new Error(`BullMQ: expected ${count} delayed or waiting jobs, found ${JSON.stringify(queued)}`);
  const completed = countdown(count);
  const worker = new Worker(BULL_QUEUE, async () => undefined, { connection: setup.connection, prefix: setup.prefix, concurrency: CONCURRENCY });
  try {
    worker.on('completed', () => completed.tick());
    worker.on('failed', (_job, error) => console.error(`BullMQ job failed: ${error.message}`));
    worker.on('error', (error) => console.error(`BullMQ worker error: ${error.message}`));
    await worker.waitUntilReady();
    const result = await drainFrom(ctx, count, due, completed.done, 'BullMQ due-jobs drain', () => queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'));
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed');
    if (Object.values(counts).some((n) => n > 0)) throw new Error(`BullMQ drain left jobs behind: ${JSON.stringify(counts)}`);
    return result;
  } finally {
    await worker.close(true);
    await queue.close();
  }
}
