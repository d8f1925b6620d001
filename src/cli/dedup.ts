import type { Command } from 'commander';
import { jobIdempotency } from '../dedup/job-idempotency.js';
import { dedupPlan } from '../dedup/plan.js';
import { UnknownWorkerError } from '../errors.js';
import { withAppModule } from './app-options.js';
import { CliError, loadApp, parseJsonArgument } from './load-app.js';

export function registerDedup(program: Command): void {
  const dedup = program.command('dedup').description('deduplication diagnostics');
  withAppModule(dedup.command('show <worker> <args>').description("the dedup key of a job and its owner: lagless dedup show W '{\"id\":7}' --app ./app.js")).action(
    async (workerName: string, argsText: string, options: { app?: string }) => {
      const args = parseJsonArgument(argsText, 'Job arguments');
      const app = await loadApp(options, { needsWorkers: true });
      try {
        const worker = app.findWorker(workerName);
        if (!worker) throw new UnknownWorkerError(workerName);
        const plan = dedupPlan(worker);
        if (!plan) throw new CliError(`Worker '${workerName}' does not deduplicate (set idempotent: true or deduplicate: { strategy }).`);
        const { string, key } = jobIdempotency(worker, args);
        const cookie = await app.store.dedupShow({ queue: worker.queue, key, nowMs: Date.now() });
        console.log(JSON.stringify({ queue: worker.queue, idempotency_string: string, key, strategy: plan.strategy, held: Boolean(cookie), ...(cookie ? { owner_jid: cookie.ownerJid, ttl_ms: cookie.ttlMs, absorbed: cookie.absorbed, executing: cookie.executing, wal_locations: cookie.wal } : {}) }, null, 2));
      } finally {
        await app.close();
      }
    },
  );
}
