import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { sleep, timed, within, type Timed } from '../measure.js';
import { atLeast, throughputRow, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { bullQueue, bullSetup, bulkJobs } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';
import { WorkerProcess } from '../worker-processes.js';

const PROCESSES = 2;
const CONCURRENCY = 10;
const TIMEOUT_MS = 120_000;

/**
 * Pre-filled no-op jobs drained by two worker processes at once, timed from their start until every job is
 * settled. Node CPU per job is that of the two worker processes (from their start to the end), not of this one.
 */
export const twoWorkersScenario: Scenario = {
  name: 'two-workers',
  title: `process: pre-filled no-op jobs, ${PROCESSES} worker processes × concurrency ${CONCURRENCY}`,
  run: async (ctx) => {
    const runs = await interleaved(ctx, { lagless: (n) => drain(ctx, n, 'lagless'), bullmq: (n) => drain(ctx, n, 'bullmq') });
    return {
      rows: [throughputRow({ id: 'process.two-processes', label: `process no-op jobs, ${PROCESSES} worker processes × concurrency ${CONCURRENCY}`, target: atLeast(2) }, runs.lagless, runs.bullmq)],
      checks: [],
    };
  },
};

async function drain(ctx: BenchContext, count: number, system: 'lagless' | 'bullmq'): Promise<Timed> {
  const filled = system === 'lagless' ? await laglessFill(ctx, count) : await bullFill(ctx, count);
  const workers = await Promise.all(Array.from({ length: PROCESSES }, () => WorkerProcess.spawn({ system, port: ctx.port, prefix: filled.prefix, concurrency: CONCURRENCY })));
  try {
    const result = await timed(ctx, count, async () => {
      await Promise.all(workers.map((w) => w.start()));
      await within(
        (async () => {
          while ((await performed(workers)) < count) await sleep(2);
          await filled.settled();
        })(),
        TIMEOUT_MS,
        `${system} draining with ${PROCESSES} worker processes`,
      );
    });
    const reports = await Promise.all(workers.map((w) => w.report()));
    const done = reports.reduce((sum, r) => sum + r.performed, 0);
    if (done !== count) throw new Error(`${system} with ${PROCESSES} worker processes performed ${done} jobs, expected ${count}`);
    const nodeUs = reports.reduce((sum, r) => sum + r.cpuUs, 0) / count;
    return { ...result, cpu: { ...result.cpu, nodeUs } };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await filled.close();
  }
}

async function performed(workers: WorkerProcess[]): Promise<number> {
  const reports = await Promise.all(workers.map((w) => w.report()));
  return reports.reduce((sum, r) => sum + r.performed, 0);
}

interface Filled {
  prefix: string;
  /** Resolves once the last performed job is also settled (acked / completed and removed). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function laglessFill(ctx: BenchContext, count: number): Promise<Filled> {
  const { app, store } = laglessApp(ctx, 'two-workers');
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => undefined });
  for (const args of argBatches(count, ctx.config.counts.batch)) await W.enqueueMany(args);
  const active = store.keys.queue(QUEUE).active;
  return {
    prefix: store.keys.prefix,
    settled: async () => {
      while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
    },
    close: () => app.close(),
  };
}

async function bullFill(ctx: BenchContext, count: number): Promise<Filled> {
  const setup = bullSetup(ctx, 'two-workers');
  const queue = await bullQueue(setup);
  for (const args of argBatches(count, ctx.config.counts.batch)) await queue.addBulk(bulkJobs(args));
  return {
    prefix: setup.prefix,
    settled: async () => {
      while ((await queue.getActiveCount()) > 0) await sleep(1);
    },
    close: () => queue.close(),
  };
}
