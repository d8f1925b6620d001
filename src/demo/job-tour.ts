import type { SeriesCounter } from '../observability/series-metrics.js';
import type { LaglessApp } from '../app.js';
import { ProgressLine } from './progress.js';

export interface TourStats {
  enqueued: number;
  processed: number;
  retried: number;
  dead: number;
  enqueuePerS: number;
  processedPerS: number;
}

/** Part one: a few thousand jobs through a worker pool, with flaky ones retried and hopeless ones dead. */
export async function runJobTour(app: LaglessApp, jobs: number): Promise<TourStats> {
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

  const enqueueStarted = performance.now();
  await Thumbnail.enqueueMany(Array.from({ length: jobs / 2 }, (_, i) => ({ imageId: i })));
  await Email.enqueueMany(Array.from({ length: jobs / 2 }, (_, i) => ({ userId: i + 1 })));
  const enqueueS = (performance.now() - enqueueStarted) / 1000;

  const completed = app.metrics.getSingleMetric('lagless_jobs_completed_total') as unknown as SeriesCounter<'queue' | 'worker' | 'status'>;
  const count = async (status: string): Promise<number> =>
    (await completed.get()).values.filter((v) => v.labels.status === status && v.labels.worker !== 'UserCacheRefreshWorker').reduce((sum, v) => sum + v.value, 0);
  const worker = app.worker({ queues: ['media', 'mail'], concurrency: 20, maintenanceIntervalMs: 20 });
  const progress = new ProgressLine();
  const started = performance.now();
  await worker.start();
  for (;;) {
    const [done, retried, dead] = [await count('done'), await count('retry'), await count('dead')];
    const line = `  processed ${done}  retried ${retried}  dead ${dead}  ${Math.round(done / ((performance.now() - started) / 1000))} jobs/s`;
    if (done + dead >= jobs) {
      progress.done(line);
      break;
    }
    progress.update(line);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const runS = (performance.now() - started) / 1000;
  await worker.stop();
  return { enqueued: jobs, processed: await count('done'), retried: await count('retry'), dead: await count('dead'), enqueuePerS: Math.round(jobs / enqueueS), processedPerS: Math.round(jobs / runS) };
}
