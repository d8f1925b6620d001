import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, EnqueueNotReplicatedError, InvalidOptionError, type LaglessApp } from '../../src/index.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { nodeCommand } from '../../src/sandbox/redis-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

describe('redis.durableEnqueue (WAIT for replicas)', () => {
  let primary: RedisServerHandle;
  let replica: RedisServerHandle;
  const apps: LaglessApp[] = [];
  // Timeouts leave a loaded machine's replica time to answer: a WAIT with enough replicas returns as soon as they do.
  const open = (replicas: number, timeoutMs = 2000): { app: LaglessApp; prefix: string } => {
    const prefix = `de${randomBytes(3).toString('hex')}`;
    const app = createLagless({ redis: { url: primary.url, prefix, durableEnqueue: { replicas, timeoutMs } }, logger: false });
    apps.push(app);
    return { app, prefix };
  };

  beforeAll(async () => {
    primary = await startRedisServer();
    replica = await startRedisServer();
    await nodeCommand(replica.port, ['REPLICAOF', '127.0.0.1', String(primary.port)]);
    await waitFor(async () => String(await nodeCommand(replica.port, ['INFO', 'replication'])).includes('master_link_status:up'), 15_000, 'the replica to sync');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await replica?.stop();
    await primary?.stop();
  });

  it('resolves single and bulk enqueues once the replica has them: they are readable there at once', async () => {
    const { app, prefix } = open(1);
    const worker = app.defineWorker({ name: 'D', queue: 'dq', perform: () => undefined });
    const ready = new RedisKeys(prefix).queue('dq').ready;
    await worker.enqueue({ n: 1 });
    expect(await nodeCommand(replica.port, ['LLEN', ready])).toEqual([1]);
    await worker.enqueueMany(Array.from({ length: 50 }, (_, n) => ({ n })));
    expect(await nodeCommand(replica.port, ['LLEN', ready])).toEqual([51]);
    const deduped = app.defineWorker({ name: 'Dd', queue: 'dq', idempotent: true, perform: () => undefined });
    expect((await deduped.enqueue({ n: 1 })).deduplicated).toBe(false);
    expect((await deduped.enqueue({ n: 1 })).deduplicated).toBe(true);
  });

  it('rejects with EnqueueNotReplicatedError, never a silent success, when fewer replicas confirm in time', async () => {
    const { app } = open(2, 1000);
    const worker = app.defineWorker({ name: 'D', queue: 'dq', perform: () => undefined });
    const single = await worker.enqueue({ n: 1 }).catch((error: unknown) => error);
    expect(single).toBeInstanceOf(EnqueueNotReplicatedError);
    expect(single).toMatchObject({ code: 'ENQUEUE_NOT_REPLICATED', replicas: 2, acknowledged: 1, timeoutMs: 1000 });
    expect((single as Error).message).toMatch(/on 1 of the 2 replicas redis\.durableEnqueue asks for within 1000 ms/);
    await expect(worker.enqueueMany([{ n: 2 }, { n: 3 }])).rejects.toBeInstanceOf(EnqueueNotReplicatedError);
  });

  it('refuses replicas below 1 or a missing timeout', () => {
    expect(() => createLagless({ redis: { url: primary.url, durableEnqueue: { replicas: 0, timeoutMs: 50 } }, logger: false })).toThrow(InvalidOptionError);
    expect(() => createLagless({ redis: { url: primary.url, durableEnqueue: { replicas: 1 } as never }, logger: false })).toThrow(/durableEnqueue\.timeoutMs/);
  });

  it('rejects once the only replica is gone', async () => {
    const { app } = open(1, 50);
    const worker = app.defineWorker({ name: 'D', queue: 'dq', perform: () => undefined });
    await worker.enqueue({ n: 1 });
    await replica.kill();
    await expect(worker.enqueue({ n: 2 })).rejects.toMatchObject({ code: 'ENQUEUE_NOT_REPLICATED', acknowledged: 0 });
  });
});
