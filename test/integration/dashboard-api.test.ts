import { request as httpRequest } from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type DashboardOptions, type LaglessApp } from '../../src/index.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';
import { DashboardClient, flagDefinitionsDir, listen } from '../support/dashboard-client.js';

const TOKEN = 'test-token-0123456789abcdef';
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

describe('dashboard JSON API', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `dash${randomBytes(3).toString('hex')}`;
  const closers: Array<() => Promise<void> | void> = [];

  /** A dashboard with these options on the shared app, served on its own port. */
  async function serve(options: DashboardOptions = {}): Promise<DashboardClient> {
    const dashboard = new Dashboard(app, options);
    const served = await listen(dashboard.handler);
    closers.push(() => dashboard.close(), served.close);
    return new DashboardClient(served.base).open();
  }

  const fresh = (): string => `q${randomBytes(3).toString('hex')}`;

  /** Push a job and move it to the dead (or retry) set, as a failing worker would. */
  async function failJob(queue: string, jid: string, to: 'dead' | 'retry', extra: Record<string, unknown> = {}): Promise<void> {
    const raw = JSON.stringify({ jid, class: 'Echo', args: { note: '<script>alert(1)</script>' }, created_at: Date.now() / 1000, error_class: 'Error', error_message: 'boom', ...extra });
    await app.store.jobPush({ queue, jid, raw, nowMs: Date.now() });
    const [fetched] = await app.store.jobFetch({ queue, count: 1, token: 't', leaseMs: 60_000, nowMs: Date.now() });
    expect(fetched?.jid).toBe(jid);
    const later = { queue, jid, token: 't', raw, nowMs: Date.now(), runAtMs: Date.now() + (to === 'retry' ? 3_600_000 : 0) };
    expect(to === 'dead' ? (await app.store.jobDead(later)).moved : await app.store.jobRetry({ ...later, kind: 'retry' })).toBe(true);
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({
      redis: { url: redis.url, prefix },
      logger: false,
      flags: { definitions: flagDefinitionsDir(), environment: 'production', environments: ['staging'] },
    });
    app.defineWorker({ name: 'Echo', queue: 'mail', perform: () => undefined });
    app.defineWorker({ name: 'Refresh', queue: 'media', idempotent: true, idempotencyArgs: (args: { userId: number }) => ({ userId: args.userId }), perform: () => undefined });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await app.close();
    await redis.stop();
  });

  describe('reads', () => {
    it('GET /api/queues: sizes, running totals and latency of every queue', async () => {
      const client = await serve();
      await app.enqueue('Echo', { n: 1 });
      const { status, body } = await client.get('/api/queues');
      expect(status).toBe(200);
      expect(body.queues).toContainEqual(expect.objectContaining({ queue: 'mail', ready: 1, dead: 0, inFlight: 0, processed: 0, failed: 0, latencyS: expect.any(Number) }));
    });

    it('GET /api/jobs: pages through a state with opaque cursors; payloads parsed, malformed ones raw', async () => {
      const client = await serve();
      const q = fresh();
      for (let i = 0; i < 5; i++) await failJob(q, `d${i}`, 'dead');
      await app.store.jobPush({ queue: q, jid: 'bad1', raw: '{"jid":"bad1",', nowMs: Date.now() });
      await app.store.jobFetch({ queue: q, count: 1, token: 't', leaseMs: 60_000, nowMs: Date.now() });
      await app.store.jobDead({ queue: q, jid: 'bad1', token: 't', raw: '{"jid":"bad1",', nowMs: Date.now(), runAtMs: Date.now() + 10 });

      const first = await client.get(`/api/jobs?queue=${q}&state=dead&limit=4`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ queue: q, state: 'dead', total: 6, offset: 0, limit: 4, nextCursor: expect.any(String) });
      expect(first.body.jobs[0]).toEqual({ jid: 'bad1', score: expect.any(Number), payload: null, raw: '{"jid":"bad1",' });
      expect(first.body.jobs[1].payload).toMatchObject({ class: 'Echo', args: { note: '<script>alert(1)</script>' }, error_message: 'boom' });
      const second = await client.get(`/api/jobs?queue=${q}&state=dead&limit=4&cursor=${first.body.nextCursor}`);
      expect(second.body).toMatchObject({ offset: 4, nextCursor: null });
      const seen = [...first.body.jobs, ...second.body.jobs].map((job: { jid: string }) => job.jid);
      expect(new Set(seen).size).toBe(6);
      expect((await client.get(`/api/jobs?queue=${q}`)).body).toMatchObject({ state: 'ready', total: 0, jobs: [] });
    });

    it('GET /api/jobs: rejects bad input with a message naming the parameter', async () => {
      const client = await serve();
      const cases: Array<[string, number, RegExp]> = [
        ['/api/jobs?queue=mail&state=zombie', 400, /state 'zombie' is not one of ready, scheduled, retry, dead, active/],
        ['/api/jobs?queue=mail&cursor=bm9wZQ', 400, /cursor 'bm9wZQ' is not one this API handed out/],
        ['/api/jobs?queue=mail&limit=1000', 400, /limit '1000' must be a whole number from 1 to 100/],
        ['/api/jobs?queue=mail&limit=-1', 400, /limit/],
        ['/api/jobs?queue=%7Bmail%7D', 400, /queue '\{mail\}' is not a queue name/],
        ['/api/jobs?queue=nowhere', 404, /No queue 'nowhere'. Known queues: .*mail/],
      ];
      for (const [path, status, message] of cases) {
        const answer = await client.get(path);
        expect(answer.status, path).toBe(status);
        expect(answer.body.error.message, path).toMatch(message);
      }
    });

    it('GET /api/jobs stays fast with 1,000,000 jobs in a set and in the ready list', async () => {
      const client = await serve();
      const q = 'million';
      const keys = new RedisKeys(prefix).queue(q);
      const direct = new Redis(redis.url);
      try {
        // Seeded inside Redis: a million pushes through the API would take the whole test budget.
        await direct.eval(
          `for i = 1, tonumber(ARGV[1]) do
             local jid = 'j' .. i
             redis.call('ZADD', KEYS[1], i, jid)
             redis.call('HSET', KEYS[2], jid, '{"jid":"' .. jid .. '","class":"Bulk","args":{"i":' .. i .. '},"created_at":1}')
           end
           local batch = {}
           for i = 1, tonumber(ARGV[1]) do
             batch[#batch + 1] = '{"jid":"r' .. i .. '","class":"Bulk","args":{},"created_at":1}'
             if #batch == 1000 then redis.call('LPUSH', KEYS[3], unpack(batch)); batch = {} end
           end
           return 1`,
          3,
          keys.dead,
          keys.jobs,
          keys.ready,
          1_000_000,
        );
        await direct.sadd(new RedisKeys(prefix).queues(), q);
      } finally {
        direct.disconnect();
      }
      const cursor = (offset: number): string => Buffer.from(`r${offset}`).toString('base64url');
      const timed = async (path: string): Promise<{ ms: number; body: { total: number; jobs: Array<{ jid: string }> } }> => {
        const started = performance.now();
        const { status, body } = await client.get(path);
        expect(status).toBe(200);
        return { ms: performance.now() - started, body };
      };
      await timed(`/api/jobs?queue=${q}&state=dead`); // warm up the connection
      const firstDead = await timed(`/api/jobs?queue=${q}&state=dead`);
      const deepDead = await timed(`/api/jobs?queue=${q}&state=dead&cursor=${cursor(999_975)}`);
      expect(firstDead.body.total).toBe(1_000_000);
      expect(firstDead.body.jobs[0]!.jid).toBe('j1000000'); // newest death first
      expect(deepDead.body.jobs.map((job) => job.jid)).toEqual(Array.from({ length: 25 }, (_, i) => `j${25 - i}`));
      const middleReady = await timed(`/api/jobs?queue=${q}&state=ready&cursor=${cursor(500_000)}`);
      expect(middleReady.body.jobs[0]!.jid).toBe('r500001'); // head first: the first pushed is the first fetched
      // A page is one ZRANGE by rank (O(log N + page)) or one LRANGE: milliseconds, not a scan of the set.
      expect(deepDead.ms).toBeLessThan(250);
      expect(middleReady.ms).toBeLessThan(250);
    }, 60_000);

    it('GET /api/dedup and /api/dedup/key: keys per queue, deduplicating workers, one key looked up', async () => {
      const client = await serve();
      const first = await app.enqueue('Refresh', { userId: 7, at: 1 });
      expect((await app.enqueue('Refresh', { userId: 7, at: 2 })).deduplicated).toBe(true);
      const { body } = await client.get('/api/dedup');
      expect(body.queues).toContainEqual({ queue: 'media', dedupKeys: 1, deduplicated: 1, rescheduled: 0 });
      expect(body.workers).toEqual([expect.objectContaining({ worker: 'Refresh', queue: 'media', strategy: 'until_executing', idempotent: true })]);
      const lookup = await client.get(`/api/dedup/key?worker=Refresh&args=${encodeURIComponent('{"userId":7}')}`);
      expect(lookup.body).toMatchObject({ queue: 'media', held: true, cookie: { ownerJid: first.jid, absorbed: 1 } });
      expect((await client.get('/api/dedup/key?worker=Nope&args={}')).status).toBe(404);
      expect((await client.get('/api/dedup/key?worker=Echo&args={}')).body.error.message).toMatch(/does not deduplicate/);
      expect((await client.get('/api/dedup/key?worker=Refresh&args={oops')).body.error.message).toMatch(/args must be the job arguments as JSON/);
    });

    it('GET /api/databases: "not configured" until the app has databases, then every host with its health', async () => {
      const client = await serve();
      expect((await client.get('/api/databases')).body).toMatchObject({ configured: false, hint: expect.stringMatching(/databases: \{ main:/) });
      const withDb = createLagless({ logger: false, databases: { main: { primary: 'postgres://postgres@127.0.0.1:1/none', replicas: ['postgres://postgres@127.0.0.1:2/none'] } } });
      const dashboard = new Dashboard(withDb);
      const served = await listen(dashboard.handler);
      try {
        await waitFor(() => withDb.databases!.balancer('main').replicas[0]!.isOnline === false, 10_000, 'the unreachable replica to be marked offline');
        const { body } = await new DashboardClient(served.base).get('/api/databases');
        expect(body).toMatchObject({ configured: true, decisions: {} });
        expect(body.databases[0].name).toBe('main');
        expect(body.databases[0].hosts).toEqual([
          expect.objectContaining({ host: '127.0.0.1:1', role: 'primary', lagBytes: null }),
          expect.objectContaining({ host: '127.0.0.1:2', role: 'replica', online: false, offlineReason: 'connection_error', startedAt: null, error: expect.any(String) }),
        ]);
      } finally {
        dashboard.close();
        await served.close();
        await withDb.close();
      }
    });

    it('GET /api/flags and /api/flags/:name: definitions with metadata, gates per environment, history', async () => {
      const client = await serve();
      const { body } = await client.get('/api/flags');
      expect(body).toMatchObject({ configured: true, environment: 'production', environments: ['production', 'staging'], env: 'production' });
      const flag = body.flags.find((f: { name: string }) => f.name === 'dash_rollout');
      expect(flag).toMatchObject({ state: 'off', gates: null, definition: { type: 'beta', group: 'group::checkout', milestone: '1.2', rolloutIssueUrl: 'https://example.com/issues/7' }, environments: { production: { state: 'off' }, staging: { state: 'off' } } });
      expect(flag.definition.source).toBeUndefined();
      const one = await client.get('/api/flags/dash_rollout?env=staging');
      expect(one.body).toMatchObject({ name: 'dash_rollout', environment: 'staging', history: [] });
      expect((await client.get('/api/flags/Not-A-Flag')).body.error.message).toMatch(/is not a flag name: flags are snake_case/);
      expect((await client.get('/api/flags/never_defined')).status).toBe(404);
      expect((await client.get('/api/flags?env=moon')).body.error.message).toMatch(/env 'moon' is not a configured environment \(production, staging\)/);
    });

    it('serves /metrics with the app registry and store-wide queue gauges, unless disabled', async () => {
      const client = await serve();
      const text = (await client.get('/metrics')).body as string;
      expect(text).toMatch(/lagless_queue_jobs\{queue="mail",state="ready"\} \d+/);
      expect(text).toMatch(/lagless_queue_oldest_job_age_seconds\{queue="mail"\}/);
      expect(text).toContain('lagless_jobs_enqueued_total');
      expect((await (await serve({ metrics: false })).get('/metrics')).status).toBe(404);
    });

    it('streams a history event, then samples, over server-sent events', async () => {
      const client = await serve({ sampleIntervalMs: 100 });
      const res = await fetch(`${client.base}/api/stream`);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      while (!/event: sample/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      const history = JSON.parse(/event: history\ndata: (.*)\n/.exec(text)![1]!);
      expect(history[0]).toMatchObject({ t: expect.any(Number), queues: expect.any(Array), hosts: [], strategies: {} });
      expect(history[0].queues[0]).toHaveProperty('rates');
    });

    it('says in the samples when the store stops answering, and recovers when it is back', async () => {
      const own = await startRedisServer({ durable: true }); // the queue survives the restart
      const lone = createLagless({ redis: { url: own.url, prefix: 'down' }, logger: false, dashboard: { sampleIntervalMs: 100 } });
      await lone.store.jobPush({ queue: 'q', jid: 'a', raw: '{"jid":"a","class":"X","args":{},"created_at":1}', nowMs: Date.now() });
      const served = await listen(lone.dashboard.handler);
      const res = await fetch(`${served.base}/api/stream`);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      const nextSample = async (): Promise<{ error?: string; queues: unknown[] }> => {
        for (;;) {
          const match = /event: sample\ndata: (.*)\n\n/.exec(buffer);
          if (match) {
            buffer = buffer.slice(match.index + match[0].length);
            return JSON.parse(match[1]!);
          }
          buffer += decoder.decode((await reader.read()).value);
        }
      };
      try {
        expect((await nextSample()).queues).toHaveLength(1);
        await own.kill();
        let sample = await nextSample();
        while (!sample.error) sample = await nextSample();
        expect(sample).toMatchObject({ queues: [], error: expect.stringMatching(/^job store unreachable: /) });
        await own.start();
        while (sample.error) sample = await nextSample();
        expect(sample.queues).toHaveLength(1);
      } finally {
        await reader.cancel();
        await served.close();
        await lone.close();
        await own.stop();
      }
    }, 30_000);

    it('serves pages with a strict CSP and escapes what it writes; 404 and 405 say what exists', async () => {
      const client = await serve();
      const page = await client.get('/jobs');
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.body).toMatch(/<base href="\/">/);
      expect(page.body).not.toMatch(/<script>(?!<\/)/);
      expect((await client.get('/assets/uplot.js')).headers.get('content-type')).toMatch(/javascript/);
      expect((await client.get('/assets/..%2F..%2Fpackage.json')).status).toBe(404);
      expect((await client.get('/nope')).body.error.message).toMatch(/pages: \/ \/jobs/);
      const wrong = await client.request('PUT', '/api/queues');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET');
    });
  });

  describe('mounting', () => {
    it('under a basePath (node:http, Fastify): serves below it, ignores the rest', async () => {
      const dashboard = new Dashboard(app, { basePath: '/ops/lagless' });
      const served = await listen(dashboard.handler);
      closers.push(() => dashboard.close(), served.close);
      const client = new DashboardClient(served.base);
      expect((await client.get('/ops/lagless/api/queues')).status).toBe(200);
      expect((await client.get('/ops/lagless')).body).toMatch(/<base href="\/ops\/lagless\/">/);
      expect((await client.get('/ops/laglessX/api/queues')).status).toBe(404);
      expect((await client.get('/api/queues')).status).toBe(404);
    });

    it('under Express (req.baseUrl, stripped url): links follow the mount, unknown paths go to next()', async () => {
      const dashboard = new Dashboard(app);
      let nexted = 0;
      // What express does for app.use('/admin/jobs', handler): strip the mount path, keep it in baseUrl.
      const served = await listen((req, res) => {
        const url = req.url ?? '/';
        if (!url.startsWith('/admin/jobs')) return void res.writeHead(404).end('app 404');
        Object.assign(req, { originalUrl: url, baseUrl: '/admin/jobs', url: url.slice('/admin/jobs'.length) || '/' });
        dashboard.handler(req, res, () => {
          nexted++;
          res.writeHead(404).end('next');
        });
      });
      closers.push(() => dashboard.close(), served.close);
      const client = new DashboardClient(served.base);
      expect((await client.get('/admin/jobs/flags')).body).toMatch(/<base href="\/admin\/jobs\/">/);
      expect((await client.get('/admin/jobs/api/queues')).status).toBe(200);
      expect((await client.get('/admin/jobs/other')).body).toBe('next');
      expect(nexted).toBe(1);
      const session = await new DashboardClient(served.base).request('GET', '/admin/jobs/api/session');
      expect(session.headers.get('set-cookie')).toMatch(/Path=\/admin\/jobs; HttpOnly; SameSite=Strict/);
    });
  });

  describe('changes: auth, CSRF, read-only, validation', () => {
    it('without a token or authorize function, refuses every change', async () => {
      const client = await serve();
      const q = fresh();
      await failJob(q, 'nochange', 'dead');
      const answer = await client.request('POST', `/api/jobs/nochange/retry?queue=${q}`);
      expect(answer.status).toBe(403);
      expect(answer.body.error.message).toMatch(/Changes are disabled: configure a token \(--token or LAGLESS_DASHBOARD_TOKEN\) or an authorize function/);
      expect((await client.get('/api/session')).body).toMatchObject({ access: 'disabled' });
    });

    it('read-only refuses changes even with the token', async () => {
      const client = await serve({ token: TOKEN, readOnly: true });
      const answer = await client.request('POST', '/api/flags/dash_rollout', { body: { value: true }, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('READ_ONLY');
    });

    it('with a token: bearer for scripts, a signed-in session plus CSRF token for browsers', async () => {
      const client = await serve({ token: TOKEN });
      const q = fresh();
      await failJob(q, 'tok1', 'dead');
      await failJob(q, 'tok2', 'retry');
      const retry = (jid: string, options: Parameters<DashboardClient['request']>[2] = {}) => client.request('POST', `/api/jobs/${jid}/retry?queue=${q}`, options);

      expect((await retry('tok1')).body.error.message).toMatch(/Sign in with the dashboard token first/);
      expect((await retry('tok1', { headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
      const viaBearer = await retry('tok1', { csrf: false, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(viaBearer).toMatchObject({ status: 200, body: { retried: true, queue: q, jid: 'tok1', from: 'dead' } });
      expect((await retry('tok1', { headers: { authorization: `Bearer ${TOKEN}` } })).body.error.message).toMatch(/No dead or retry job 'tok1' in queue 'q/);

      expect((await client.request('POST', '/api/session', { body: { token: 'not-the-token-00000000' } })).status).toBe(401);
      expect((await client.request('POST', '/api/session', { body: { token: TOKEN }, csrf: false })).body.error.code).toBe('CSRF');
      expect((await client.request('POST', '/api/session', { body: { token: TOKEN } })).body).toEqual({ signedIn: true });
      expect((await client.get('/api/session')).body).toMatchObject({ access: 'token', signedIn: true });
      expect((await retry('tok2', { csrf: false })).body.error.code).toBe('CSRF');
      expect((await retry('tok2', { headers: { 'x-csrf-token': 'forged' } })).body.error.code).toBe('CSRF');
      expect((await retry('tok2', { headers: { origin: 'https://evil.example' } })).body.error.code).toBe('CROSS_SITE');
      expect((await retry('tok2', { headers: { 'sec-fetch-site': 'cross-site' } })).body.error.code).toBe('CROSS_SITE');
      expect(await retry('tok2', { headers: { origin: client.base, 'sec-fetch-site': 'same-origin' } })).toMatchObject({ status: 200, body: { from: 'retry' } });

      await client.request('DELETE', '/api/session');
      expect((await client.get('/api/session')).body.signedIn).toBe(false);
    });

    it('validates job actions: jid, queue, state', async () => {
      const client = await serve({ token: TOKEN });
      const bearer = { authorization: `Bearer ${TOKEN}` };
      const cases: Array<[string, string, number, RegExp]> = [
        ['POST', '/api/jobs/bad%20jid!/retry?queue=mail', 400, /Job id 'bad jid!' is not a jid/],
        ['POST', '/api/jobs/abc/retry', 400, /queue \(query parameter\) is required/],
        ['POST', '/api/jobs/abc/retry?queue=mail&state=ready', 400, /state 'ready' is not one of dead, retry for this action/],
        ['DELETE', '/api/jobs/abc?queue=mail&state=active', 400, /not one of dead, retry, scheduled/],
        ['DELETE', '/api/jobs/abc?queue=ghost', 404, /No queue 'ghost'/],
        ['DELETE', '/api/jobs/abc?queue=mail', 404, /No dead or retry or scheduled job 'abc'/],
      ];
      for (const [method, path, status, message] of cases) {
        const answer = await client.request(method, path, { headers: bearer });
        expect(answer.status, path).toBe(status);
        expect(answer.body.error.message, path).toMatch(message);
      }
      const q = fresh();
      await failJob(q, 'gone1', 'dead');
      expect((await client.request('DELETE', `/api/jobs/gone1?queue=${q}&state=dead`, { headers: bearer })).body).toEqual({ deleted: true, queue: q, jid: 'gone1', from: 'dead' });
      expect(await app.store.queueSizes(q)).toMatchObject({ dead: 0, ready: 0 });
    });

    it('POST /api/flags/:name: through app.flags with its validation; records who, in the audit history', async () => {
      const client = await serve({ token: TOKEN });
      const set = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => client.request('POST', '/api/flags/dash_rollout', { body, headers });

      const changed = await set({ value: { percentageOfActors: 25 }, by: 'Ada Lovelace' });
      expect(changed.status).toBe(200);
      expect(changed.body.change).toMatchObject({ environment: 'production', action: 'percentage_of_actors', by: 'Ada Lovelace (dashboard)', newGates: { percentageOfActors: 25 } });
      expect((await app.flags.get('dash_rollout')).gates).toMatchObject({ percentageOfActors: 25 });
      expect((await set({ value: true, actors: ['User:1', 'User:2'], env: 'staging', by: 'ops' })).body.change).toMatchObject({ environment: 'staging', action: 'enable_actors', newGates: { actors: ['User:1', 'User:2'] } });
      expect((await set({ value: false })).body.change).toMatchObject({ action: 'disable', by: 'anonymous (dashboard)' });
      const history = (await client.get('/api/flags/dash_rollout')).body.history;
      expect(history.map((entry: { action: string; by: string }) => [entry.action, entry.by])).toEqual([
        ['disable', 'anonymous (dashboard)'],
        ['percentage_of_actors', 'Ada Lovelace (dashboard)'],
      ]);

      const bad: Array<[unknown, number, RegExp]> = [
        [{ value: { percentageOfActors: 101 } }, 400, /percentage of actors must be between 0 and 100, got 101/],
        [{ value: { percentageOfTime: 1.2345 } }, 400, /has more than 3 decimals/],
        [{ value: '25' }, 400, /value must be true, false, \{ percentageOfActors \}/],
        [{}, 400, /value is required/],
        [{ value: { percentageOfActors: 5 }, actors: ['User:1'] }, 400, /actors goes with value true .* or false/],
        [{ value: true, actors: 'User:1' }, 400, /actors must be a list of actor ids/],
        [{ value: true, actors: ['has space'] }, 400, /must be a non-empty string without spaces/],
        [{ value: true, env: 'moon' }, 400, /env 'moon' is not a configured environment/],
        [{ value: true, by: '<script>alert(1)</script>' }, 400, /by '<script>alert\(1\)<\/script>' must be a name/],
        [{ value: true, admin: true }, 400, /Unknown field 'admin'; send \{ value, actors\?, env\?, by\? \}/],
        [[true], 400, /Send a JSON object/],
      ];
      for (const [body, status, message] of bad) {
        const answer = await set(body);
        expect(answer.status, JSON.stringify(body)).toBe(status);
        expect(answer.body.error.message, JSON.stringify(body)).toMatch(message);
      }
      expect((await client.request('POST', '/api/flags/never_defined', { body: { value: true }, headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
      const notJson = await client.request('POST', '/api/flags/dash_rollout', { raw: '{"value": tru', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
      expect(notJson.body.error.message).toMatch(/Request body is not valid JSON/);
      const wrongType = await client.request('POST', '/api/flags/dash_rollout', { raw: 'value=true', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' } });
      expect(wrongType.status).toBe(415);
      const huge = await client.request('POST', '/api/flags/dash_rollout', { raw: JSON.stringify({ value: true, by: 'x'.repeat(70_000) }), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
      expect(huge.status).toBe(413);
      expect((await app.flags.history('dash_rollout')).length).toBe(2); // none of the bad requests wrote anything
    });

    it('with an authorize function: its answer decides, and the user it names is recorded', async () => {
      let allow: boolean | string = 'grace';
      const client = await serve({ authorize: () => allow });
      expect((await client.get('/api/session')).body.access).toBe('authorize');
      const set = () => client.request('POST', '/api/flags/dash_rollout', { body: { value: { percentageOfTime: 10 }, by: 'someone else' } });
      expect((await set()).body.change.by).toBe('grace (dashboard)');
      allow = false;
      expect((await set()).body.error.message).toMatch(/authorize function refused/);
      allow = true;
      expect((await client.request('POST', '/api/flags/dash_rollout', { body: { value: { percentageOfTime: 10 } }, csrf: false })).body.error.code).toBe('CSRF');
    });

    it('loopback mode (lagless dashboard without a token): this machine may change things, with the CSRF token', async () => {
      const client = await serve({ allowLoopbackMutations: true });
      const q = fresh();
      await failJob(q, 'loop1', 'dead');
      expect((await client.get('/api/session')).body.access).toBe('loopback');
      expect((await client.request('POST', `/api/jobs/loop1/retry?queue=${q}`, { csrf: false })).status).toBe(403);
      expect((await client.request('POST', `/api/jobs/loop1/retry?queue=${q}`)).body).toMatchObject({ retried: true });
      // DNS rebinding: a page on another name re-pointed to 127.0.0.1 reaches the port with its own Host header.
      const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL('/api/session', client.base);
        const req = httpRequest({ host: '127.0.0.1', port: url.port, path: url.pathname, headers: { host: `attacker.example:${url.port}` } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(rebound.status).toBe(421);
      expect(rebound.body).toMatch(/answers only to localhost or 127.0.0.1/);
    });

    it('rejects a weak token at construction', () => {
      expect(() => new Dashboard(app, { token: 'short' })).toThrow(/Invalid dashboard option token: use at least 16 characters/);
      expect(() => createLagless({ logger: false, dashboard: { basePath: 'lagless/' } })).toThrow(/dashboard option basePath/);
    });
  });

  describe('lagless dashboard', () => {
    it('serves until SIGTERM on loopback without a token, and says so', async () => {
      const port = await freePort();
      await app.enqueue('Echo', { n: 2 });
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'dashboard', '--redis', redis.url, '--prefix', prefix, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAGLESS_DASHBOARD_TOKEN: '' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      try {
        await waitFor(() => out.includes('Dashboard:'), 20_000, 'the banner');
        expect(out).toContain(`Dashboard: http://127.0.0.1:${port}/ (no token: loopback only, changes allowed from this machine)`);
        const client = await new DashboardClient(`http://127.0.0.1:${port}`).open();
        expect((await client.get('/api/queues')).body.queues).toContainEqual(expect.objectContaining({ queue: 'mail' }));
        expect((await client.get('/api/session')).body.access).toBe('loopback');
        expect((await client.get('/')).body).toMatch(/No token configured: listening on loopback only/);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    }, 30_000);

    it('refuses to listen beyond loopback without a token, and rejects a bad port', async () => {
      const run = (...args: string[]) =>
        new Promise<{ code: number; stderr: string }>((resolve) =>
          execFile(process.execPath, ['--import', 'tsx', MAIN, 'dashboard', '--redis', redis.url, ...args], { env: { ...process.env, LAGLESS_DASHBOARD_TOKEN: '' } }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr })),
        );
      const open = await run('--host', '0.0.0.0', '--port', String(await freePort()));
      expect(open.code).toBe(1);
      expect(open.stderr).toMatch(/Refusing to listen on 0.0.0.0 without a token: .* Pass --token \(or set LAGLESS_DASHBOARD_TOKEN\), or leave --host at 127.0.0.1/);
      expect((await run('--port', '70000')).stderr).toMatch(/--port must be at most 65535/);
      expect((await run('--token', 'short', '--port', String(await freePort()))).stderr).toMatch(/token: use at least 16 characters/);
    }, 30_000);
  });
});
