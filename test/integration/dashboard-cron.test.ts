import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type DashboardOptions, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const TOKEN = 'test-token-0123456789abcdef';

describe('dashboard cron API', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const { logger, lines } = captureLogs();
  const closers: Array<() => Promise<void> | void> = [];

  async function serve(options: DashboardOptions = {}): Promise<DashboardClient> {
    const dashboard = new Dashboard(app, options);
    const served = await listen(dashboard.handler);
    closers.push(() => dashboard.close(), served.close);
    return new DashboardClient(served.base).open();
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix: `dash${randomBytes(3).toString('hex')}` }, logger });
    const Report = app.defineWorker({ name: 'ReportWorker', queue: 'reports', perform: () => undefined });
    app.schedule('nightly', { cron: '0 3 * * *', worker: Report });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await app.close();
    await redis.stop();
  });

  it('GET /api/cron lists the schedules as lagless cron list --json does; the Cron page is served', async () => {
    const client = await serve();
    const { status, body } = await client.get('/api/cron');
    expect(status).toBe(200);
    expect(body.schedules).toEqual(await app.schedules());
    expect(body.schedules[0]).toMatchObject({ name: 'nightly', cron: '0 3 * * *', worker: 'ReportWorker', paused: false, nextRunMs: expect.any(Number) });
    const page = await client.request('GET', '/cron');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="assets/cron.js"></script>');
    expect((await client.request('GET', '/assets/cron.js')).status).toBe(200);
  });

  it('pauses and resumes only with the token (bearer, or a signed-in session with its CSRF token), and audits it', async () => {
    const client = await serve({ token: TOKEN });
    const pause = (options: Parameters<DashboardClient['request']>[2] = {}) => client.request('POST', '/api/cron/nightly/pause', options);
    expect((await pause()).body.error.message).toMatch(/Sign in with the dashboard token first/);
    expect((await pause({ headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
    expect((await app.schedules())[0]!.paused).toBe(false);

    expect(await pause({ csrf: false, headers: { authorization: `Bearer ${TOKEN}` } })).toMatchObject({ status: 200, body: { schedule: 'nightly', paused: true } });
    expect((await app.schedules())[0]).toMatchObject({ paused: true, nextRunMs: null });
    expect(lines).toContainEqual(expect.objectContaining({ event: 'dashboard_cron_pause', schedule: 'nightly', via: 'bearer' }));

    await client.request('POST', '/api/session', { body: { token: TOKEN } });
    const resume = (options: Parameters<DashboardClient['request']>[2] = {}) => client.request('POST', '/api/cron/nightly/resume', options);
    expect((await resume({ csrf: false })).body.error.code).toBe('CSRF');
    expect((await resume({ headers: { origin: 'https://evil.example' } })).body.error.code).toBe('CROSS_SITE');
    expect((await app.schedules())[0]!.paused).toBe(true);
    expect(await resume()).toMatchObject({ status: 200, body: { schedule: 'nightly', paused: false } });
    expect((await app.schedules())[0]!.paused).toBe(false);

    const unknown = await client.request('POST', '/api/cron/nope/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/Schedule 'nope' is not defined by this app/);
  });

  it('read-only and token-less dashboards refuse to pause', async () => {
    const readOnly = await serve({ token: TOKEN, readOnly: true });
    expect((await readOnly.request('POST', '/api/cron/nightly/pause', { headers: { authorization: `Bearer ${TOKEN}` } })).body.error.code).toBe('READ_ONLY');
    const disabled = await serve();
    expect((await disabled.request('POST', '/api/cron/nightly/pause')).status).toBe(403);
    expect((await app.schedules())[0]!.paused).toBe(false);
  });
});
