import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { runUntilIdle } from '../../src/testing.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

/** Valid JSON written by another producer: each runs once and is settled, or goes to the dead set with a reason. */
const payloads: { name: string; raw: string; runs?: string; dies?: RegExp }[] = [
  { name: 'spaces after colons', raw: '{"jid": "sp1", "class": "ForeignWorker", "args": {}, "created_at": 1}', runs: 'sp1' },
  { name: 'jid not the first field', raw: '{"class":"ForeignWorker","jid":"late1","args":{},"created_at":1}', runs: 'late1' },
  { name: 'a jid with a dot', raw: '{"jid":"a.b.c","class":"ForeignWorker","args":{},"created_at":1}', runs: 'a.b.c' },
  { name: 'a "jid" in args before its own', raw: '{"args":{"jid":"sp1"},"class":"ForeignWorker","jid":"own1","created_at":1}', runs: 'own1' },
  { name: 'no jid', raw: '{"class":"ForeignWorker","args":{},"created_at":1}', dies: /missing "jid"/ },
  { name: 'a jid that is not a string', raw: '{"jid":42,"class":"ForeignWorker","args":{},"created_at":1}', dies: /missing "jid"/ },
  { name: 'not JSON', raw: '{"jid":"broken",', dies: /not JSON/ },
];

describe.each(bothStores(() => redis))('foreign payloads on the %s store', (_name, redisConfig) => {
  it('settles every job under the id it was leased under: runs it once, or buries it with its raw payload and a reason', async () => {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger });
    const queue = `f${randomBytes(3).toString('hex')}`;
    const runs: string[] = [];
    app.defineWorker({ name: 'ForeignWorker', queue, perform: (_args, ctx) => void runs.push(ctx.jid) });
    for (const [i, p] of payloads.entries()) await app.store.jobPush({ queue, jid: `push${i}`, raw: p.raw, nowMs: Date.now() });

    await runUntilIdle(app, { queues: [queue], timeoutMs: 5000 }); // a job re-run per lease would never be idle

    expect(runs.sort()).toEqual(payloads.flatMap((p) => p.runs ?? []).sort());
    const dead = await app.store.jobList({ queue, state: 'dead', offset: 0, limit: 20 });
    for (const p of payloads.filter((p) => p.dies)) {
      const entry = dead.find((d) => JSON.parse(d.raw).raw_payload === p.raw);
      expect(entry, p.name).toBeDefined();
      expect(JSON.parse(entry!.raw).error_message, p.name).toMatch(p.dies!);
    }
    expect(dead).toHaveLength(payloads.filter((p) => p.dies).length);
    expect(lines.filter((l) => l.msg === 'unrunnable job moved to the dead set')).toHaveLength(dead.length);
    await app.close();
  });

  it('buries a second job with the jid of a job in flight, and settles the first as usual', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `f${randomBytes(3).toString('hex')}`;
    const runs: string[] = [];
    app.defineWorker({
      name: 'ForeignWorker',
      queue,
      perform: async (_args, ctx) => {
        runs.push(ctx.jid);
        // Longer than an idle worker's wait for a wake-up (1 s), so the second copy is fetched while this runs.
        await new Promise((resolve) => setTimeout(resolve, 2000));
      },
    });
    const first = '{"jid":"twin","class":"ForeignWorker","args":{"n":1},"created_at":1}';
    const second = '{"class":"ForeignWorker","jid":"twin","args":{"n":2},"created_at":1}';
    await app.store.jobPush({ queue, jid: 'twin', raw: first, nowMs: Date.now() });
    const worker = app.worker({ queues: [queue], concurrency: 2 });
    await worker.start();
    await waitFor(() => runs.length === 1, 5000, 'the first job to start');
    // Another producer writes the same jid while the first runs.
    const store = app.store;
    await store.jobPush({ queue, jid: 'twin', raw: second, nowMs: Date.now() });
    await waitFor(async () => (await store.queueSizes(queue)).dead === 1, 5000, 'the second job in the dead set');
    await worker.stop();
    expect(runs).toEqual(['twin']);
    const [dead] = await store.jobList({ queue, state: 'dead', offset: 0, limit: 5 });
    expect(JSON.parse(dead!.raw)).toMatchObject({ raw_payload: second, error_message: expect.stringMatching(/not the id it was leased under/) });
    expect(await store.queueSizes(queue)).toMatchObject({ ready: 0, inFlight: 0, dead: 1 });
    expect((await store.queueCounters(queue)).processed).toBe(1);
    await app.close();
  });
});
