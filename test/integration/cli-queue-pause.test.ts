import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

describe('lagless queues pause|resume', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `clip${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args, '--redis', redis.url, '--prefix', prefix]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('pauses a known queue, shows it in `queues` and `queues --json`, resumes it, and refuses an unknown name', async () => {
    app.defineWorker({ name: 'Report', queue: 'reports', perform: () => undefined });
    await app.enqueue('Report', {});
    const paused = await cli('queues', 'pause', 'reports');
    expect(paused).toMatchObject({ code: 0, stdout: expect.stringMatching(/Paused queue 'reports': workers stop fetching its jobs/) as unknown });
    expect(await app.store.queuePausedAt(['reports'])).toEqual([expect.any(Number)]);
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([expect.objectContaining({ queue: 'reports', ready: 1, paused: true, pausedAt: expect.any(Number) })]);
    expect((await cli('queues')).stdout).toMatch(/reports.*since \d{4}-\d\d-\d\dT/);

    const typo = await cli('queues', 'pause', 'reprots');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/No queue 'reprots'. Known queues: reports. Check the name with `lagless queues`/);
    expect(await app.store.queuePausedAt(['reprots'])).toEqual([undefined]);

    expect((await cli('queues', 'resume', 'reports')).stdout).toMatch(/Resumed queue 'reports'/);
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([expect.objectContaining({ queue: 'reports', paused: false, pausedAt: null })]);
  }, 120_000);
});
