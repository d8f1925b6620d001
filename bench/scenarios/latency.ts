import { Worker } from 'bullmq';
import type { BenchContext } from '../context.js';
import { percentile, sleep, within } from '../measure.js';
import { atMost, type Row } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, BULL_QUEUE, bullQueue, bullSetup } from '../systems/bullmq.js';
import { laglessApp, QUEUE } from '../systems/lagless.js';

const CONCURRENCY = 10;
/** Pause between samples, so each job meets an idle worker blocked on its wake-up (the low-load case). */
const IDLE_MS = 2;
/** Samples are taken in this many alternating chunks per system, so both meet the same background load. */
const ROUNDS = 4;

interface Sampler {
  /** Enqueue one job and resolve with ms from just before the enqueue call until perform started. */
  sample(i: number): Promise<number>;
  close(): Promise<void>;
}

/** Scenario d: enqueue one job, wait until perform starts, repeat; sample = start inside perform − time before enqueue. */
export async function latencyScenario(ctx: BenchContext): Promise<Row[]> {
  await ctx.reset();
  const samplers = { lagless: await laglessSampler(ctx), bullmq: await bullSampler(ctx) };
  const latencies = { lagless: [] as number[], bullmq: [] as number[] };
  const perRound = Math.ceil(ctx.config.counts.latencySamples / ROUNDS);
  const warmup = Math.max(20, Math.floor(perRound / 5));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['lagless', 'bullmq'] as const) : (['bullmq', 'lagless'] as const);
    for (const name of order) {
      for (let i = 0; i < warmup + perRound; i++) {
        await sleep(IDLE_MS);
        const latency = await samplers[name].sample(i);
        if (i >= warmup) latencies[name].push(latency);
      }
    }
  }
  await samplers.lagless.close();
  await samplers.bullmq.close();
  const lagless = latencies.lagless.sort((a, b) => a - b);
  const bullmq = latencies.bullmq.sort((a, b) => a - b);
  const row = (p: 50 | 99): Row => ({
    id: `latency.p${p}`,
    label: `enqueue-to-start latency p${p}, 1 job at a time`,
    unit: 'ms',
    better: 'lower',
    lagless: percentile(lagless, p),
    bullmq: percentile(bullmq, p),
    ...(p === 99 ? { target: atMost(1) } : {}),
  });
  return [row(50), row(99)];
}

/** perform calls `started`; `sample` arms the next start before enqueueing, so a fast start is never missed. */
function startSignal(enqueue: (i: number) => Promise<unknown>): { started: () => void; sample: (i: number) => Promise<number> } {
  let resolve: (at: number) => void = () => {};
  return {
    started: () => resolve(performance.now()),
    async sample(i) {
      const start = new Promise<number>((r) => (resolve = r));
      const before = performance.now();
      await enqueue(i);
      return (await within(start, 10_000, 'a job start')) - before;
    },
  };
}

async function laglessSampler(ctx: BenchContext): Promise<Sampler> {
  const { app } = laglessApp(ctx, 'latency');
  const signal = startSignal((i) => W.enqueue(smallArgs(i)));
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: signal.started });
  await app.worker({ queues: [QUEUE], concurrency: CONCURRENCY }).start();
  return { sample: signal.sample, close: () => app.close() };
}

async function bullSampler(ctx: BenchContext): Promise<Sampler> {
  const setup = bullSetup(ctx, 'latency');
  const queue = await bullQueue(setup);
  const signal = startSignal((i) => queue.add(BULL_JOB, smallArgs(i), BULL_JOB_OPTIONS));
  const worker = new Worker(BULL_QUEUE, async () => signal.started(), { connection: setup.connection, prefix: setup.prefix, concurrency: CONCURRENCY });
  await worker.waitUntilReady();
  return {
    sample: signal.sample,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
