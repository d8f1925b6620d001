import type { Command } from 'commander';
import { withAppOptions } from './app-options.js';
import { loadApp, type AppSource } from './load-app.js';

export function registerQueues(program: Command): void {
  withAppOptions(program.command('queues').description('queue sizes: ready, scheduled, retry, dead, in flight, dedup keys'))
    .option('--json', 'print JSON')
    .action(async (options: AppSource & { json?: boolean }) => {
      const app = await loadApp(options);
      try {
        const queues = await app.store.queueList();
        const rows = await Promise.all(queues.map(async (queue) => ({ queue, ...(await app.store.queueSizes(queue)) })));
        if (options.json) return console.log(JSON.stringify(rows));
        console.table(rows.map(({ queue, ready, scheduled, retry, dead, inFlight, dedupKeys }) => ({ queue, ready, scheduled, retry, dead, 'in flight': inFlight, 'dedup keys': dedupKeys })));
      } finally {
        await app.close();
      }
    });
}
