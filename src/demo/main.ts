import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Counter } from 'prom-client';
import { createLagless } from '../app.js';
import { ProgressLine, table } from './progress.js';
import { DemoServices } from './services.js';

const JOBS = 5000;

/** `npm run demo`: a few thousand jobs through a worker pool, with retries and a dead set, on real Redis when present. */
async function main(): Promise<void> {
  const services = new DemoServices();
  const interrupt = (): void => void services.stopAll().then(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    console.log(await services.startRedisIfAvailable());
    const logFile = join(mkdtempSync(join(tmpdir(), 'lagless-demo-')), 'jobs.log');
    const app = createLagless({ redis: services.redis ? { url: services.redis.url, prefix: 'demo' } : undefined, logger: pino(pino.destination({ dest: logFile, sync: false })) });
    services.onStop(() => app.close());

    const Thumbnail = app.defineWorker({ name: 'ThumbnailWorker', queue: 'media', perform: async (args: { imageId: number }) => void (args.imageId * 2) });
    const Email = app.defineWorker({
      name: 'WelcomeEmailWorker',
      queue: 'mail',
      retry: { max: 2, backoffMs: () => 50 },
      perform: async (args: { userId: number }, ctx) => {
        // Every 50th user has a bad address: it fails every time and ends in the dead set after 2 retries.
        // Every 7th fails once (a flaky SMTP server) and succeeds on retry.
        if (args.userId % 50 === 0) throw new Error(`mailbox for user ${args.userId} does not exist`);
        if (args.userId % 7 === 0 && !ctx.job.retry_count) throw new Error('SMTP timeout');
      },
    });

    const started = performance.now();
    await Thumbnail.enqueueMany(Array.from({ length: JOBS / 2 }, (_, i) => ({ imageId: i })));
    await Email.enqueueMany(Array.from({ length: JOBS / 2 }, (_, i) => ({ userId: i + 1 })));
    const enqueueS = (performance.now() - started) / 1000;

    const worker = app.worker({ queues: ['media', 'mail'], concurrency: 20, maintenanceIntervalMs: 20 });
    const completed = app.metrics.getSingleMetric('lagless_jobs_completed_total') as Counter;
    const count = async (status: string): Promise<number> => (await completed.get()).values.filter((v) => v.labels.status === status).reduce((sum, v) => sum + v.value, 0);
    const progress = new ProgressLine();
    const runStarted = performance.now();
    await worker.start();
    for (;;) {
      const [done, retried, dead] = [await count('done'), await count('retry'), await count('dead')];
      const line = `processed ${done}/${JOBS - JOBS / 100}  retried ${retried}  dead ${dead}  ${Math.round(done / ((performance.now() - runStarted) / 1000))} jobs/s`;
      if (done + dead >= JOBS) {
        progress.done(line);
        break;
      }
      progress.update(line);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const runS = (performance.now() - runStarted) / 1000;
    await worker.stop();
    console.log(`\n${table([
      { measure: 'store', value: services.redis ? 'Redis' : 'memory' },
      { measure: 'enqueued', value: JOBS },
      { measure: 'processed', value: await count('done') },
      { measure: 'retried', value: await count('retry') },
      { measure: 'dead', value: await count('dead') },
      { measure: 'enqueue rate (jobs/s)', value: Math.round(JOBS / enqueueS) },
      { measure: 'throughput (jobs/s)', value: Math.round(JOBS / runS) },
    ])}\n\nJob log lines (JSON, one per start and done/fail): ${logFile}`);
  } finally {
    await services.stopAll();
  }
}

await main();
