import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type DashboardOptions, type LaglessApp } from '../../src/index.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { MINUTE_MS } from '../../src/store/job-records.js';
import { SCAN_MAX } from '../../src/web/api/job-filter.js';
import { waitFor } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const TOKEN = 'bulk-token-0123456789abcdef';
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
// Run from a directory of its own (no lagless.config there), so tsx is named by its full path.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('dashboard API: bulk actions, search, job details and history', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `bulk${randomBytes(3).toString('hex')}`;
  const closers: Array<() => Promise<void> | void> = [];
  const fresh = (): string => `q${randomBytes(3).toString('hex')}`;

  async function serve(options: DashboardOptions = { allowLoopbackMutations: true }): Promise<DashboardClient> {
    const dashboard = new Dashboard(app, options);
    const served = await listen(dashboard.handler);
    closers.push(() => dashboard.close(), served.close);
    return new DashboardClient(served.base).open();
  }

  /** Push jobs and move them to the dead (or retry) set in bulk, as failing workers would. */
  async function failJobs(queue: string, jobs: { jid: string; class?: string; args?: unknown }[], to: 'dead' | 'retry'): Promise<void> {
    const now = Date.now();
    const raws = jobs.map((j) => JSON.stringify({ jid: j.jid, class: j.class ?? 'Echo', args: j.args ?? {}, created_at: now / 1000, error_class: 'Error', error_message: 'boom' }));
    await app.store.jobPushMany(jobs.map((j, i) => ({ queue, jid: j.jid, raw: raws[i]!, nowMs: now })));
    await app.store.jobFetch({ queue, count: 1000, token: 't', leaseMs: 60_000, nowMs: now });
    if (jobs.length > 1000) await app.store.jobFetch({ queue, count: 1000, token: 't', leaseMs: 60_000, nowMs: now });
    if (jobs.length > 2000) await app.store.jobFetch({ queue, count: 1000, token: 't', leaseMs: 60_000, nowMs: now });
    await Promise.all(jobs.map((j, i) => {
      const later = { queue, jid: j.jid, token: 't', raw: raws[i]!, nowMs: now, runAtMs: now + (to === 'retry' ? 3_600_000 : i) };
      return to === 'dead' ? app.store.jobDead(later) : app.store.jobRetry({ ...later, kind: 'retry' });
    }));
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await app.close();
    await redis.stop();
  });

  it('retries and deletes selected dead and retrying jobs, says which were gone, and takes the same auth and CSRF as other changes', async () => {
    const q = fresh();
    await failJobs(q, ['d1', 'd2', 'd3'].map((jid) => ({ jid })), 'dead');
    await failJobs(q, ['r1', 'r2'].map((jid) => ({ jid })), 'retry');
    const client = await serve();
    const retried = await client.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'retry', jids: ['d1', 'd2', 'gone'] } });
    expect(retried.body).toEqual({ queue: q, state: 'dead', action: 'retry', done: 2, missing: ['gone'] });
    expect(await app.store.queueSizes(q)).toMatchObject({ dead: 1, ready: 2, retry: 2 });
    const deleted = await client.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'retry', action: 'delete', jids: ['r1', 'r2'] } });
    expect(deleted.body).toMatchObject({ done: 2, missing: [] });
    expect(await app.store.queueSizes(q)).toMatchObject({ retry: 0 });

    expect((await client.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'delete', jids: ['d3'] }, csrf: false })).body.error.code).toBe('CSRF');
    const disabled = await serve({});
    expect((await disabled.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'delete', jids: ['d3'] } })).status).toBe(403);
    const token = await serve({ token: TOKEN });
    expect((await token.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'delete', jids: ['d3'] }, headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
    expect((await token.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'delete', jids: ['d3'] }, headers: { authorization: `Bearer ${TOKEN}` } })).body).toMatchObject({ done: 1 });
    expect(await app.store.queueSizes(q)).toMatchObject({ dead: 0 });

    for (const [body, message] of [
      [{ queue: q, state: 'ready', action: 'retry', jids: ['x'] }, /state must be one of dead, retry/],
      [{ queue: q, state: 'dead', action: 'zap', jids: ['x'] }, /action must be one of retry, delete/],
      [{ queue: q, state: 'dead', action: 'retry' }, /either jids \(a list\) or all \(a filter\), not neither/],
      [{ queue: q, state: 'dead', action: 'retry', jids: [] }, /jids must be a list of 1 to 1000/],
      [{ queue: q, state: 'dead', action: 'retry', jids: ['x'], extra: 1 }, /Unknown field 'extra'/],
      [{ queue: 'nope', state: 'dead', action: 'retry', jids: ['x'] }, /No queue 'nope'/],
    ] as const) {
      const answer = await client.request('POST', '/api/jobs/bulk', { body });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.error.message).toMatch(message);
    }
  });

  it('searches by jid, by text in the arguments and by worker class, reading at most SCAN_MAX jobs per request', async () => {
    const q = fresh();
    const count = SCAN_MAX + 600;
    await failJobs(q, Array.from({ length: count }, (_, i) => ({ jid: `j${i}`, class: i % 2 === 0 ? 'Mailer' : 'Billing', args: { user: i, tag: i % 100 === 7 ? 'vip' : 'std' } })), 'dead');
    const client = await serve();
    const byJid = await client.get(`/api/jobs?queue=${q}&state=ready&jid=j42`);
    expect(byJid.body).toMatchObject({ state: 'dead', search: { jid: 'j42', found: true }, jobs: [{ jid: 'j42', payload: { class: 'Mailer' } }] });
    expect((await client.get(`/api/jobs?queue=${q}&jid=nope`)).body).toMatchObject({ state: null, jobs: [], search: { found: false } });

    // vip jobs are i = 7, 107, 207, … (all odd: Billing); the dead set lists the newest (highest i) first.
    const first = await client.get(`/api/jobs?queue=${q}&state=dead&q=vip&limit=100`);
    expect(first.body.scan).toMatchObject({ from: 0, scanned: SCAN_MAX, bound: SCAN_MAX, text: 'vip' });
    const expectedFirst = Array.from({ length: count }, (_, i) => count - 1 - i).slice(0, SCAN_MAX).filter((i) => i % 100 === 7).map((i) => `j${i}`);
    expect(first.body.jobs.map((j: { jid: string }) => j.jid)).toEqual(expectedFirst);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await client.get(`/api/jobs?queue=${q}&state=dead&q=vip&limit=100&cursor=${first.body.nextCursor}`);
    expect(second.body.scan).toMatchObject({ from: SCAN_MAX, scanned: 600 });
    expect(second.body.nextCursor).toBeNull();
    expect(first.body.jobs.length + second.body.jobs.length).toBe(Array.from({ length: count }, (_, i) => i).filter((i) => i % 100 === 7).length);

    const mailers = await client.get(`/api/jobs?queue=${q}&state=dead&class=Mailer&limit=10`);
    expect(mailers.body.jobs).toHaveLength(10);
    expect(mailers.body.jobs.every((j: { payload: { class: string } }) => j.payload.class === 'Mailer')).toBe(true);
    expect(mailers.body.scan.scanned).toBe(20); // stops once it has a page: newest first (j2599, a Billing), every other one a Mailer
    expect((await client.get(`/api/jobs?queue=${q}&state=dead&class=Billing&q=vip`)).body.jobs.length).toBe(expectedFirst.length);
  });

  it('acts on every job matching a filter in bounded steps, continuing from the cursor it answers with', async () => {
    const q = fresh();
    const count = SCAN_MAX + 500;
    await failJobs(q, Array.from({ length: count }, (_, i) => ({ jid: `m${i}`, class: i % 3 === 0 ? 'Mailer' : 'Other', args: { i } })), 'dead');
    const client = await serve();
    const steps: { done: number; scanned: number; nextCursor: string | null }[] = [];
    let cursor: string | undefined;
    do {
      const answer = await client.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'delete', all: { class: 'Mailer', ...(cursor ? { cursor } : {}) } } });
      expect(answer.status).toBe(200);
      steps.push(answer.body);
      cursor = answer.body.nextCursor ?? undefined;
    } while (cursor);
    expect(steps.length).toBe(2);
    expect(steps[0]!.scanned).toBe(SCAN_MAX);
    const mailers = Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 === 0).length;
    expect(steps.reduce((sum, s) => sum + s.done, 0)).toBe(mailers);
    expect(await app.store.queueSizes(q)).toMatchObject({ dead: count - mailers });
    const left = await app.store.jobList({ queue: q, state: 'dead', offset: 0, limit: count });
    expect(left.every((j) => JSON.parse(j.raw).class === 'Other')).toBe(true);
    // Without a filter, "all" is the whole set.
    const all = await client.request('POST', '/api/jobs/bulk', { body: { queue: q, state: 'dead', action: 'retry', all: {} } });
    expect(all.body).toMatchObject({ done: count - mailers, nextCursor: null });
    expect(await app.store.queueSizes(q)).toMatchObject({ dead: 0, ready: count - mailers });
  });

  it('shows a running job\'s progress in its details, and per-minute history read from the store by any dashboard', async () => {
    const q = fresh();
    const client = await serve();
    await app.store.jobPush({ queue: q, jid: 'p1', raw: JSON.stringify({ jid: 'p1', class: 'Echo', args: {}, created_at: Date.now() / 1000 }), nowMs: Date.now() });
    await app.store.jobFetch({ queue: q, count: 1, token: 't', leaseMs: 60_000, nowMs: Date.now() });
    await app.store.jobProgress({ queue: q, jid: 'p1', value: '{"done":3,"total":4}', nowMs: Date.now() });
    expect((await client.get(`/api/jobs/p1?queue=${q}`)).body).toMatchObject({ jid: 'p1', state: 'active', progress: { done: 3, total: 4 }, attempts: 1 });
    expect((await client.get(`/api/jobs/nope?queue=${q}`)).status).toBe(404);

    const before = (await client.get('/api/history?minutes=5')).body;
    expect(before.minutes).toHaveLength(5);
    expect(before.retentionMinutes).toBe(1440);
    await app.store.jobAck({ queue: q, token: 't', nowMs: Date.now(), jobs: [{ jid: 'p1' }] });
    const last = (body: { minutes: { t: number; processed: number }[] }): number => body.minutes.at(-1)!.processed;
    const other = await serve(); // a dashboard started later reads the same counts: they are in the store
    const after = (await other.get('/api/history?minutes=5')).body;
    expect(last(after) - last(before)).toBe(1);
    expect(after.minutes.at(-1).t % MINUTE_MS).toBe(0);
    expect((await client.get('/api/history?minutes=5000')).status).toBe(400);
  });

  describe('lagless dashboard without --app', () => {
    let child: ChildProcess | undefined;
    afterAll(() => void child?.kill('SIGKILL'));

    it('says flags are not configured and refuses flag changes instead of showing this process\'s own defaults', async () => {
      const port = await freePort();
      const cwd = mkdtempSync(join(tmpdir(), 'lagless-noflags-'));
      child = spawn(process.execPath, ['--import', TSX, MAIN, 'dashboard', '--redis', redis.url, '--prefix', prefix, '--port', String(port)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitFor(async () => out.includes('Dashboard:'), 20_000);
      expect(out).toMatch(/flags: not configured \(no lagless.config file\)/);
      const client = await new DashboardClient(`http://127.0.0.1:${port}`).open();
      expect((await client.get('/api/flags')).body).toMatchObject({ configured: false, hint: expect.stringMatching(/lagless.config/) });
      const change = await client.request('POST', '/api/flags/some_flag', { body: { value: true } });
      expect(change.status).toBe(409);
      expect(change.body.error.message).toMatch(/Feature flags are not configured here/);
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));

      const bad = await new Promise<{ stderr: string; code: number }>((resolve) =>
        execFile(process.execPath, ['--import', TSX, MAIN, 'dashboard', '--redis', redis.url, '--env', 'production', '--port', String(port)], { cwd }, (error, _stdout, stderr) => resolve({ stderr, code: error ? 1 : 0 })),
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--env production needs a lagless.config/);
    }, 60_000);
  });
});
