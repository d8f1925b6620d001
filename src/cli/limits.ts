import type { Command } from 'commander';
import { describeLimit, readLimits } from '../store/limit-readings.js';
import { withAppOptions } from './app-options.js';
import { CliError, loadApp, type AppSource } from './load-app.js';

/** `lagless limits`: every concurrency- or rate-limited worker class with its limits and current usage. */
export function registerLimits(program: Command): void {
  withAppOptions(program.command('limits').description('concurrency and rate limits of worker classes: limit, running, deferred, starts in the window'))
    .option('--queue <name>', 'only this queue')
    .option('--json', 'print JSON')
    .action(async (options: AppSource & { queue?: string; json?: boolean }) => {
      const app = await loadApp(options);
      try {
        if (options.queue && !(await app.store.queueList()).includes(options.queue)) {
          throw new CliError(`No queue '${options.queue}'. Known queues: ${(await app.store.queueList()).join(', ') || '(none)'}.`);
        }
        const rows = await readLimits(app.store, Date.now(), options.queue ? [options.queue] : undefined);
        if (options.json) return console.log(JSON.stringify(rows));
        if (rows.length === 0) return console.log('No limited worker has run a job yet (set concurrencyLimit or rateLimit in defineWorker).');
        console.table(
          rows.map((r) => {
            const limit = describeLimit(r);
            return { queue: r.queue, worker: r.workerClass, 'concurrency limit': limit.concurrency, 'rate limit': limit.rate, running: r.running, reserved: r.reserved, deferred: r.deferred, 'starts in window': r.limits.rate ? r.startsInWindow : '-', 'deferred total': r.deferredTotal };
          }),
        );
      } finally {
        await app.close();
      }
    });
}
