import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { Maintenance, READY_CAP, STEP_LIMIT } from '../../src/server/maintenance.js';
import { captureLogs } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** `count` jobs in `queue`, all due at T0 + 1000 (scheduled) */
async function scheduleDue(app: LaglessApp, queue: string, count: number): Promise<void> {
  const jobs = Array.from({ length: count }, (_, i) => {
    const jid = `j${i}`;
    return { queue, jid, raw: JSON.stringify({ jid, class: 'Noop', args: {}, created_at: T0 / 1000 }), nowMs: T0, runAtMs: T0 + 1000 };
  });
  for (let i = 0; i < jobs.length; i += 1000) await app.store.jobPushMany(jobs.slice(i, i + 1000));
}

describe.each(bothStores(() => redis))('due jobs drain on the %s store', (_name, redisConfig) => {
  it('one maintenance pass promotes a backlog of due jobs far larger than one step, in bounded steps', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    const count = STEP_LIMIT * 3 + 500;
    await scheduleDue(app, queue, count);
    // One step alone moves at most its limit: a script never holds Redis for the whole backlog.
    const step = await app.store.queueMaintain({ queue, token: 'm', nowMs: T0 + 1000, lockMs: 3000, limit: STEP_LIMIT, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
    expect(step?.promoted).toBe(STEP_LIMIT);
    // One pass (what every worker runs once a second) keeps stepping while steps come back full.
    const { logger } = captureLogs();
    await new Maintenance(app.store, logger, 'm', [queue], () => T0 + 1000, { maintenanceIntervalMs: 1000 }).runOnce();
    const sizes = await app.store.queueSizes(queue);
    expect(sizes).toMatchObject({ scheduled: 0, ready: count });
    // Earliest first, and every payload whole.
    const ready = await app.store.jobList({ queue, state: 'ready', offset: 0, limit: count });
    expect(new Set(ready.map((j) => j.jid)).size).toBe(count);
    expect(ready.every((j) => JSON.parse(j.raw).jid === j.jid)).toBe(true);
    await app.close();
  });

  it('stops promoting once the ready list holds READY_CAP jobs, and comes back for the rest at once', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    await scheduleDue(app, queue, READY_CAP + 500);
    const { logger } = captureLogs();
    const maintenance = new Maintenance(app.store, logger, 'm', [queue], () => T0 + 1000, { maintenanceIntervalMs: 1000 });
    expect(await maintenance.runOnce()).toBe(10);
    expect(await app.store.queueSizes(queue)).toMatchObject({ scheduled: 500, ready: READY_CAP });
    await app.store.jobFetch({ queue, count: 400, token: 't', leaseMs: 60_000, nowMs: T0 + 1000 });
    await maintenance.runOnce();
    expect(await app.store.queueSizes(queue)).toMatchObject({ scheduled: 100, ready: READY_CAP });
    await app.close();
  });

  it('leaves jobs not yet due where they are', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    await scheduleDue(app, queue, STEP_LIMIT + 10);
    const { logger } = captureLogs();
    await new Maintenance(app.store, logger, 'm', [queue], () => T0 + 999, {}).runOnce();
    expect(await app.store.queueSizes(queue)).toMatchObject({ scheduled: STEP_LIMIT + 10, ready: 0 });
    await app.close();
  });

  it('comes back when the next job comes due, not a whole interval later', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    await scheduleDue(app, queue, 3);
    const { logger } = captureLogs();
    const pass = (nowMs: number) => new Maintenance(app.store, logger, 'm', [queue], () => nowMs, { maintenanceIntervalMs: 5000, dedupReapIntervalMs: 1e9 }).runOnce();
    expect(await pass(T0)).toBe(1000);
    // Due within the shortest wait: a few ms, not a busy loop.
    expect(await pass(T0 + 995)).toBe(10);
    // Nothing left to come due: the interval.
    expect(await pass(T0 + 1000)).toBe(5000);
    expect(await app.store.queueSizes(queue)).toMatchObject({ scheduled: 0, ready: 3 });
    await app.close();
  });

  it('runs a job scheduled a moment ahead on time with a long maintenance interval', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    let ran!: () => void;
    const done = new Promise<void>((resolve) => (ran = resolve));
    const W = app.defineWorker({ name: 'Soon', queue, perform: () => ran() });
    const worker = app.worker({ queues: [queue], maintenanceIntervalMs: 60_000 });
    await worker.start();
    const enqueued = Date.now();
    await W.enqueueIn(300, {});
    await done;
    // Promoted at its due moment: well before the next interval (60 s), and not before it was due.
    expect(Date.now() - enqueued).toBeGreaterThanOrEqual(300);
    expect(Date.now() - enqueued).toBeLessThan(5000);
    await worker.stop();
    await app.close();
  });
});
