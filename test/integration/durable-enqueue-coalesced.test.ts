import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, EnqueueNotReplicatedError, type LaglessApp } from '../../src/index.js';
import { RedisKeys } from '../../src/redis/keys.js';
import type { RedisJobStore } from '../../src/redis/redis-store.js';
import { nodeCommand, startRedisCluster, type RedisClusterHandle } from '../../src/sandbox/redis-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

/** Every enqueue of one tick, each settled on its own: its result, or its error. */
const settleAll = <T>(calls: Promise<T>[]): Promise<(T | Error)[]> => Promise.all(calls.map((call) => call.catch((error: unknown) => error as Error)));

describe('redis.durableEnqueue with the enqueues of one tick coalesced, on one Redis', () => {
  let primary: RedisServerHandle;
  let replica: RedisServerHandle;
  const apps: LaglessApp[] = [];
  // A loaded machine's replica gets time to answer: a WAIT with enough replicas returns as soon as they do.
  const open = (replicas: number, timeoutMs = 2000): { app: LaglessApp; prefix: string } => {
    const prefix = `dc${randomBytes(3).toString('hex')}`;
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

  it('resolves each caller with its own exact result once the replica has the jobs', async () => {
    const { app, prefix } = open(1);
    const plain = app.defineWorker({ name: 'P', queue: 'dq', perform: () => undefined });
    const once = app.defineWorker({ name: 'O', queue: 'dq', idempotent: true, perform: () => undefined });
    const results = await Promise.all([plain.enqueue({ n: 1 }), once.enqueue({ id: 1 }), plain.enqueue({ n: 2 }), once.enqueue({ id: 1 })]);
    expect(results.slice(0, 3).map((r) => r.deduplicated)).toEqual([false, false, false]);
    expect(results[3]).toEqual({ jid: expect.any(String), deduplicated: true, duplicateOf: results[1]!.jid });
    expect(await nodeCommand(replica.port, ['LLEN', new RedisKeys(prefix).queue('dq').ready])).toEqual([3]);
  });

  it('rejects every caller of a tick too few replicas confirmed with an EnqueueNotReplicatedError naming its own job', async () => {
    const { app } = open(2, 50);
    const worker = app.defineWorker({ name: 'D', queue: 'dq', perform: () => undefined });
    const outcomes = await settleAll(Array.from({ length: 5 }, (_, n) => worker.enqueue({ n })));
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(EnqueueNotReplicatedError);
      expect((outcome as EnqueueNotReplicatedError).jids).toHaveLength(1);
    }
    expect(new Set(outcomes.map((outcome) => (outcome as EnqueueNotReplicatedError).jids[0])).size).toBe(5);
  });
});

describe('redis.durableEnqueue with the enqueues of one tick coalesced, on Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let app: LaglessApp;
  const prefix = `dcc${randomBytes(3).toString('hex')}`;
  const QUEUES = ['mail', 'sms', 'push', 'reports', 'exports', 'billing'];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    app = createLagless({ redis: { cluster: { nodes: [cluster.nodes[0]!] }, prefix, durableEnqueue: { replicas: 1, timeoutMs: 1000 }, enqueueTimeoutMs: 15_000 }, logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  /** The port of the master serving a queue's slot. */
  const masterOf = async (queue: string): Promise<number> => {
    const port = cluster.processes[0]!.port;
    const slots = (await nodeCommand(port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const [slot] = await nodeCommand(port, ['CLUSTER', 'KEYSLOT', (app.store as RedisJobStore).keys.queue(queue).ready]);
    return Number(slots.find(([from, to]) => Number(slot) >= from && Number(slot) <= to)![2][1]);
  };

  it("resolves the callers whose slot's replica confirmed and rejects only those whose replica did not", async () => {
    const workers = QUEUES.map((queue) => app.defineWorker({ name: `W_${queue}`, queue, perform: () => undefined }));
    const masters = await Promise.all(QUEUES.map(masterOf));
    expect(new Set(masters).size).toBeGreaterThan(1);
    // Connected to every master (slots known) before any node stalls: each enqueue confirmed by its replica.
    for (const [n, worker] of workers.entries()) await worker.enqueue({ n });
    // Stop the replica of the first queue's master: WAIT there confirms none; the other masters' replicas answer.
    const stalled = masters[0]!;
    const replicaInfo = await Promise.all(cluster.processes.map(async (p) => ({ p, info: String(await nodeCommand(p.port, ['INFO', 'replication'])) })));
    const lagging = replicaInfo.find(({ info }) => info.includes('role:slave') && info.includes(`master_port:${stalled}`))!.p;
    process.kill(lagging.pid, 'SIGSTOP');
    let outcomes: (Error | { jid: string })[];
    try {
      outcomes = await settleAll(workers.map((worker, n) => worker.enqueue({ n })));
    } finally {
      process.kill(lagging.pid, 'SIGCONT');
    }
    outcomes.forEach((outcome, i) => {
      if (masters[i] === stalled) {
        expect(outcome).toBeInstanceOf(EnqueueNotReplicatedError);
        expect((outcome as EnqueueNotReplicatedError).jids).toHaveLength(1);
      } else {
        expect(outcome).not.toBeInstanceOf(Error);
      }
    });
    expect(masters.some((master) => master !== stalled)).toBe(true);
  });
});
