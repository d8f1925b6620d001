import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLagless, type LaglessApp } from '../app.js';
import { PRESERVE_LATEST_WAL_FLAG } from '../dedup/flags.js';
import { serveDashboard, type ServedDashboard } from '../web/serve.js';
import { runJobTour } from './job-tour.js';
import { DEMO_HELP, parseDemoOptions } from './options.js';
import { ProgressLine, table } from './progress.js';
import { DemoServices } from './services.js';
import { WalStory, type StoryStats } from './wal-story.js';

const TOUR_JOBS = 2000;
const DEFAULT_PORT = 4567;
const STRATEGIES = ['replica', 'replica_retried', 'primary', 'retry'] as const;

/** `npm run demo`: the job system in brief, then the stale read that preserving the latest WAL locations prevents. */
async function main(): Promise<void> {
  const options = parseDemoOptions(process.argv.slice(2));
  if (options === 'help') return void process.stdout.write(DEMO_HELP);
  const services = new DemoServices();
  const interrupt = (): void => void services.stopAll().then(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    console.log(await services.startRedisIfAvailable());
    console.log(await services.startPostgres(options.lagMs));
    const logFile = join(mkdtempSync(join(tmpdir(), 'lagless-demo-')), 'jobs.log');
    const postgres = services.postgres!;
    const app = createLagless({
      redis: services.redis ? { url: services.redis.url, prefix: 'demo' } : undefined,
      databases: { main: { primary: postgres.primaryUrl, replicas: [...postgres.replicaUrls] } },
      logger: pino(pino.destination({ dest: logFile, sync: false })),
    });
    services.onStop(() => app.close());
    const dashboard = await serveDemoDashboard(app, options.port);
    services.onStop(() => dashboard.close());
    console.log(dashboard.banner);

    console.log(`\n1. The job system: ${TOUR_JOBS} jobs, some flaky, some hopeless`);
    const tour = await runJobTour(app, TOUR_JOBS);
    console.log(table([
      { measure: 'enqueued', value: tour.enqueued },
      { measure: 'processed', value: tour.processed },
      { measure: 'retried', value: tour.retried },
      { measure: 'dead', value: tour.dead },
      { measure: 'enqueue rate (jobs/s)', value: tour.enqueuePerS },
      { measure: 'throughput (jobs/s, logging every job)', value: tour.processedPerS },
    ]));

    console.log(`\n2. Deduplicated jobs and a lagging replica: ${options.users} users, flag ${PRESERVE_LATEST_WAL_FLAG}`);
    await WalStory.prepare(app);
    const story = new WalStory(app, postgres.replicaUrls[0]!);
    const progress = new ProgressLine();
    const runs: [string, StoryStats][] = [];
    let firstUser = 1;
    for (const flagOn of options.flag === 'both' ? [false, true] : [options.flag === 'on']) {
      const label = `flag ${flagOn ? 'on' : 'off'}`;
      runs.push([label, await story.run({ flagOn, users: options.users, firstUser, progress, label })]);
      firstUser += options.users;
    }
    const row = (measure: string, pick: (s: StoryStats) => string | number): Record<string, string | number> => ({ measure, ...Object.fromEntries(runs.map(([label, s]) => [label, pick(s)])) });
    console.log(`\n${table([
      row('jobs enqueued', (s) => s.enqueued),
      row('absorbed by a queued twin', (s) => s.absorbed),
      row('executed', (s) => s.executed),
      ...STRATEGIES.map((strategy) => row(`  decided: ${strategy}`, (s) => s.strategies[strategy] ?? 0)),
      row('STALE READS DETECTED', (s) => s.staleReads),
    ])}`);
    const on = runs.find(([label]) => label === 'flag on')?.[1];
    if (on?.exampleDedupWal) console.log(`\nA job with the flag on ran with wal_locations ${JSON.stringify(on.exampleWal)} and dedup_wal_locations ${JSON.stringify(on.exampleDedupWal)}.`);
    console.log(`Job log lines (JSON; done/fail lines carry dedup_wal_locations and load_balancing_strategy): ${logFile}`);
    console.log(`  e.g. grep '"job_status":"done"' ${logFile} | grep dedup_wal_locations | head -3`);
    if (options.keepOpen) {
      console.log(`\nThe dashboard stays up at ${dashboard.url} until Ctrl-C.`);
      await new Promise<never>(() => undefined); // Ctrl-C: the interrupt handler stops every service
    }
  } finally {
    await services.stopAll();
  }
}

/**
 * Loopback only, no token. Without --port: 4567 like `lagless dashboard`, or any free one when it is taken,
 * so a second demo still runs. With --port: that port (0 for any free one), or one line saying it is taken.
 */
async function serveDemoDashboard(app: LaglessApp, port: number | undefined): Promise<ServedDashboard> {
  if (port === undefined) return serveDashboard(app, { port: DEFAULT_PORT }).catch(() => serveDashboard(app, { port: 0 }));
  return serveDashboard(app, { port }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new Error(`--port ${port} is taken on 127.0.0.1: pass another port, or --port 0 for any free one.`) : error;
  });
}

main().catch((error: unknown) => {
  console.error(`demo: ${(error as Error).message}`);
  process.exitCode = 1;
});
