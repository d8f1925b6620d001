import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const APP = new URL('../fixtures/cron-cli-app.ts', import.meta.url).pathname;

describe('lagless cron', () => {
  let redis: RedisServerHandle;
  let store: LaglessApp['store'];
  let app: LaglessApp;
  const prefix = `cron${randomBytes(3).toString('hex')}`;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startRedisServer();
    env = { ...process.env, REDIS_URL: redis.url, PREFIX: prefix };
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    store = app.store;
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

  it('lists schedules with expression, next run, last run and last jid, and pauses and resumes one in the store', async () => {
    await store.scheduleRecord({ name: 'nightly-report', tickMs: Date.parse('2026-03-02T02:00:00Z'), jid: 'lastjid0000000001', nowMs: Date.parse('2026-03-02T02:00:00.250Z') });
    const listed = await cli('cron', 'list', '--app', APP, '--json');
    expect(listed.code).toBe(0);
    const [nightly, cleanup] = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(nightly).toMatchObject({ name: 'nightly-report', cron: '0 3 * * *', timezone: 'Europe/Berlin', worker: 'ReportWorker', queue: 'cron-cli', enabled: true, paused: false, lastJid: 'lastjid0000000001', lastRunMs: Date.parse('2026-03-02T02:00:00.250Z') });
    // 03:00 in Berlin is 01:00 or 02:00 UTC, always in the next day.
    expect(new Date(nightly!.nextRunMs as number).getUTCHours()).toBeOneOf([1, 2]);
    expect(nightly!.nextRunMs as number).toBeGreaterThan(Date.now());
    expect(cleanup).toMatchObject({ name: 'cleanup', enabled: false, nextRunMs: null, lastJid: null });
    const table = await cli('cron', 'list', '--app', APP);
    expect(table.stdout).toMatch(/nightly-report.*0 3 \* \* \* \(Europe\/Berlin\).*active.*lastjid0000000001/);
    expect(table.stdout).toMatch(/cleanup.*disabled/);

    const paused = await cli('cron', 'pause', 'nightly-report', '--app', APP);
    expect(paused).toMatchObject({ code: 0, stdout: "Paused schedule 'nightly-report'.\n" });
    expect((await store.scheduleStates(['nightly-report']))[0]!.pausedAtMs).toEqual(expect.any(Number));
    expect(JSON.parse((await cli('cron', 'list', '--app', APP, '--json')).stdout)[0]).toMatchObject({ paused: true, nextRunMs: null });
    const resumed = await cli('cron', 'resume', 'nightly-report', '--app', APP);
    expect(resumed.code).toBe(0);
    expect((await store.scheduleStates(['nightly-report']))[0]!.pausedAtMs).toBeUndefined();
  }, 60_000);

  it('refuses an unknown schedule and a missing --app with a one-line message, writing nothing', async () => {
    const unknown = await cli('cron', 'pause', 'nope', '--app', APP);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("lagless: Schedule 'nope' is not defined by this app. Defined: 'nightly-report', 'cleanup'. Define it with app.schedule('nope', { cron, worker }) in the module passed to --app.\n");
    expect(await store.scheduleStates(['nope'])).toEqual([{}]);
    const noApp = await cli('cron', 'list', '--redis', redis.url);
    expect(noApp.code).toBe(1);
    expect(noApp.stderr).toMatch(/pass --app/);
  }, 60_000);
});
