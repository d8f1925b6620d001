import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, EnqueueOutcomeUnknownError, PRESERVE_LATEST_WAL_FLAG, type LaglessApp } from '../../src/index.js';
import { idempotencyKey } from '../../src/dedup/idempotency-key.js';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import type { JobPushParams } from '../../src/store/job-store.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

/** Count the store calls the enqueues make: the real store, observed (every call still goes through). */
function observeStore(app: LaglessApp): { single: number; batches: number[] } {
  const seen = { single: 0, batches: [] as number[] };
  const store = app.store;
  const push = store.jobPush.bind(store);
  const each = store.jobPushEach.bind(store);
  store.jobPush = (params: JobPushParams) => (seen.single++, push(params));
  store.jobPushEach = (params: JobPushParams[]) => (seen.batches.push(params.length), each(params));
  return seen;
}

describe.each(bothStores(() => redis))('enqueues of the same tick share one store call on the %s store', (_name, redisConfig) => {
  const queue = (): string => `q${randomBytes(3).toString('hex')}`;

  it('pushes 20 concurrent enqueues in two calls (the first 8 at once, nothing being in flight), each with its own result; an enqueue alone goes out alone', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = queue();
    const W = app.defineWorker({ name: 'PlainWorker', queue: q, perform: () => undefined });
    const seen = observeStore(app);
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => W.enqueue({ n })));
    expect(seen.batches).toEqual([8, 12]);
    expect(results.every((r) => r.deduplicated === false)).toBe(true);
    expect(new Set(results.map((r) => r.jid)).size).toBe(20);
    const ready = await app.store.jobList({ queue: q, state: 'ready', offset: 0, limit: 50 });
    expect(ready.map((job) => job.jid).sort()).toEqual(results.map((r) => r.jid).sort());
    const singles = seen.single; // the memory store's jobPushEach pushes through its own jobPush
    await W.enqueue({ n: 20 });
    expect(seen).toEqual({ single: singles + 1, batches: [8, 12] });
    await app.close();
  });

  it('pushes the enqueues of a tick in one call while an earlier call is in flight', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = queue();
    const W = app.defineWorker({ name: 'PipelinedWorker', queue: q, perform: () => undefined });
    const seen = observeStore(app);
    const first = Array.from({ length: 8 }, (_, n) => W.enqueue({ n })); // sent at once: nothing was in flight
    const tick = Array.from({ length: 20 }, (_, n) => W.enqueue({ n: 8 + n }));
    expect(seen.batches).toEqual([8]);
    const results = await Promise.all([...first, ...tick]);
    expect(seen.batches).toEqual([8, 20]);
    const ready = await app.store.jobList({ queue: q, state: 'ready', offset: 0, limit: 50 });
    expect(ready.map((job) => job.jid)).toEqual(results.map((r) => r.jid)); // pushed in call order
    await app.close();
  });

  it('absorbs twins of one key issued in the same tick into the first, and pushes the distinct ones', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = queue();
    const W = app.defineWorker({ name: 'TwinWorker', queue: q, idempotent: true, perform: () => undefined });
    const seen = observeStore(app);
    const results = await Promise.all([W.enqueue({ id: 1 }), W.enqueue({ id: 2 }), W.enqueue({ id: 1 }), W.enqueue({ id: 1 }), W.enqueue({ id: 2 })]);
    // One call: the two first jobs of each key, and the twins pushed at another millisecond than the job before them
    // of their key (those of the same one are folded into it, see 'a burst of identical enqueues' below).
    expect(seen.batches).toHaveLength(1);
    expect(seen.batches[0]).toBeGreaterThanOrEqual(2);
    const [one, two] = [results[0]!, results[1]!];
    expect(one).toEqual({ jid: one.jid, deduplicated: false });
    expect(two).toEqual({ jid: two.jid, deduplicated: false });
    expect(results.slice(2)).toEqual([
      { jid: expect.any(String), deduplicated: true, duplicateOf: one.jid },
      { jid: expect.any(String), deduplicated: true, duplicateOf: one.jid },
      { jid: expect.any(String), deduplicated: true, duplicateOf: two.jid },
    ]);
    expect(await app.store.queueSizes(q)).toMatchObject({ ready: 2 });
    const cookie = await app.store.dedupShow({ queue: q, key: idempotencyKey('TwinWorker', { id: 1 }), nowMs: Date.now() });
    expect(cookie).toMatchObject({ ownerJid: one.jid, absorbed: 2 });
    await app.close();
  });

  it('pushes twins of a non-idempotent worker in the same tick with duplicate-of the first', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const W = app.defineWorker({ name: 'LooseTwinWorker', queue: queue(), deduplicate: { strategy: 'until_executing' }, perform: () => undefined });
    const [first, second] = await Promise.all([W.enqueue({ id: 1 }), W.enqueue({ id: 1 })]);
    expect(first).toEqual({ jid: first!.jid, deduplicated: false });
    expect(second).toEqual({ jid: second!.jid, deduplicated: false, duplicateOf: first!.jid });
    await app.close();
  });

  it('judges each twin of a tick at its own time: a twin after the cookie expired claims the key anew', async () => {
    const T = Date.now();
    let nowMs = T;
    const app = createLagless({ redis: redisConfig(), logger: false, clock: { now: () => nowMs } });
    const q = queue();
    const W = app.defineWorker({ name: 'ExpiringTwinWorker', queue: q, idempotent: true, deduplicate: { strategy: 'until_executing', ttlMs: 1000 }, idempotencyArgs: () => ({ id: 1 }), perform: () => undefined });
    // Each enqueue is pushed at the time its args name (the push reads the clock after the chain).
    app.clientMiddleware.insertBefore('deduplication', 'clock', (context, next) => {
      nowMs = T + (context.job.args as { at: number }).at;
      return next();
    });
    const owner = await W.enqueue({ at: 0 }); // its cookie expires at T + 1000
    const results = await Promise.all([10, 10, 2000, 2000, 10].map((at) => W.enqueue({ at })));
    const claimed = results[2]!;
    expect(claimed).toEqual({ jid: claimed.jid, deduplicated: false });
    expect(results.map((r) => r.duplicateOf)).toEqual([owner.jid, owner.jid, undefined, claimed.jid, claimed.jid]);
    expect(await app.store.queueSizes(q)).toMatchObject({ ready: 2 });
    await app.close();
  });

  it('sends a twin that adds a WAL position and folds the quiet twins after it into it, keeping every count and the highest WAL', async () => {
    const T = Date.now();
    const app = createLagless({ redis: redisConfig(), logger: false, clock: { now: () => T } });
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, true, { by: 'test' });
    const q = queue();
    const W = app.defineWorker({ name: 'MixedTwinWorker', queue: q, idempotent: true, idempotencyArgs: () => ({ id: 1 }), perform: () => undefined });
    app.clientMiddleware.insertBefore('deduplication', 'stamp', (context, next) => {
      const lsn = (context.job.args as { lsn?: string }).lsn;
      if (lsn) context.job.wal_locations = { main: lsn };
      return next();
    });
    const sent: JobPushParams[][] = [];
    const each = app.store.jobPushEach.bind(app.store);
    app.store.jobPushEach = (params: JobPushParams[]) => (sent.push(params.map((p) => ({ ...p }))), each(params));
    const results = await Promise.all([{}, {}, { lsn: '0/200' }, {}, {}, { lsn: '0/100' }].map((args) => W.enqueue(args)));
    // The first job and the two carrying a WAL position go out; each quiet twin is counted on the job before it.
    expect(sent.map((call) => call.map((p) => p.twins ?? 0))).toEqual([[1, 2, 0]]);
    const owner = results[0]!;
    expect(owner).toEqual({ jid: owner.jid, deduplicated: false });
    expect(results.slice(1).every((r) => r.deduplicated && r.duplicateOf === owner.jid)).toBe(true);
    const cookie = await app.store.dedupShow({ queue: q, key: idempotencyKey('MixedTwinWorker', { id: 1 }), nowMs: T });
    expect(cookie).toMatchObject({ ownerJid: owner.jid, absorbed: 5, wal: { main: '0/200' } });
    expect((await app.store.queueCounters(q)).deduplicated).toBe(5);
    await app.close();
  });

  // DESIGN §4-5: the cookie carries the highest WAL position of everything it absorbed, per database.
  it.each([
    ['the lower LSN first', ['0/16B3748', '0/16B37A0']],
    ['the higher LSN first', ['0/16B37A0', '0/16B3748']],
  ])('keeps the highest WAL position of twins issued in the same tick, %s', async (_order, lsns) => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, true, { by: 'test' });
    const q = queue();
    const W = app.defineWorker({ name: 'WalTwinWorker', queue: q, idempotent: true, idempotencyArgs: (args: { id: number; lsn: string }) => ({ id: args.id }), perform: () => undefined });
    // Stands in for the load-balancing middleware: each enqueue is stamped with the position its write reached.
    app.clientMiddleware.insertBefore('deduplication', 'stamp', (context, next) => {
      context.job.wal_locations = { main: (context.job.args as { lsn: string }).lsn, other: '0/10' };
      return next();
    });
    const seen = observeStore(app);
    const [first, twin] = await Promise.all(lsns.map((lsn) => W.enqueue({ id: 7, lsn })));
    expect(seen.batches).toEqual([2]);
    expect(first).toEqual({ jid: first!.jid, deduplicated: false });
    expect(twin).toEqual({ jid: twin!.jid, deduplicated: true, duplicateOf: first!.jid });
    const cookie = await app.store.dedupShow({ queue: q, key: idempotencyKey('WalTwinWorker', { id: 7 }), nowMs: Date.now() });
    expect(cookie).toMatchObject({ ownerJid: first!.jid, absorbed: 1, wal: { main: '0/16B37A0', other: '0/10' } });
    await app.close();
  });
});

describe('twins of one key in a coalesced push', () => {
  it('read and write their cookie once per call, keeping every result and the highest WAL position', async () => {
    const app = createLagless({ redis: { url: redis.url, prefix: `f${randomBytes(3).toString('hex')}` }, logger: false });
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, true, { by: 'test' });
    const store = app.store as RedisJobStore;
    const W = app.defineWorker({ name: 'FoldedTwinWorker', queue: 'folded', idempotent: true, idempotencyArgs: (_args: { lsn: string }) => ({ id: 1 }), perform: () => undefined });
    app.clientMiddleware.insertBefore('deduplication', 'stamp', (context, next) => {
      context.job.wal_locations = { main: (context.job.args as { lsn: string }).lsn };
      return next();
    });
    const owner = await W.enqueue({ lsn: '0/100' });
    const lsns = Array.from({ length: 20 }, (_, i) => `0/${(0x200 + ((i * 7) % 20)).toString(16)}`); // highest 0/213, not last
    await store.client.config('RESETSTAT');
    const seen = observeStore(app);
    const twins = await Promise.all(lsns.map((lsn) => W.enqueue({ lsn })));
    expect(seen.batches).toEqual([8, 12]);
    const calls = (name: string, stats: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    const stats = await store.client.info('commandstats');
    expect({ hsetnx: calls('hsetnx', stats), hget: calls('hget', stats), hset: calls('hset', stats), hincrby: calls('hincrby', stats) }).toEqual({ hsetnx: 2, hget: 2, hset: 2, hincrby: 2 });
    expect(twins.every((twin) => twin.deduplicated && twin.duplicateOf === owner.jid)).toBe(true);
    const cookie = await app.store.dedupShow({ queue: 'folded', key: idempotencyKey('FoldedTwinWorker', { id: 1 }), nowMs: Date.now() });
    expect(cookie).toMatchObject({ ownerJid: owner.jid, absorbed: 20, wal: { main: '0/213' } });
    expect(await store.client.hget(store.keys.queue('folded').stats, 'deduplicated')).toBe('20');
    await app.close();
  });
});

describe('a burst of identical enqueues in a coalesced push', () => {
  const T = Date.now();
  const folding = (label: string, strategy: 'until_executing' | 'until_executed' = 'until_executing') => {
    // A fixed clock: twins are folded only when pushed at the same millisecond as the job before them.
    const app = createLagless({ redis: { url: redis.url, prefix: `${label}${randomBytes(3).toString('hex')}` }, logger: false, clock: { now: () => T } });
    const W = app.defineWorker({ name: 'BurstWorker', queue: 'burst', idempotent: true, deduplicate: { strategy }, perform: () => undefined });
    return { app, W, store: app.store as RedisJobStore, key: idempotencyKey('BurstWorker', { id: 1 }) };
  };

  /** Jobs carried by each 4-key script call (a push) on this store's queue 'burst' while `run` runs (MONITOR: 5 arguments a job after the keys). */
  async function jobsSent(store: RedisJobStore, run: () => Promise<unknown>): Promise<number[]> {
    const monitor = await (store.client as Redis).monitor(); // one Redis, not a cluster
    const sent: number[] = [];
    const marker = `done-${randomBytes(3).toString('hex')}`;
    const dedupKey = store.keys.queue('burst').dedup;
    const shownAll = new Promise<void>((resolve) =>
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (/^eval(sha)?$/i.test(args[0] ?? '') && args[2] === '4' && args[3] === dedupKey) sent.push((args.length - 7) / 5);
        if (args[1] === marker) resolve();
      }),
    );
    await run();
    await store.client.echo(marker); // MONITOR shows commands in the order Redis ran them: the pushes came first
    await shownAll;
    monitor.disconnect();
    return sent;
  }

  it('sends one job per call for twins pushed at the same time with nothing to add: every result and count exact', async () => {
    const { app, W, store, key } = folding('b');
    await store.queueList(); // connected first, as in the tests below: the two calls do not wait on the connection
    let results: Awaited<ReturnType<typeof W.enqueue>>[] = [];
    const sent = await jobsSent(store, async () => (results = await Promise.all(Array.from({ length: 20 }, () => W.enqueue({ id: 1 })))));
    expect(sent).toEqual([1, 1]); // the first 8 at once, then the other 12 of the tick
    const [first, ...twins] = results;
    expect(first).toEqual({ jid: first!.jid, deduplicated: false });
    expect(twins.every((twin) => twin.deduplicated && twin.duplicateOf === first!.jid)).toBe(true);
    expect(new Set(results.map((r) => r.jid)).size).toBe(20);
    expect(await app.store.dedupShow({ queue: 'burst', key, nowMs: T })).toMatchObject({ ownerJid: first!.jid, absorbed: 19, absorbedWhileExecuting: 0 });
    expect(await store.client.hget(store.keys.queue('burst').stats, 'deduplicated')).toBe('19');
    expect(await app.store.queueSizes('burst')).toMatchObject({ ready: 1 });
    await app.close();
  });

  it('counts folded twins absorbed while the owner runs (until_executed)', async () => {
    const { app, W, store, key } = folding('x', 'until_executed');
    const owner = await W.enqueue({ id: 1 });
    await app.store.jobFetch({ queue: 'burst', count: 1, token: 'runner', leaseMs: 60_000, nowMs: T });
    const sent = await jobsSent(store, () => Promise.all(Array.from({ length: 5 }, () => W.enqueue({ id: 1 }))));
    expect(sent).toEqual([1]);
    expect(await app.store.dedupShow({ queue: 'burst', key, nowMs: T })).toMatchObject({ ownerJid: owner.jid, executing: true, absorbed: 5, absorbedWhileExecuting: 5 });
    await app.close();
  });

  it('rejects every folded twin with the error Redis gave the job it was folded into, naming its own job', async () => {
    const { app, W, store } = folding('e');
    await store.queueList(); // connected: the store's own connection never queues a command
    await store.client.set(store.keys.queue('burst').dedup, 'not a hash');
    const outcomes = await Promise.allSettled(Array.from({ length: 3 }, () => W.enqueue({ id: 1 })));
    const messages = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'fulfilled'));
    expect(messages.every((m) => m.includes('WRONGTYPE'))).toBe(true);
    expect(new Set(messages).size).toBe(3); // each names its own jid
    await app.close();
  });
});

describe('a coalesced push of which Redis refuses one job', () => {
  it('rejects that job alone: the jobs before and after it in the same call keep their results', async () => {
    const app = createLagless({ redis: { url: redis.url, prefix: `r${randomBytes(3).toString('hex')}` }, logger: false });
    const store = app.store as RedisJobStore;
    const Plain = app.defineWorker({ name: 'PlainNeighbourWorker', queue: 'refused', perform: () => undefined });
    const Keyed = app.defineWorker({ name: 'RefusedKeyWorker', queue: 'refused', idempotent: true, perform: () => undefined });
    // Only a job with an idempotency key touches the dedup hash: a string there makes Redis refuse that job alone.
    await store.queueList(); // connected: the store's own connection never queues a command
    await store.client.set(store.keys.queue('refused').dedup, 'not a hash');
    const [before, keyed, after] = await Promise.allSettled([Plain.enqueue({ id: 1 }), Keyed.enqueue({ id: 1 }), Plain.enqueue({ id: 2 })]);
    expect(before).toMatchObject({ status: 'fulfilled', value: { deduplicated: false } });
    expect(keyed).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('WRONGTYPE') } });
    expect(after).toMatchObject({ status: 'fulfilled', value: { deduplicated: false } });
    expect(await store.client.llen(store.keys.queue('refused').ready)).toBe(2);
    await app.close();
  });
});

describe('a coalesced push whose reply is lost', () => {
  it('rejects each caller with EnqueueOutcomeUnknownError naming its own job only', async () => {
    const server = await startRedisServer();
    const app = createLagless({ redis: { url: server.url, prefix: 'lost', enqueueTimeoutMs: 400 }, logger: false });
    const W = app.defineWorker({ name: 'HungWorker', queue: 'hung', perform: () => undefined });
    await W.enqueue({ n: 0 });
    const pid = Number(/process_id:(\d+)/.exec(await (app.store as RedisJobStore).client.info('server'))![1]);
    process.kill(pid, 'SIGSTOP');
    let errors: unknown[];
    try {
      errors = await Promise.all([1, 2, 3].map((n) => W.enqueue({ n }).catch((error: unknown) => error)));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(EnqueueOutcomeUnknownError);
      expect((error as EnqueueOutcomeUnknownError).jids).toHaveLength(1);
    }
    expect(new Set(errors.map((error) => (error as EnqueueOutcomeUnknownError).jids[0])).size).toBe(3);
    await app.close();
    await server.stop();
  });
});
