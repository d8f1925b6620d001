import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type DashboardOptions, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const TOKEN = 'test-token-0123456789abcdef';

describe('dashboard: pause and resume a queue', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  let lines: Record<string, unknown>[];
  const closers: Array<() => Promise<void> | void> = [];

  async function serve(options: DashboardOptions = {}): Promise<DashboardClient> {
    const dashboard = new Dashboard(app, options);
    const served = await listen(dashboard.handler);
    closers.push(() => dashboard.close(), served.close);
    return new DashboardClient(served.base).open();
  }

  const fresh = async (): Promise<string> => {
    const queue = `q${randomBytes(3).toString('hex')}`;
    app.defineWorker({ name: `W${queue}`, queue, perform: () => undefined });
    await app.enqueue(`W${queue}`, {});
    return queue;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    const capture = captureLogs();
    lines = capture.lines;
    app = createLagless({ redis: { url: redis.url, prefix: `dp${randomBytes(3).toString('hex')}` }, logger: capture.logger });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await app.close();
    await redis.stop();
  });

  it('pauses and resumes through the API with the token, shows the pause in /api/queues, /api/queues/paused and /metrics, and audits it', async () => {
    const client = await serve({ token: TOKEN, metrics: true });
    const queue = await fresh();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const paused = await client.request('POST', `/api/queues/${queue}/pause`, { headers: bearer, csrf: false });
    expect(paused).toMatchObject({ status: 200, body: { queue, paused: true, changed: true } });
    expect((await client.request('POST', `/api/queues/${queue}/pause`, { headers: bearer })).body).toMatchObject({ changed: false });
    expect(await app.store.queuePausedAt([queue])).toEqual([expect.any(Number)]);
    expect((await client.get('/api/queues/paused')).body.paused).toEqual([{ queue, pausedAt: expect.any(Number) }]);
    const { body } = await client.get('/api/queues');
    expect(body.queues).toContainEqual(expect.objectContaining({ queue, ready: 1, pausedAt: expect.any(Number) }));
    expect((await client.get('/metrics')).body).toContain(`lagless_queue_paused{queue="${queue}"} 1`);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'dashboard_queue_pause', queue, via: 'bearer' }));

    expect((await client.request('POST', `/api/queues/${queue}/resume`, { headers: bearer })).body).toMatchObject({ queue, paused: false, changed: true });
    expect((await client.get('/api/queues/paused')).body.paused).toEqual([]);
    expect(await app.store.queuePausedAt([queue])).toEqual([undefined]);
  });

  it('follows the rules of every change: no token configured, read-only, CSRF, sign-in, unknown queue, bad name', async () => {
    const queue = await fresh();
    const disabled = await serve();
    expect((await disabled.request('POST', `/api/queues/${queue}/pause`)).status).toBe(403);
    const readOnly = await serve({ token: TOKEN, readOnly: true });
    expect((await readOnly.request('POST', `/api/queues/${queue}/pause`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.error.code).toBe('READ_ONLY');
    const client = await serve({ token: TOKEN });
    expect((await client.request('POST', `/api/queues/${queue}/pause`)).body.error.message).toMatch(/Sign in with the dashboard token first/);
    await client.request('POST', '/api/session', { body: { token: TOKEN } });
    expect((await client.request('POST', `/api/queues/${queue}/pause`, { csrf: false })).body.error.code).toBe('CSRF');
    expect((await client.request('POST', `/api/queues/${queue}/pause`, { headers: { origin: 'https://evil.example' } })).body.error.code).toBe('CROSS_SITE');
    expect(await app.store.queuePausedAt([queue])).toEqual([undefined]);
    const unknown = await client.request('POST', '/api/queues/never-seen/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/No queue 'never-seen'/);
    expect((await client.request('POST', `/api/queues/${encodeURIComponent('bad name')}/pause`)).status).toBe(400);
    expect((await client.request('POST', `/api/queues/${queue}/pause`)).body).toMatchObject({ changed: true });
    await client.request('POST', `/api/queues/${queue}/resume`);
  });
});
