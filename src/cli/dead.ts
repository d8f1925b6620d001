import type { Command } from 'commander';
import type { LaglessApp } from '../app.js';
import type { StoredJob } from '../store/job-store.js';
import { withAppOptions } from './app-options.js';
import { CliError, loadApp, parseWholeNumber, type AppSource } from './load-app.js';

export function registerDead(program: Command): void {
  const dead = program.command('dead').description('inspect and retry jobs in the dead set');
  withAppOptions(dead.command('list').description('newest dead jobs first'))
    .option('--queue <name>', 'queue', 'default')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print one JSON array: jid, died_at, the parsed payload (with error_backtrace), raw text when not JSON')
    .action(async (options: AppSource & { queue: string; limit: string; json?: boolean }) => {
      const app = await loadApp(options);
      try {
        const limit = parseWholeNumber(options.limit, '--limit');
        await requireKnownQueue(app, options.queue);
        const jobs = await app.store.jobList({ queue: options.queue, state: 'dead', offset: 0, limit });
        if (options.json) return console.log(JSON.stringify(jobs.map(present)));
        for (const job of jobs) console.log(job.raw);
        if (jobs.length === 0) console.error(`No dead jobs in queue '${options.queue}'.`);
      } finally {
        await app.close();
      }
    });
  withAppOptions(dead.command('retry <jid>').description('move one dead job back to its queue'))
    .option('--queue <name>', 'queue', 'default')
    .action(async (jid: string, options: AppSource & { queue: string }) => {
      const app = await loadApp(options);
      try {
        if (!(await app.store.jobRetryNow({ queue: options.queue, jid, from: 'dead', nowMs: Date.now() }))) {
          throw new CliError(`No dead job '${jid}' in queue '${options.queue}'; see lagless dead list --queue ${options.queue}.`);
        }
        console.log(`Retrying ${jid}.`);
      } finally {
        await app.close();
      }
    });
  withAppOptions(dead.command('retry-all').description('move every dead job of a queue back to it'))
    .option('--queue <name>', 'queue', 'default')
    .action(async (options: AppSource & { queue: string }) => {
      const app = await loadApp(options);
      try {
        await requireKnownQueue(app, options.queue);
        // Take the dead set's jids first: a job that fails again while we work returns to the dead set, and
        // re-reading the set until it is empty would then never end.
        const { dead } = await app.store.queueSizes(options.queue);
        const jids: string[] = [];
        for (let offset = 0; offset < dead; offset += 500) {
          for (const job of await app.store.jobList({ queue: options.queue, state: 'dead', offset, limit: 500 })) jids.push(job.jid);
        }
        let moved = 0;
        for (const jid of jids) if (await app.store.jobRetryNow({ queue: options.queue, jid, from: 'dead', nowMs: Date.now() })) moved++;
        console.log(`Retrying ${moved} job(s) from the dead set of '${options.queue}'.`);
      } finally {
        await app.close();
      }
    });
}

/** As the dashboard's API answers: a queue the store never registered is named as unknown, not shown empty. */
async function requireKnownQueue(app: LaglessApp, queue: string): Promise<void> {
  const known = await app.store.queueList();
  if (!known.includes(queue)) throw new CliError(`No queue '${queue}'. Known queues: ${known.join(', ') || '(none yet)'}.`);
}

/** A dead job for --json: the payload parsed; one that is not JSON (an unreadable job) stays raw. */
function present(job: StoredJob): { jid: string; died_at: string | null; payload: unknown; raw: string | null } {
  const died_at = job.score === undefined ? null : new Date(job.score).toISOString();
  try {
    return { jid: job.jid, died_at, payload: JSON.parse(job.raw) as unknown, raw: null };
  } catch {
    return { jid: job.jid, died_at, payload: null, raw: job.raw };
  }
}
