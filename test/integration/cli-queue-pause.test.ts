import { describe, expect, it } from 'vitest';
import { cliOnRedis } from '../support/cli-on-redis.js';

describe('lagless queues pause|resume', () => {
  const { app, cli } = cliOnRedis();

  it('pauses a known queue, shows it in `queues` and `queues --json`, resumes it, and refuses an unknown name', async () => {
    app().defineWorker({ name: 'Report', queue: 'reports', perform: () => undefined });
    await app().enqueue('Report', {});
    const paused = await cli('queues', 'pause', 'reports');
    expect(paused).toMatchObject({ code: 0, stdout: expect.stringMatching(/Paused queue 'reports': workers stop fetching its jobs/) as unknown });
    expect(await app().store.queuePausedAt(['reports'])).toEqual([expect.any(Number)]);
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([expect.objectContaining({ queue: 'reports', ready: 1, paused: true, pausedAt: expect.any(Number) })]);
    expect((await cli('queues')).stdout).toMatch(/reports.*since \d{4}-\d\d-\d\dT/);

    const typo = await cli('queues', 'pause', 'reprots');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/No queue 'reprots'. Known queues: reports. Check the name with `lagless queues`/);
    expect(await app().store.queuePausedAt(['reprots'])).toEqual([undefined]);

    expect((await cli('queues', 'resume', 'reports')).stdout).toMatch(/Resumed queue 'reports'/);
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([expect.objectContaining({ queue: 'reports', paused: false, pausedAt: null })]);
  }, 120_000);
});
