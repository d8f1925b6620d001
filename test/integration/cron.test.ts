import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, InvalidOptionError, UnknownScheduleError, type JobPayload, type LaglessApp, type LaglessConfig } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const at = (time: string): number => Date.parse(`2026-03-02T${time}Z`);

/** A clock the test moves by hand. */
function manualClock(start: string): { clock: { now(): number }; set(time: string): void } {
  let now = at(start);
  return { clock: { now: () => now }, set: (time) => (now = at(time)) };
}

interface CronSetup {
  app: LaglessApp;
  lines: Record<string, unknown>[];
  queue: string;
  set(time: string): void;
  /** Let the scheduler run several passes at the current time. */
  settle(): Promise<void>;
  jobs(): Promise<JobPayload[]>;
}

/**
 * An app whose schedule enqueues into `queue`, with a worker serving another queue (so the scheduler runs and the
 * cron jobs stay in the ready list to be counted).
 */
async function cronApp(redisConfig: LaglessConfig['redis'], start: string, define: (app: LaglessApp, queue: string) => void, queue = `q${randomBytes(3).toString('hex')}`): Promise<CronSetup> {
  const { clock, set } = manualClock(start);
  const { logger, lines } = captureLogs();
  const app = createLagless({ redis: redisConfig, logger, clock });
  define(app, queue);
  await app.worker({ queues: [`${queue}-other`], scheduleCheckMs: 10 }).start();
  const passes = async (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 80));
  await passes();
  return {
    app,
    lines,
    queue,
    set,
    settle: passes,
    jobs: async () => (await app.store.jobList({ queue, state: 'ready', offset: 0, limit: 100 })).map((job) => JSON.parse(job.raw) as JobPayload),
  };
}

function reportWorker(app: LaglessApp, queue: string) {
  return app.defineWorker({ name: 'ReportWorker', queue, perform: () => {} });
}

describe.each(bothStores(() => redis))('cron schedules on the %s store', (_name, redisConfig) => {
  it('fires each tick once from the tick after it is first seen, and only once after downtime', async () => {
    const cron = await cronApp(redisConfig(), '10:00:30', (app, queue) => app.schedule('reports', { cron: '* * * * *', worker: reportWorker(app, queue), args: { kind: 'daily' } }));
    // 10:00 passed before the schedule was first seen: it is a starting point, not a job.
    expect(await cron.jobs()).toEqual([]);
    cron.set('10:01:05');
    await waitFor(async () => (await cron.jobs()).length === 1);
    cron.set('10:01:50');
    await cron.settle();
    const [first] = await cron.jobs();
    expect(first).toMatchObject({ class: 'ReportWorker', args: { kind: 'daily' } });
    expect(await cron.jobs()).toHaveLength(1);
    // Down from 10:02 to 10:09:10: seven ticks missed, one job.
    cron.set('10:09:10');
    await waitFor(async () => (await cron.jobs()).length === 2);
    await cron.settle();
    const jobs = await cron.jobs();
    expect(jobs).toHaveLength(2);
    await waitFor(async () => (await cron.app.schedules())[0]!.lastJid === jobs[1]!.jid);
    const [status] = await cron.app.schedules();
    expect(status).toEqual({
      name: 'reports',
      cron: '* * * * *',
      timezone: 'UTC',
      worker: 'ReportWorker',
      queue: cron.queue,
      enabled: true,
      paused: false,
      nextRunMs: at('10:10:00'),
      lastRunMs: at('10:09:10'),
      lastTickMs: at('10:09:00'),
      lastJid: jobs[1]!.jid,
    });
    const enqueued = cron.lines.filter((l) => l.msg === 'cron tick enqueued');
    expect(enqueued.map((l) => l.tick)).toEqual(['2026-03-02T10:01:00.000Z', '2026-03-02T10:09:00.000Z']);
    expect(await cron.app.metrics.metrics()).toMatch(/lagless_cron_ticks_total\{schedule="reports",outcome="enqueued"\} 2/);
    await cron.app.close();
  });

  it('reads the expression in the schedule time zone', async () => {
    // 09:00 in Berlin (UTC+1 in March before DST) is 08:00 UTC.
    const cron = await cronApp(redisConfig(), '07:59:30', (app, queue) => app.schedule('berlin', { cron: '0 9 * * *', timezone: 'Europe/Berlin', worker: reportWorker(app, queue) }));
    expect((await cron.app.schedules())[0]!.nextRunMs).toBe(at('08:00:00'));
    cron.set('08:00:01');
    await waitFor(async () => (await cron.jobs()).length === 1);
    await cron.app.close();
  });

  it('a paused schedule lets its ticks pass; resumed, it fires from its next tick, not the ones missed', async () => {
    const cron = await cronApp(redisConfig(), '10:00:30', (app, queue) => app.schedule('reports', { cron: '*/5 * * * *', worker: reportWorker(app, queue) }));
    await cron.app.pauseSchedule('reports');
    expect((await cron.app.schedules())[0]).toMatchObject({ paused: true, nextRunMs: null });
    cron.set('10:05:01');
    await waitFor(() => cron.lines.some((l) => l.msg?.toString().includes('the schedule is paused')));
    cron.set('10:10:01');
    await waitFor(() => cron.lines.filter((l) => l.msg?.toString().includes('the schedule is paused')).length === 2);
    expect(await cron.jobs()).toEqual([]);
    await cron.app.resumeSchedule('reports');
    await cron.settle();
    expect(await cron.jobs()).toEqual([]);
    cron.set('10:15:02');
    await waitFor(async () => (await cron.jobs()).length === 1);
    // The last run is recorded just after the enqueue.
    await waitFor(async () => (await cron.app.schedules())[0]!.lastTickMs === at('10:15:00'));
    expect((await cron.app.schedules())[0]).toMatchObject({ paused: false });
    await cron.app.close();
  });

  it('a disabled schedule is listed but never fires', async () => {
    const cron = await cronApp(redisConfig(), '10:00:30', (app, queue) => app.schedule('off', { cron: '* * * * *', worker: reportWorker(app, queue), enabled: false }));
    cron.set('10:01:01');
    await cron.settle();
    cron.set('10:02:01');
    await cron.settle();
    expect(await cron.jobs()).toEqual([]);
    expect((await cron.app.schedules())[0]).toMatchObject({ name: 'off', enabled: false, nextRunMs: null, lastJid: null });
    await cron.app.close();
  });

  it('a schedule in a worker definition is named after the worker and fires the same way', async () => {
    const cron = await cronApp(redisConfig(), '10:00:30', (app, queue) => void app.defineWorker({ name: 'DigestWorker', queue, schedule: { cron: '* * * * *', args: { digest: true } }, perform: () => {} }));
    expect((await cron.app.schedules())[0]).toMatchObject({ name: 'DigestWorker', worker: 'DigestWorker', queue: cron.queue });
    cron.set('10:01:01');
    await waitFor(async () => (await cron.jobs()).length === 1);
    expect((await cron.jobs())[0]).toMatchObject({ class: 'DigestWorker', args: { digest: true } });
    // A bad schedule refuses the whole definition: no worker is left half-defined.
    expect(() => cron.app.defineWorker({ name: 'BadSchedule', schedule: { cron: 'every day' }, perform: () => {} })).toThrow(InvalidOptionError);
    expect(cron.app.findWorker('BadSchedule')).toBeUndefined();
    await cron.app.close();
  });

  it('refuses schedules that cannot work, with a typed error', () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const W = reportWorker(app, 'q');
    const bad: [string, object][] = [
      ['cron with 4 fields', { cron: '* * * *', worker: W }],
      ['cron out of range', { cron: '61 * * * *', worker: W }],
      ['unknown time zone', { cron: '* * * * *', timezone: 'Mars/Olympus', worker: W }],
      ['undefined worker', { cron: '* * * * *', worker: 'NoSuchWorker' }],
      ['unknown option', { cron: '* * * * *', worker: W, every: 5 }],
    ];
    for (const [what, options] of bad) expect(() => app.schedule('s', options as never), what).toThrow(InvalidOptionError);
    expect(() => app.schedule('bad name!', { cron: '* * * * *', worker: W })).toThrow(InvalidOptionError);
    app.schedule('s', { cron: '* * * * *', worker: W });
    expect(() => app.schedule('s', { cron: '* * * * *', worker: W })).toThrow(/already defined/);
    return expect(app.pauseSchedule('nope')).rejects.toThrow(UnknownScheduleError);
  });
});

describe('cron schedules across restarts and deploys (Redis)', () => {
  const shared = (): LaglessConfig['redis'] => ({ url: redis.url, prefix: `t${randomBytes(3).toString('hex')}` });

  it('a tick claimed before a restart is not enqueued again after it', async () => {
    const config = shared();
    const queue = `q${randomBytes(3).toString('hex')}`;
    const define = (app: LaglessApp, q: string) => app.schedule('reports', { cron: '* * * * *', worker: reportWorker(app, q) });
    const before = await cronApp(config, '10:00:30', define, queue);
    before.set('10:01:05');
    await waitFor(async () => (await before.jobs()).length === 1);
    await before.app.close();
    const after = await cronApp(config, '10:01:40', define, queue);
    await after.settle();
    expect(await after.jobs()).toHaveLength(1);
    after.set('10:02:02');
    await waitFor(async () => (await after.jobs()).length === 2);
    await after.settle();
    expect(await after.jobs()).toHaveLength(2);
    await after.app.close();
  });

  it('a schedule changed in code fires on its new ticks only, and a removed one not at all', async () => {
    const config = shared();
    const queue = `q${randomBytes(3).toString('hex')}`;
    const hourly = await cronApp(config, '09:59:30', (app, q) => app.schedule('reports', { cron: '0 * * * *', worker: reportWorker(app, q) }), queue);
    hourly.set('10:00:01');
    await waitFor(async () => (await hourly.jobs()).length === 1);
    await hourly.app.close();
    // Deployed at 10:20 with ':30 past the hour': neither 11:00 (the old expression) nor 10:00 fires again.
    const half = await cronApp(config, '10:20:00', (app, q) => app.schedule('reports', { cron: '30 * * * *', worker: reportWorker(app, q) }), queue);
    half.set('10:30:01');
    await waitFor(async () => (await half.jobs()).length === 2);
    half.set('11:00:01');
    await half.settle();
    expect(await half.jobs()).toHaveLength(2);
    expect((await half.app.schedules())[0]).toMatchObject({ cron: '30 * * * *', lastTickMs: at('10:30:00') });
    await half.app.close();
    // Removed: the stored state of 'reports' fires nothing.
    const removed = await cronApp(config, '11:29:59', (app, q) => void reportWorker(app, q), queue);
    removed.set('11:30:01');
    await removed.settle();
    removed.set('12:30:01');
    await removed.settle();
    expect(await removed.jobs()).toHaveLength(2);
    await removed.app.close();
  });
});
