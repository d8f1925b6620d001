import { Worker, type Queue } from 'bullmq';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { KeptClients } from '../kept-clients.js';
import { countdown, sleep, timed, within, type Timed } from '../measure.js';
import { atLeast, atMost, throughputRow, type Check, type Row, type Scenario } from '../results.js';
import { argBatches } from '../systems/args.js';
import { BULL_QUEUE, bullQueue, bullSetup, bulkJobs, type BullSetup } from '../systems/bullmq.js';
import { laglessApp, logFile, QUEUE, type LaglessSetup } from '../systems/lagless.js';

const TIMEOUT_MS = 120_000;

/**
 * Scenario c: drain pre-filled no-op jobs with one worker, timed from worker start until every job is settled;
 * lagless runs silent and with its default logging written to a file, interleaved with BullMQ.
 */
export const processScenario: Scenario = {
  name: 'process',
  title: 'process: pre-filled no-op jobs, lagless logs off and default logs to a file',
  run: async (ctx) => {
    const rows: Row[] = [];
    const checks: Check[] = [];
    for (const concurrency of ctx.config.concurrencies) {
      // One app (one Queue) per side for all runs, as a service keeps one; each run starts a worker of its own.
      const clients = new KeptClients();
      const lagless = (logged: boolean) => {
        const client = clients.keep(async () => laglessProcessor(ctx, concurrency, logged), (processor) => processor.close());
        return (n: number) => laglessProcess(ctx, n, concurrency, client);
      };
      const bullmq = clients.keep(async () => {
        const setup = bullSetup(ctx, `process-c${concurrency}`);
        return { setup, queue: await bullQueue(setup) };
      }, ({ queue }) => queue.close());
      const runs = await interleaved(ctx, { lagless: lagless(false), laglessLogged: lagless(true), bullmq: (n) => bullProcess(ctx, n, concurrency, bullmq) });
      await clients.close();
      rows.push(throughputRow({ id: `process.c${concurrency}`, label: `process no-op jobs, concurrency ${concurrency}, lagless logs off`, target: atLeast(2) }, runs.lagless, runs.bullmq));
      rows.push(throughputRow({ id: `process.c${concurrency}.logged`, label: `process no-op jobs, concurrency ${concurrency}, lagless default logs to a file`, target: atLeast(2.5) }, runs.laglessLogged, runs.bullmq));
      checks.push({
        id: `process.c${concurrency}.logging-cpu`,
        label: `concurrency ${concurrency}: lagless Node CPU per job, default logs to a file vs logs off (µs)`,
        unit: 'µs',
        subject: { label: 'logs to a file', value: runs.laglessLogged.cpu.nodeUs },
        reference: { label: 'logs off', value: runs.lagless.cpu.nodeUs },
        target: atMost(1.5),
        cpu: { subject: runs.laglessLogged.cpu, reference: runs.lagless.cpu },
      });
    }
    return { rows, checks };
  },
};

interface LaglessProcessor {
  setup: LaglessSetup;
  worker: { enqueueMany(args: unknown[]): Promise<unknown> };
  /** The countdown of the run under way: perform ticks it. */
  performed: { tick: () => void; done: Promise<void> };
  close(): Promise<void>;
}

/** An app with the no-op worker, silent or with its default logging to a file of its own. */
function laglessProcessor(ctx: BenchContext, concurrency: number, logged: boolean): LaglessProcessor {
  const log = logged ? logFile(`process-c${concurrency}`) : undefined;
  const setup = laglessApp(ctx, `process-c${concurrency}`, log ? { logFile: log.path } : {});
  const processor: LaglessProcessor = {
    setup,
    worker: setup.app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => processor.performed.tick() }),
    performed: countdown(0),
    close: async () => {
      await setup.close();
      log?.remove();
    },
  };
  return processor;
}

async function laglessProcess(ctx: BenchContext, count: number, concurrency: number, client: () => Promise<LaglessProcessor>): Promise<Timed> {
  const processor = await client();
  const { app, store } = processor.setup;
  for (const args of argBatches(count, ctx.config.counts.batch)) await processor.worker.enqueueMany(args);
  const performed = (processor.performed = countdown(count));
  const worker = app.worker({ queues: [QUEUE], concurrency });
  const active = store.keys.queue(QUEUE).active;
  const result = await timed(ctx, count, async () => {
    await worker.start();
    await within(performed.done, TIMEOUT_MS, `lagless processing at concurrency ${concurrency}`);
    // perform has run for every job; the run ends when the last ack has removed the last in-flight job.
    while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
  });
  await worker.stop();
  const sizes = await store.queueSizes(QUEUE);
  if (sizes.ready + sizes.inFlight + sizes.retry + sizes.dead > 0) throw new Error(`lagless processing left jobs behind: ${JSON.stringify(sizes)}`);
  return result;
}

async function bullProcess(ctx: BenchContext, count: number, concurrency: number, client: () => Promise<{ setup: BullSetup; queue: Queue }>): Promise<Timed> {
  const { setup, queue } = await client();
  for (const args of argBatches(count, ctx.config.counts.batch)) await queue.addBulk(bulkJobs(args));
  const completed = countdown(count);
  const worker = new Worker(BULL_QUEUE, async () => undefined, { connection: setup.connection, prefix: setup.prefix, concurrency, autorun: false });
  worker.on('completed', () => completed.tick());
  worker.on('failed', (_job, error) => console.error(`BullMQ job failed: ${error.message}`));
  await worker.waitUntilReady();
  const result = await timed(ctx, count, async () => {
    void worker.run().catch((error: unknown) => console.error('BullMQ worker stopped:', error));
    await within(completed.done, TIMEOUT_MS, `BullMQ processing at concurrency ${concurrency}`);
  });
  const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'completed');
  if (Object.values(counts).some((n) => n > 0)) throw new Error(`BullMQ processing left jobs behind: ${JSON.stringify(counts)}`);
  await worker.close();
  return result;
}
