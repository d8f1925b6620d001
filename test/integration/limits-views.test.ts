import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** What an operator sees of limits: the deferred log line and metric, `lagless limits`, GET /api/limits. */
describe('limits in logs, metrics, the CLI and the dashboard API', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `lv${randomBytes(3).toString('hex')}`;
  const { logger, lines } = captureLogs();
  const release: Array<() => void> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger });
    const gated = app.defineWorker({ name: 'Gated', queue: 'gated', concurrencyLimit: 2, perform: () => new Promise<void>((resolve) => release.push(resolve)) });
    app.defineWorker({ name: 'Paced', queue: 'gated', rateLimit: { max: 5, perMs: 60_000 }, perform: () => undefined });
    await app.worker({ queues: ['gated'], concurrency: 10, maintenanceIntervalMs: 100 }).start();
    for (let i = 0; i < 5; i++) await gated.enqueue({ i });
    for (let i = 0; i < 7; i++) await app.enqueue('Paced', { i });
    await waitFor(async () => (await app.store.limitList({ queue: 'gated', nowMs: Date.now() })).map((l) => l.deferred).join() === '3,2', 10_000, 'the limits to hold jobs back');
  });
  afterAll(async () => {
    for (const resolve of release) resolve();
    await app.close();
    await redis.stop();
  });

  it('logs each deferral as a job line (not a failure) and counts it in lagless_jobs_deferred_total', async () => {
    const deferred = lines.filter((line) => line.job_status === 'deferred');
    expect(deferred.filter((line) => line.class === 'Gated')).toHaveLength(3);
    expect(deferred.filter((line) => line.class === 'Paced')).toHaveLength(2);
    expect(deferred[0]).toMatchObject({ level: 30, queue: 'gated', jid: expect.any(String), retry_count: 0, limit: expect.stringMatching(/^(concurrency|rate)$/) });
    expect(lines.some((line) => line.job_status === 'fail')).toBe(false);
    const metrics = await app.metrics.metrics();
    expect(metrics).toContain('lagless_jobs_deferred_total{queue="gated",worker="Gated",limit="concurrency"} 3');
    expect(metrics).toContain('lagless_jobs_deferred_total{queue="gated",worker="Paced",limit="rate"} 2');
  });

  it('lagless limits: a table, --json, and a clear error for an unknown queue', async () => {
    const run = async (...args: string[]) => {
      try {
        return { code: 0, ...(await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'limits', '--redis', redis.url, '--prefix', prefix, ...args])) };
      } catch (error) {
        return error as { code: number; stdout: string; stderr: string };
      }
    };
    const json = await run('--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { queue: 'gated', workerClass: 'Gated', limits: { concurrency: 2 }, running: 2, reserved: 0, deferred: 3, startsInWindow: 0, deferredTotal: 3 },
      { queue: 'gated', workerClass: 'Paced', limits: { rate: { max: 5, perMs: 60_000 } }, running: 0, reserved: 0, deferred: 2, startsInWindow: 5, deferredTotal: 2 },
    ]);
    const table = await run('--queue', 'gated');
    expect(table.stdout).toMatch(/'Gated' .*│ '2' .*│ '-' .*│ 2 .*│ 0 .*│ 3 /);
    expect(table.stdout).toContain("'5 per 60000 ms'");
    const unknown = await run('--queue', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No queue 'nope'\. Known queues: gated\./);
  }, 30_000);

  it('GET /api/limits: the same readings for the dashboard', async () => {
    const dashboard = new Dashboard(app);
    const served = await listen(dashboard.handler);
    try {
      const client = await new DashboardClient(served.base).open();
      const { status, body } = await client.get('/api/limits');
      expect(status).toBe(200);
      expect(body.limits).toEqual([
        expect.objectContaining({ queue: 'gated', workerClass: 'Gated', limits: { concurrency: 2 }, running: 2, deferred: 3 }),
        expect.objectContaining({ queue: 'gated', workerClass: 'Paced', limits: { rate: { max: 5, perMs: 60_000 } }, startsInWindow: 5, deferred: 2 }),
      ]);
    } finally {
      dashboard.close();
      await served.close();
    }
  });
});
