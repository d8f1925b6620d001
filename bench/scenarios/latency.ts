import type { BenchContext } from '../context.js';
import { percentile, sleep, within } from '../measure.js';
import { atMost, type Row, type Scenario } from '../results.js';
import { BULL_JOB, BULL_JOB_OPTIONS, bullQueue, bullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';
import { WorkerProcess } from '../worker-processes.js';

/** Jobs per second the producer enqueues, one awaited-by-nobody call each, as request handlers do. */
const RATE = 2_000;
const CONCURRENCY = 10;
/** Samples are taken in this many alternating chunks per system, so both meet the same background load. */
const ROUNDS = 4;
const TIMEOUT_MS = 60_000;

interface Side {
  worker: WorkerProcess;
  enqueue(i: number, at: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Scenario d: enqueue-to-start latency with the producer (this process) and the worker in separate processes, at
 * a paced 2,000 jobs/s. Each job carries the epoch time taken just before its enqueue call; the worker subtracts it
 * from the time perform starts. Both processes read the same system clock.
 */
export const latencyScenario: Scenario = {
  name: 'latency',
  title: `enqueue-to-start latency, producer and worker in separate processes, ${RATE.toLocaleString('en-US')} jobs/s`,
  run: async (ctx) => {
    await ctx.reset();
    const sides = { lagless: await laglessSide(ctx), bullmq: await bullSide(ctx) };
    const latencies = { lagless: [] as number[], bullmq: [] as number[] };
    try {
      const perRound = Math.ceil(ctx.config.counts.latencySamples / ROUNDS);
      for (const side of Object.values(sides)) await paced(side, Math.ceil(perRound / 4)); // warm-up, not kept
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['lagless', 'bullmq'] as const) : (['bullmq', 'lagless'] as const);
        for (const name of order) latencies[name].push(...(await paced(sides[name], perRound)));
      }
    } finally {
      await sides.lagless.close();
      await sides.bullmq.close();
    }
    const lagless = latencies.lagless.sort((a, b) => a - b);
    const bullmq = latencies.bullmq.sort((a, b) => a - b);
    const row = (name: 'p50' | 'p99' | 'max', p: number): Row => ({
      id: `latency.${name}`,
      label: `enqueue-to-start latency ${name}, ${RATE.toLocaleString('en-US')} jobs/s, producer and worker in 2 processes`,
      unit: 'ms',
      better: 'lower',
      lagless: percentile(lagless, p),
      bullmq: percentile(bullmq, p),
      ...(name === 'p99' ? { target: atMost(1) } : {}),
    });
    return { rows: [row('p50', 50), row('p99', 99), row('max', 100)], checks: [] };
  },
};

/** Enqueue `count` jobs at RATE (each stamped just before its call), then collect their latencies from the worker. */
async function paced(side: Side, count: number): Promise<number[]> {
  const calls: Promise<unknown>[] = [];
  const started = performance.now();
  let produced = 0;
  while (produced < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * RATE));
    for (; produced < due; produced++) calls.push(side.enqueue(produced, performance.timeOrigin + performance.now()));
    await sleep(1);
  }
  await Promise.all(calls);
  const latencies: number[] = [];
  await within(
    (async () => {
      while (latencies.length < count) {
        latencies.push(...(await side.worker.report()).latenciesMs);
        if (latencies.length < count) await sleep(5);
      }
    })(),
    TIMEOUT_MS,
    'paced jobs to start',
  );
  return latencies;
}

async function laglessSide(ctx: BenchContext): Promise<Side> {
  const { app, store } = laglessApp(ctx, 'latency');
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => undefined });
  await app.store.queueSizes(QUEUE); // connect before the first job
  const worker = await WorkerProcess.spawn({ system: 'lagless', port: ctx.port, prefix: store.keys.prefix, concurrency: CONCURRENCY });
  await worker.start();
  return {
    worker,
    enqueue: (n, at) => W.enqueue({ n, at }),
    close: async () => {
      await worker.close();
      await app.close();
    },
  };
}

async function bullSide(ctx: BenchContext): Promise<Side> {
  const setup = bullSetup(ctx, 'latency');
  const queue = await bullQueue(setup);
  const worker = await WorkerProcess.spawn({ system: 'bullmq', port: ctx.port, prefix: setup.prefix, concurrency: CONCURRENCY });
  await worker.start();
  return {
    worker,
    enqueue: (n, at) => queue.add(BULL_JOB, { n, at }, BULL_JOB_OPTIONS),
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
