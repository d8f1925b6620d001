import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const APP = new URL('../fixtures/cli-app.ts', import.meta.url).pathname;

describe('lagless CLI', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `cli${randomBytes(3).toString('hex')}`;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startRedisServer();
    env = { ...process.env, REDIS_URL: redis.url, PREFIX: prefix };
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('has --help on every command', async () => {
    for (const command of [[], ['worker'], ['enqueue'], ['queues'], ['queues', 'remove'], ['dead'], ['dead', 'list'], ['dead', 'retry'], ['dead', 'retry-all'], ['dedup', 'show']]) {
      const { code, stdout } = await cli(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: lagless/);
    }
  }, 60_000);

  it('enqueues a job, and rejects args that are not JSON or a worker that does not exist without pushing anything', async () => {
    const ok = await cli('enqueue', 'EchoWorker', '{"n":1}', '--app', APP);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ jid: expect.any(String), deduplicated: false });
    const notJson = await cli('enqueue', 'EchoWorker', '{n:1}', '--app', APP);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/Job arguments must be JSON, e.g. '\{"userId": 7\}'/);
    const unknown = await cli('enqueue', 'NopeWorker', '{}', '--app', APP);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Worker 'NopeWorker' is not registered/);
    const noApp = await cli('enqueue', 'EchoWorker', '{}');
    expect(noApp.stderr).toMatch(/pass --app/);
    const badPrefetch = await cli('worker', '--app', APP, '--prefetch', '-1');
    expect(badPrefetch.code).toBe(1);
    expect(badPrefetch.stderr).toMatch(/--prefetch must be a whole number >= 0; got '-1'/);
    const badWindow = await cli('worker', '--app', APP, '--unknown-worker-retry-ms', '1h');
    expect(badWindow.code).toBe(1);
    expect(badWindow.stderr).toMatch(/--unknown-worker-retry-ms must be a whole number >= 0; got '1h'/);
    expect(await app.store.queueSizes('cli')).toMatchObject({ ready: 1 });
    const sizes = await cli('queues', '--redis', redis.url, '--prefix', prefix, '--json');
    expect(JSON.parse(sizes.stdout)).toEqual([{ queue: 'cli', ready: 1, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 0, deferred: 0, paused: false, pausedAt: null }]);
  }, 60_000);

  it('runs a worker until SIGTERM, serving /metrics, and lists and retries dead jobs', async () => {
    const port = await freePort();
    await app.store.jobPush({ queue: 'cli', jid: 'broken1', raw: '{"jid":"broken1",', nowMs: Date.now() });
    const worker = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--app', APP, '--concurrency', '2', '--metrics-port', String(port)], { env, stdio: 'ignore' });
    await waitFor(async () => (await app.store.queueSizes('cli')).dead === 1 && (await app.store.queueSizes('cli')).ready === 0, 20_000);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '')).includes('lagless_jobs_completed_total'), 10_000);
    worker.kill('SIGTERM');
    expect(await new Promise((resolve) => worker.once('exit', resolve))).toBe(0);

    const list = await cli('dead', 'list', '--queue', 'cli', '--redis', redis.url, '--prefix', prefix);
    expect(JSON.parse(list.stdout)).toMatchObject({ jid: 'broken1', error_class: 'MalformedPayloadError', raw_payload: '{"jid":"broken1",' });
    expect((await cli('dead', 'retry', 'nope', '--queue', 'cli', '--redis', redis.url, '--prefix', prefix)).stderr).toMatch(/No dead job 'nope'/);
    expect((await cli('dead', 'retry', 'broken1', '--queue', 'cli', '--redis', redis.url, '--prefix', prefix)).stdout).toMatch(/Retrying broken1/);
    expect(await app.store.queueSizes('cli')).toMatchObject({ dead: 0, ready: 1 });
    await app.store.jobFetch({ queue: 'cli', count: 1, token: 't', leaseMs: 1000, nowMs: Date.now() });
    await app.store.jobDead({ queue: 'cli', jid: 'broken1', token: 't', raw: '{}', nowMs: Date.now(), runAtMs: Date.now() });
    expect((await cli('dead', 'retry-all', '--queue', 'cli', '--redis', redis.url, '--prefix', prefix)).stdout).toMatch(/Retrying 1 job/);
  }, 60_000);

  it('registers no queue on a failed call, and removes a queue only once it holds no job', async () => {
    const on = ['--redis', redis.url, '--prefix', prefix];
    const listed = async () => (JSON.parse((await cli('queues', ...on, '--json')).stdout) as { queue: string }[]).map((row) => row.queue);
    const typo = await cli('dead', 'retry', 'xyz', '--queue', 'typo', ...on);
    expect(typo.code).toBe(1);
    expect(await listed()).not.toContain('typo');

    await app.store.jobPush({ queue: 'drained', jid: 'd1', raw: '{"jid":"d1","class":"W","args":{},"created_at":1}', nowMs: Date.now() });
    const refused = await cli('queues', 'remove', 'drained', ...on);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Queue 'drained' still holds 1 ready job\(s\); nothing was removed/);
    expect(await listed()).toContain('drained');
    await app.store.jobFetch({ queue: 'drained', count: 1, token: 't', leaseMs: 1000, nowMs: Date.now() });
    await app.store.jobAck({ queue: 'drained', token: 't', nowMs: Date.now(), jobs: [{ jid: 'd1' }] });
    const removed = await cli('queues', 'remove', 'drained', ...on);
    expect(removed).toMatchObject({ code: 0, stdout: "Removed queue 'drained'.\n" });
    expect(await listed()).not.toContain('drained');
    const unknown = await cli('queues', 'remove', 'drained', ...on);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No queue 'drained'. Known queues: /);
  }, 60_000);

  it('lists dead jobs as JSON with the backtrace of their error', async () => {
    const Doomed = app.defineWorker({ name: 'DoomedWorker', queue: 'doomed', retry: false, perform: () => Promise.reject(new RangeError('out of range')) });
    const { jid } = await Doomed.enqueue({ n: 1 });
    const worker = app.worker({ queues: ['doomed'] });
    await worker.start();
    await waitFor(async () => (await app.store.queueSizes('doomed')).dead === 1);
    await worker.stop();
    const list = await cli('dead', 'list', '--queue', 'doomed', '--json', '--redis', redis.url, '--prefix', prefix);
    const [dead] = JSON.parse(list.stdout) as { jid: string; died_at: string; payload: Record<string, unknown>; raw: string | null }[];
    expect(dead).toMatchObject({ jid, died_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), raw: null, payload: { class: 'DoomedWorker', error_class: 'RangeError', error_message: 'out of range' } });
    expect((dead!.payload.error_backtrace as string[])[0]).toMatch(/^at (Object\.)?perform \(.*cli\.test\.ts:\d+:\d+\)$/);
  }, 60_000);

  it('shows a dedup key with its owner, TTL and absorbed count', async () => {
    const owner = await cli('enqueue', 'RefreshWorker', '{"userId":7,"reason":"a"}', '--app', APP);
    await cli('enqueue', 'RefreshWorker', '{"reason":"b","userId":7}', '--app', APP);
    const shown = JSON.parse((await cli('dedup', 'show', 'RefreshWorker', '{"userId":7}', '--app', APP)).stdout);
    expect(shown).toMatchObject({ queue: 'cli', idempotency_string: 'RefreshWorker:{"userId":7}', held: true, owner_jid: JSON.parse(owner.stdout).jid, absorbed: 1, strategy: 'until_executing' });
    expect(shown.ttl_ms).toBeGreaterThan(6 * 3600 * 1000 - 60_000);
    const sizes = JSON.parse((await cli('queues', '--app', APP, '--json')).stdout);
    expect(sizes[0]).toMatchObject({ queue: 'cli', dedupKeys: 1 });
  }, 60_000);
});
