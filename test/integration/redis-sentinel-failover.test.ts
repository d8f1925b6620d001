import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../../src/sandbox/redis-sentinel.js';
import { waitFor } from '../helpers/log-capture.js';
import { runFailover } from '../support/failover-run.js';

describe('Redis Sentinel failover under load', () => {
  let sentinel: RedisSentinelHandle;
  const apps: LaglessApp[] = [];

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ downAfterMs: 1000 });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await sentinel?.stop();
  });

  it('follows the sentinels to the promoted replica; enqueuers and workers go on; no durableEnqueue-acknowledged job is lost', async () => {
    const prefix = `so${randomBytes(3).toString('hex')}`;
    const open = (durable: boolean): LaglessApp => {
      const app = createLagless({
        redis: { sentinels: sentinel.sentinels, name: sentinel.name, prefix, enqueueTimeoutMs: 15_000, commandTimeoutMs: 15_000, ...(durable ? { durableEnqueue: { replicas: 1, timeoutMs: 100 } } : {}) },
        logger: false,
      });
      apps.push(app);
      return app;
    };
    const result = await runFailover({
      queues: ['sa', 'sb'],
      durable: open(true),
      plain: open(false),
      failover: async () => {
        await sentinel.primary.kill();
        await waitFor(async () => (await sentinel.currentPrimaryPort()) === sentinel.replica.port, 20_000, 'the sentinels to promote the replica');
      },
      loadMsAfter: 3000,
    });
    console.log(`sentinel failover: ${JSON.stringify({ ...result, durableLost: result.durableLost.length, plainLost: result.plainLost.length })}`);
    expect(result.durableAcked).toBeGreaterThan(50);
    expect(result.durableLost).toEqual([]);
    // The promoted replica has no replica of its own: durable pushes are refused from then on, by a typed error.
    expect(Object.keys(result.rejected).every((code) => ['ENQUEUE_NOT_REPLICATED', 'STORE_UNAVAILABLE', 'ENQUEUE_OUTCOME_UNKNOWN'].includes(code))).toBe(true);
    expect(result.rejected.ENQUEUE_NOT_REPLICATED).toBeGreaterThan(0);
    // Few, not none: every durable push now waits out its WAIT timeout on the app's one connection, and the
    // enqueue loops alternate durable and plain pushes.
    expect(result.ackedAfterRecovery).toBeGreaterThan(5);
    expect(result.ranAfterRecovery).toBeGreaterThan(5);
  }, 90_000);
});
