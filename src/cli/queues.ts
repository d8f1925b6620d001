import type { Command } from 'commander';
import type { QueueSizes } from '../store/job-store.js';
import { withAppOptions } from './app-options.js';
import { CliError, loadApp, type AppSource } from './load-app.js';
import { formatTable, type Column } from './table.js';

type QueueRow = QueueSizes & { queue: string; paused: boolean; pausedAt: number | null };

/** The columns of `lagless queues`, in order; a new per-queue figure is one more entry. */
const QUEUE_COLUMNS: readonly Column<QueueRow>[] = [
  { header: 'queue', cell: (row) => row.queue },
  { header: 'ready', cell: (row) => row.ready },
  { header: 'scheduled', cell: (row) => row.scheduled },
  { header: 'retry', cell: (row) => row.retry },
  { header: 'dead', cell: (row) => row.dead },
  { header: 'in-flight', cell: (row) => row.inFlight },
  { header: 'deferred', cell: (row) => row.deferred },
  { header: 'dedup-keys', cell: (row) => row.dedupKeys },
  { header: 'paused', cell: (row) => (row.pausedAt === null ? '' : `since ${new Date(row.pausedAt).toISOString()}`) },
];

export function registerQueues(program: Command): void {
  const queues = withAppOptions(program.command('queues').description('queue sizes (ready, scheduled, retry, dead, in flight, deferred by a limit, dedup keys) and which queues are paused'))
    .option('--json', 'print JSON')
    .option('--partitions', 'also a row per partition of a partitioned queue (queue#0, …) after its summed row')
    .enablePositionalOptions() // see main.ts
    .action(async (options: AppSource & { json?: boolean; partitions?: boolean }) => {
      const app = await loadApp(options);
      try {
        const queues = await app.store.queueList();
        const partitions = async (queue: string): Promise<string[]> => (options.partitions ? ((await app.store.queuePartitions?.(queue)) ?? [queue]) : [queue]);
        const names = (await Promise.all(queues.map(async (queue) => [...new Set([queue, ...(await partitions(queue))])]))).flat();
        const pausedAt = await app.store.queuePausedAt(names);
        const rows: QueueRow[] = await Promise.all(names.map(async (queue, i) => ({ queue, ...(await app.store.queueSizes(queue)), paused: pausedAt[i] !== undefined, pausedAt: pausedAt[i] ?? null })));
        if (options.json) return console.log(JSON.stringify(rows));
        if (rows.length === 0) return console.error('No queues yet: enqueue a job and its queue appears here.');
        console.log(formatTable(QUEUE_COLUMNS, rows));
      } finally {
        await app.close();
      }
    });
  withAppOptions(queues.command('remove <name>').description('forget a queue that holds no jobs (e.g. one registered by a typo)'))
    .action(async (name: string, options: AppSource) => {
      const app = await loadApp(options);
      try {
        const result = await app.store.queueRemove(name);
        if (result.removed) return console.log(`Removed queue '${name}'.`);
        if (result.reason === 'unknown') {
          const known = await app.store.queueList();
          throw new CliError(`No queue '${name}'. Known queues: ${known.join(', ') || '(none)'}.`);
        }
        throw new CliError(`Queue '${name}' still holds ${describeJobs(result.sizes)}; nothing was removed. Let them run, or delete them on the dashboard's Jobs page (see lagless dead list --queue ${name}), then try again.`);
      } finally {
        await app.close();
      }
    });
  registerPauseCommand(queues, 'pause', 'stop every worker from fetching this queue\'s jobs (enqueues are still accepted) until `queues resume`');
  registerPauseCommand(queues, 'resume', 'let workers fetch a paused queue\'s jobs again');
}

/** `queues pause|resume <name>`: refuses a queue the store does not know, so a typo pauses nothing. */
function registerPauseCommand(queues: Command, verb: 'pause' | 'resume', description: string): void {
  withAppOptions(queues.command(`${verb} <name>`).description(description)).action(async (name: string, options: AppSource) => {
    const app = await loadApp(options);
    try {
      const known = await app.store.queueList();
      if (!known.includes(name)) throw new CliError(`No queue '${name}'. Known queues: ${known.join(', ') || '(none)'}. Check the name with \`lagless queues\`.`);
      const changed = verb === 'pause' ? await app.queues.pause(name, 'cli') : await app.queues.resume(name, 'cli');
      if (verb === 'pause') console.log(changed ? `Paused queue '${name}': workers stop fetching its jobs; enqueues are still accepted.` : `Queue '${name}' was already paused.`);
      else console.log(changed ? `Resumed queue '${name}'.` : `Queue '${name}' was not paused.`);
    } finally {
      await app.close();
    }
  });
}

function describeJobs(sizes: QueueSizes): string {
  const parts = ([['ready', sizes.ready], ['scheduled', sizes.scheduled], ['retrying', sizes.retry], ['dead', sizes.dead], ['in flight', sizes.inFlight], ['deferred', sizes.deferred]] as const)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}`);
  return `${parts.join(', ')} job(s)`;
}
