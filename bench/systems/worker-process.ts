import { Worker } from 'bullmq';
import { createLagless } from '../../dist/index.js';
import { BULL_QUEUE } from './bullmq.js';
import { QUEUE } from './lagless.js';
import type { FromWorker, ToWorker, WorkerProcessOptions } from './worker-process-protocol.js';

/**
 * A worker in a process of its own (forked by worker-processes.ts): lagless or BullMQ, processing no-op jobs of
 * one key prefix. It counts the jobs it performed and, when a job carries `at` (epoch ms stamped by the producer
 * just before its enqueue call), the enqueue-to-start latency; the parent asks for both with `report`.
 */
const options = JSON.parse(process.argv[2]!) as WorkerProcessOptions;
const epochMs = (): number => performance.timeOrigin + performance.now();
let performed = 0;
let latenciesMs: number[] = [];
let cpuAtStart: NodeJS.CpuUsage | undefined;

const perform = (args: { n: number; at?: number }): void => {
  if (args.at !== undefined) latenciesMs.push(epochMs() - args.at);
  performed++;
};

const worker = options.system === 'lagless' ? laglessWorker() : bullWorker();

function laglessWorker(): { start(): Promise<void>; close(): Promise<void> } {
  const app = createLagless({ redis: { url: `redis://127.0.0.1:${options.port}`, prefix: options.prefix }, logger: false });
  app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform });
  const runtime = app.worker({ queues: [QUEUE], concurrency: options.concurrency });
  return {
    start: () => runtime.start(),
    close: async () => {
      await runtime.stop();
      await app.close();
    },
  };
}

function bullWorker(): { start(): Promise<void>; close(): Promise<void> } {
  const connection = { host: '127.0.0.1', port: options.port, maxRetriesPerRequest: null };
  const bull = new Worker(BULL_QUEUE, async (job) => perform(job.data as { n: number; at?: number }), { connection, prefix: options.prefix, concurrency: options.concurrency, autorun: false });
  bull.on('failed', (_job, error) => console.error(`BullMQ job failed: ${error.message}`));
  return {
    start: async () => {
      await bull.waitUntilReady();
      void bull.run().catch((error: unknown) => console.error('BullMQ worker stopped:', error));
    },
    close: () => bull.close(),
  };
}

const send = (message: FromWorker): void => void process.send!(message);

process.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    cpuAtStart = process.cpuUsage();
    void worker.start().then(() => send({ type: 'started' }));
  } else if (message.type === 'report') {
    const cpu = process.cpuUsage(cpuAtStart);
    send({ type: 'report', performed, latenciesMs, cpuUs: cpu.user + cpu.system });
    latenciesMs = [];
  } else {
    void worker.close().then(() => process.exit(0));
  }
});
send({ type: 'ready' });
