import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { nodeCommand, startRedisCluster, type RedisClusterHandle } from '../../src/sandbox/redis-cluster.js';
import { runFailover } from '../support/failover-run.js';

describe('Redis Cluster failover under load', () => {
  let cluster: RedisClusterHandle;
  const apps: LaglessApp[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await cluster?.stop();
  });

  it('promotes the replica of a killed master; enqueuers and workers go on; no durableEnqueue-acknowledged job is lost; wake-ups follow the slot to the promoted replica', async () => {
    const prefix = `fo${randomBytes(3).toString('hex')}`;
    const open = (durable: boolean): LaglessApp => {
      const app = createLagless({
        redis: { cluster: { nodes: cluster.nodes }, prefix, enqueueTimeoutMs: 15_000, commandTimeoutMs: 15_000, ...(durable ? { durableEnqueue: { replicas: 1, timeoutMs: 100 } } : {}) },
        logger: false,
      });
      apps.push(app);
      return app;
    };
    const queues = ['fa', 'fb', 'fc', 'fd'];
    // The master serving the first queue's slot is the one killed.
    const [slot] = await nodeCommand(cluster.processes[0]!.port, ['CLUSTER', 'KEYSLOT', new RedisKeys(prefix).queue('fa').ready]);
    const slots = (await nodeCommand(cluster.processes[0]!.port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const victim = Number(slots.find(([from, to]) => Number(slot) >= from && Number(slot) <= to)![2][1]);
    const plain = open(false);
    const result = await runFailover({
      queues,
      durable: open(true),
      plain,
      failover: async () => {
        await cluster.killNode(victim);
        await cluster.waitHealthy(20_000);
        expect(await cluster.masters()).not.toContain(victim);
      },
    });
    console.log(`cluster failover: ${JSON.stringify({ ...result, durableLost: result.durableLost.length, plainLost: result.plainLost.length })}`);
    expect(result.durableAcked).toBeGreaterThan(50);
    expect(result.durableLost).toEqual([]);
    // The promoted replica has no replica of its own, so durable pushes to its slots are refused, by a typed error.
    expect(Object.keys(result.rejected).every((code) => ['ENQUEUE_NOT_REPLICATED', 'STORE_UNAVAILABLE', 'ENQUEUE_OUTCOME_UNKNOWN'].includes(code))).toBe(true);
    expect(result.rejected.ENQUEUE_NOT_REPLICATED).toBeGreaterThan(0);
    expect(result.ackedAfterRecovery).toBeGreaterThan(20);
    expect(result.ackedAfterRecoveryOnFirstQueue).toBeGreaterThan(3);
    expect(result.ranAfterRecovery).toBeGreaterThan(20);

    // The worker's app subscribed to the first queue's wake-ups on the killed master; its subscriber follows the slot
    // to the promoted replica, so a push there wakes a wait at once, not at the wait's own timeout.
    const waited = plain.store.jobWait({ queues: ['fa'], timeoutMs: 30_000 });
    const started = performance.now();
    await open(false).defineWorker({ name: 'Wake', queue: 'fa', perform: () => undefined }).enqueue({});
    await waited;
    console.log(`wake-up after the failover: ${Math.round(performance.now() - started)} ms`);
    expect(performance.now() - started).toBeLessThan(5000);
  }, 90_000);
});
