import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const stores = bothStores(() => redis);

describe.each(stores)('worker runtime on the %s store', (name, redisConfig) => {
  function setup(): { app: LaglessApp; lines: Record<string, unknown>[]; queue: string } {
    const { logger, lines } = captureLogs();
    return { app: createLagless({ redis: redisConfig(), logger }), lines, queue: `q${randomBytes(3).toString('hex')}` };
  }

  it('runs enqueued jobs with their args and logs a start (logJobStart) and a done line with the job fields', async () => {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger, logJobStart: true });
    const queue = `q${randomBytes(3).toString('hex')}`;
    const seen: { n: number; jid: string }[] = [];
    const Echo = app.defineWorker({ name: 'EchoWorker', queue, perform: async (args: { n: number }, ctx) => void seen.push({ n: args.n, jid: ctx.jid }) });
    const first = await Echo.enqueue({ n: 1 });
    expect(first).toEqual({ jid: expect.stringMatching(/^[\w-]{16}$/), deduplicated: false });
    await Echo.enqueueMany([{ n: 2 }, { n: 3 }]);
    const worker = app.worker({ queues: [queue], concurrency: 2 });
    await worker.start();
    await waitFor(() => seen.length === 3);
    await app.close();
    expect(seen.map((s) => s.n).sort()).toEqual([1, 2, 3]);
    expect(seen.find((s) => s.n === 1)!.jid).toBe(first.jid);
    const done = lines.find((l) => l.job_status === 'done' && l.jid === first.jid)!;
    expect(done).toMatchObject({ class: 'EchoWorker', queue, retry_count: 0 });
    expect(done.duration_s).toEqual(expect.any(Number));
    expect(done.scheduling_latency_s).toEqual(expect.any(Number));
    expect(lines.some((l) => l.job_status === 'start' && l.jid === first.jid)).toBe(true);
    const metrics = await app.metrics.metrics();
    expect(metrics).toMatch(/lagless_jobs_enqueued_total\{queue="\w+",worker="EchoWorker"\} 3/);
    expect(metrics).toMatch(/lagless_jobs_completed_total\{queue="\w+",worker="EchoWorker",status="done"\} 3/);
    expect(metrics).toContain('lagless_job_duration_seconds_bucket');
    expect(metrics).toContain('lagless_job_queue_latency_seconds_bucket');
  });

  it('retries a failing job with backoff, then moves it to the dead set with its error; it can be retried from there', async () => {
    const { app, lines, queue } = setup();
    let attempts = 0;
    const Flaky = app.defineWorker({
      name: 'FlakyWorker',
      queue,
      retry: { max: 2, backoffMs: () => 20 },
      perform: async () => {
        attempts++;
        throw new TypeError(`attempt ${attempts} failed`);
      },
    });
    const { jid } = await Flaky.enqueue({});
    await app.worker({ queues: [queue], concurrency: 1, maintenanceIntervalMs: 10 }).start();
    await waitFor(async () => (await app.store.queueSizes(queue)).dead === 1);
    expect(attempts).toBe(3);
    const [dead] = await app.store.jobList({ queue, state: 'dead', offset: 0, limit: 1 });
    expect(JSON.parse(dead!.raw)).toMatchObject({ jid, retry_count: 3, error_class: 'TypeError', error_message: 'attempt 3 failed' });
    expect(lines.filter((l) => l.job_status === 'fail').map((l) => l.dead)).toEqual([false, false, true]);
    expect(await app.store.jobRetryNow({ queue, jid, from: 'dead', nowMs: Date.now() })).toBe(true);
    await waitFor(() => attempts === 4);
    await app.close();
  });

  it('keeps a bounded backtrace in the fail log line and the dead payload; a retrying payload keeps none unless the worker asks', async () => {
    const { app, lines, queue } = setup();
    const failing = (name: string, backtrace?: boolean | number) =>
      app.defineWorker({ name, queue, backtrace, retry: { max: 1, backoffMs: () => 60_000 }, perform: () => Promise.reject(new RangeError(`${name} failed`)) });
    const jids = {
      byDefault: (await failing('DefaultTrace').enqueue({})).jid,
      two: (await failing('TwoLines', 2).enqueue({})).jid,
      none: (await failing('NoTrace', false).enqueue({})).jid,
    };
    await app.worker({ queues: [queue], maintenanceIntervalMs: 10 }).start();
    await waitFor(async () => (await app.store.queueSizes(queue)).retry === 3);
    const payloads = async (state: 'retry' | 'dead') => new Map((await app.store.jobList({ queue, state, offset: 0, limit: 10 })).map((j) => [j.jid, JSON.parse(j.raw)]));
    const retrying = await payloads('retry');
    expect(retrying.get(jids.byDefault).error_backtrace).toBeUndefined();
    expect(retrying.get(jids.two).error_backtrace).toHaveLength(2);
    expect(retrying.get(jids.none).error_backtrace).toBeUndefined();
    for (const jid of Object.values(jids)) await app.store.jobRetryNow({ queue, jid, from: 'retry', nowMs: Date.now() });
    await waitFor(async () => (await app.store.queueSizes(queue)).dead === 3);
    const dead = await payloads('dead');
    await app.close();
    const frame = /^at (Object\.)?perform \(.*worker-runtime\.test\.ts:\d+:\d+\)$/;
    const trace = dead.get(jids.byDefault).error_backtrace as string[];
    expect(trace[0]).toMatch(frame);
    expect(trace.length).toBeGreaterThan(2);
    expect(trace.length).toBeLessThanOrEqual(20);
    expect(dead.get(jids.byDefault)).toMatchObject({ error_class: 'RangeError', error_message: 'DefaultTrace failed' });
    expect(dead.get(jids.two).error_backtrace).toHaveLength(2);
    expect(dead.get(jids.none).error_backtrace).toBeUndefined();
    const logged = (jid: string) => lines.filter((l) => l.jid === jid && l.job_status === 'fail').map((l) => (l.error_backtrace as string[] | undefined)?.length);
    expect(logged(jids.byDefault)).toEqual([trace.length, trace.length]);
    expect(logged(jids.two)).toEqual([2, 2]);
    expect(logged(jids.none)).toEqual([undefined, undefined]);
    expect((lines.find((l) => l.jid === jids.two && l.job_status === 'fail')!.error_backtrace as string[])[0]).toMatch(frame);
  });

  it('snoozes without counting a failure, and runs scheduled jobs when due', async () => {
    const { app, lines, queue } = setup();
    const runs: number[] = [];
    const Sleepy = app.defineWorker({
      name: 'SleepyWorker',
      queue,
      perform: async (_args: object, ctx) => {
        runs.push(Date.now());
        if (runs.length === 1) throw ctx.snooze(100);
      },
    });
    const started = Date.now();
    await Sleepy.enqueueIn(150, {});
    expect(await app.store.queueSizes(queue)).toMatchObject({ scheduled: 1, ready: 0 });
    await app.worker({ queues: [queue], maintenanceIntervalMs: 10 }).start();
    await waitFor(() => runs.length === 2);
    await app.close();
    expect(runs[0]! - started).toBeGreaterThanOrEqual(150);
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(100);
    expect(lines.some((l) => l.job_status === 'fail')).toBe(false);
    expect(lines.filter((l) => l.job_status === 'snoozed')).toHaveLength(1);
    expect(lines.find((l) => l.job_status === 'done')).toMatchObject({ retry_count: 0 });
  });

  it('stops gracefully: lets short jobs finish, aborts long ones after the timeout and hands them back at once', async () => {
    const { app, queue } = setup();
    let aborted = 0;
    let finished = 0;
    const W = app.defineWorker({
      name: 'SlowWorker',
      queue,
      perform: (args: { ms: number }, ctx) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => (finished++, resolve()), args.ms);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), aborted++, resolve()));
        }),
    });
    await W.enqueueMany([{ ms: 50 }, { ms: 60_000 }]);
    const worker = app.worker({ queues: [queue], concurrency: 2, leaseMs: 60_000 });
    await worker.start();
    await waitFor(async () => (await app.store.queueSizes(queue)).inFlight === 2);
    await worker.stop({ timeoutMs: 300 });
    expect({ finished, aborted }).toEqual({ finished: 1, aborted: 1 });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 1, inFlight: 0 });
    await app.close();
  });

  it('holds up to `prefetch` jobs ahead under lease, never performs more than `concurrency`, and hands held jobs back at once on stop', async () => {
    const { app, queue } = setup();
    let performing = 0;
    let mostAtOnce = 0;
    let started = 0;
    const release: (() => void)[] = [];
    const W = app.defineWorker({
      name: 'HeldWorker',
      queue,
      perform: () =>
        new Promise<void>((resolve) => {
          started++;
          mostAtOnce = Math.max(mostAtOnce, ++performing);
          release.push(() => (performing--, resolve()));
        }),
    });
    await W.enqueueMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    const worker = app.worker({ queues: [queue], concurrency: 2, prefetch: 3, leaseMs: 60_000 });
    await worker.start();
    await waitFor(async () => started === 2 && (await app.store.queueSizes(queue)).inFlight === 5);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 5, inFlight: 5 });
    release.shift()!();
    await waitFor(() => started === 3);
    expect(mostAtOnce).toBe(2);

    const stopped = worker.stop({ timeoutMs: 60_000 });
    // The two jobs still performing keep their slots; the held ones are back in the queue before they finish.
    await waitFor(async () => (await app.store.queueSizes(queue)).ready === 7);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 7, inFlight: 2 });
    for (const finish of release.splice(0)) finish();
    await stopped;
    expect({ started, mostAtOnce }).toEqual({ started: 3, mostAtOnce: 2 });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 7, inFlight: 0 });
    await app.close();
  });

  it('under load sends the next fetch before the jobs of the last one run, each for half the room; drained, one fetch at a time', async () => {
    const { app, queue } = setup();
    const store = app.store;
    const fetchMany = store.jobFetchMany.bind(store);
    let inFlight = 0;
    const fetches: { count: number; inFlight: number }[] = [];
    store.jobFetchMany = async (params) => {
      fetches.push({ count: params.count, inFlight: ++inFlight });
      try {
        return await fetchMany(params);
      } finally {
        inFlight--;
      }
    };
    let ran = 0;
    const W = app.defineWorker({ name: 'AheadWorker', queue, perform: () => void ran++ });
    await W.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ n })));
    await app.worker({ queues: [queue], concurrency: 10, prefetch: 10 }).start();
    await waitFor(() => ran === 300);
    // Room for 20 leases: fetches of 10, a second one out while the first one's jobs run (on Redis: the memory
    // store answers within the tick, so there is no round trip to overlap).
    expect(Math.max(...fetches.map((f) => f.count))).toBe(10);
    expect(Math.max(...fetches.map((f) => f.inFlight))).toBe(name === 'redis' ? 2 : 1);

    // Quiet first: the drain's tail (the fetch that finds the queue empty, a wake-up token left from the bulk push)
    // is over once no fetch went out for 300 ms.
    let seen = -1;
    await waitFor(async () => {
      const quiet = inFlight === 0 && fetches.length === seen;
      seen = fetches.length;
      if (!quiet) await new Promise((resolve) => setTimeout(resolve, 300));
      return quiet;
    });
    fetches.length = 0;
    const started = Date.now();
    for (let n = 0; n < 5; n++) {
      await W.enqueue({ n });
      await waitFor(() => ran === 301 + n);
    }
    // Each lone job: the fetch that takes it and the one that finds the queue empty, never two at once; and one more
    // each time an idle worker's wake-up wait (1 s) runs out, as it may on a slow machine (the first wait began
    // before `started`, so it may run out sooner).
    expect(fetches.length).toBeLessThanOrEqual(10 + Math.ceil((Date.now() - started) / 1000));
    expect(fetches.every((f) => f.inFlight === 1)).toBe(true);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, inFlight: 0 });
    await app.close();
  });

  it('with prefetch 0 leases no more jobs than it has slots', async () => {
    const { app, queue } = setup();
    const release: (() => void)[] = [];
    const W = app.defineWorker({ name: 'UnheldWorker', queue, perform: () => new Promise<void>((resolve) => release.push(resolve)) });
    await W.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ n })));
    await app.worker({ queues: [queue], concurrency: 2, prefetch: 0 }).start();
    await waitFor(() => release.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 3, inFlight: 2 });
    for (const finish of release.splice(0)) finish();
    await app.close();
  });

  it('retries a job whose worker is not defined (a rolling deploy) with backoff, then moves it to the dead set with the reason in both log lines', async () => {
    const { app, lines, queue } = setup();
    let ran = 0;
    const Known = app.defineWorker({ name: 'KnownWorker', queue, perform: () => void ran++ });
    await app.store.jobPush({ queue, jid: 'ghost1', raw: JSON.stringify({ jid: 'ghost1', class: 'GoneWorker', args: {}, created_at: 1 }), nowMs: Date.now() });
    await Known.enqueue({});
    await app.worker({ queues: [queue], unknownWorkerRetryMs: 300, maintenanceIntervalMs: 10 }).start();
    await waitFor(async () => ran === 1 && (await app.store.queueSizes(queue)).dead === 1);
    const [dead] = await app.store.jobList({ queue, state: 'dead', offset: 0, limit: 1 });
    const counters = await app.store.queueCounters(queue);
    await app.close();
    const fails = lines.filter((l) => l.jid === 'ghost1' && l.job_status === 'fail');
    // One retry, due at the deadline (the first wait of ~15 s is cut to the 300 ms window), then the dead set.
    expect(fails.map((l) => [l.level, l.dead])).toEqual([[40, false], [50, true]]);
    expect(fails[0]).toMatchObject({ class: 'GoneWorker', error_class: 'UnknownWorkerError', retry_at: expect.any(String), msg: expect.stringMatching(/rolling deploy/) });
    expect(fails[0]!.error_message).toMatch(/^Worker 'GoneWorker' is not registered. Define it with app.defineWorker/);
    expect(fails[1]!.error_message).toMatch(/is not registered.*No worker process defined it within 300 ms \(to wait longer: app\.worker\(\{ unknownWorkerRetryMs \}\) or lagless worker --unknown-worker-retry-ms\); moved to the dead set; retry it with lagless dead retry once the worker is deployed\.$/);
    const payload = JSON.parse(dead!.raw);
    expect(payload).toMatchObject({ jid: 'ghost1', error_class: 'UnknownWorkerError', error_message: fails[1]!.error_message, unknown_worker_since: expect.any(Number) });
    expect(payload.retry_count).toBeUndefined(); // the worker's own retry budget stays whole
    expect(counters).toMatchObject({ processed: 1, failed: 2 });
  });

  it('settles the dedup cookie of a job whose worker is not defined: kept while it waits for a retry, released when it dies', async () => {
    const { app, queue } = setup();
    const key = 'k'.repeat(64);
    const raw = JSON.stringify({ jid: 'twin1', idempotency_key: key, class: 'GoneWorker', args: {}, created_at: 1 });
    const dedup = { key, strategy: 'until_executed' as const, idempotent: true, ttlMs: 60_000, preserveLatestWal: false, rescheduleOnce: false };
    await app.store.jobPush({ queue, jid: 'twin1', raw, nowMs: Date.now(), dedup });
    await app.worker({ queues: [queue], unknownWorkerRetryMs: 400, maintenanceIntervalMs: 10 }).start();
    await waitFor(async () => (await app.store.queueSizes(queue)).retry === 1);
    expect(await app.store.dedupShow({ queue, key, nowMs: Date.now() })).toMatchObject({ ownerJid: 'twin1', executing: false });
    await waitFor(async () => (await app.store.queueSizes(queue)).dead === 1);
    expect(await app.store.dedupShow({ queue, key, nowMs: Date.now() })).toBeUndefined();
    await app.close();
  });

  it('runs a job whose worker gets defined while it waits for a retry, and forgets the unknown-worker window', async () => {
    const { logger, lines } = captureLogs();
    let offsetMs = 0;
    const app = createLagless({ redis: redisConfig(), logger, logJobStart: true, clock: { now: () => Date.now() + offsetMs } });
    const queue = `q${randomBytes(3).toString('hex')}`;
    await app.store.jobPush({ queue, jid: 'early1', raw: JSON.stringify({ jid: 'early1', class: 'NewWorker', args: { n: 1 }, created_at: 1 }), nowMs: Date.now() });
    await app.worker({ queues: [queue], maintenanceIntervalMs: 10 }).start();
    await waitFor(() => lines.some((l) => l.jid === 'early1' && l.job_status === 'fail'));
    const [waiting] = await app.store.jobList({ queue, state: 'retry', offset: 0, limit: 1 });
    // The first retry comes after about 15 s (Sidekiq's first delay), well inside the default hour.
    expect(waiting!.score! - Date.now()).toBeGreaterThan(14_000);
    expect(waiting!.score! - Date.now()).toBeLessThan(18_100);
    const seen: unknown[] = [];
    app.defineWorker({ name: 'NewWorker', queue, perform: (args: { n: number }, ctx) => void seen.push({ args, since: ctx.job.unknown_worker_since }) }); // the deploy reaches this process
    offsetMs = 20_000;
    await waitFor(() => seen.length === 1);
    await app.close();
    expect(seen).toEqual([{ args: { n: 1 }, since: undefined }]);
    expect(lines.filter((l) => l.jid === 'early1').map((l) => l.job_status)).toEqual(['fail', 'start', 'done']);
  });
});

function looped(): Record<string, unknown> {
  const list: unknown[] = [];
  const object = { list };
  list.push(object);
  return object;
}

describe('bad input', () => {
  const app = createLagless({ logger: false });
  const W = app.defineWorker({ name: 'BadInputWorker', perform: () => undefined });

  it.each([
    ['a function', { f: () => 1 }, /\$\.f is a function/],
    ['a symbol', { s: Symbol('x') }, /\$\.s is a symbol/],
    ['a BigInt', { b: 1n }, /\$\.b is a BigInt/],
    ['NaN', { n: Number.NaN }, /\$\.n is NaN/],
    ['Infinity', [1, Infinity], /\$\[1\] is Infinity/],
    ['a Date', { d: new Date() }, /\$\.d is a Date/],
    ['NaN deep inside', { a: { b: [1, { c: Number.NaN }] } }, /\$\.a\.b\[1\]\.c is NaN/],
    ['a circular reference', looped(), /\$\.list\[0\] is a circular reference/],
    ['undefined', undefined, /undefined/],
  ])('rejects args containing %s at enqueue and pushes nothing', async (_what, args, message) => {
    await expect(W.enqueue(args as never)).rejects.toMatchObject({ code: 'INVALID_ARGS', message });
    expect(await app.store.queueSizes('default')).toMatchObject({ ready: 0 });
  });

  it('rejects circular args', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(W.enqueue(circular as never)).rejects.toThrow(/circular reference/);
  });

  it('accepts an object that appears twice without being its own ancestor', async () => {
    const shared = { id: 1 };
    await expect(W.enqueue({ a: shared, b: [shared, { c: shared }] } as never)).resolves.toMatchObject({ deduplicated: false });
    await app.store.queueRemove('default');
  });

  const perform = (): number => 1;
  it.each<[Record<string, unknown>, RegExp]>([
    [{ name: 'X1', queue: 'bad{queue}', perform }, /option queue for 'X1': use 1-100 letters/],
    [{ name: '', perform }, /name/],
    [{ name: 'X2', retry: { max: -1 }, perform }, /retry\.max/],
    [{ name: 'X3' }, /perform/],
    [{ name: 'X4', perform, deduplicate: { strategy: 'sometimes' } }, /deduplicate\.strategy/],
    [{ name: 'X5', perform, deduplicate: { ttlMs: 0 } }, /deduplicate\.ttlMs/],
    [{ name: 'X6', perform, deduplicate: { strategy: 'until_executing', ifDeduplicated: 'reschedule_once' } }, /only works with strategy 'until_executed'/],
    [{ name: 'X7', perform, backtrace: -1 }, /option backtrace for 'X7': use true, false or a number of lines from 0 to 100/],
    [{ name: 'X8', perform, backtrace: 'all' }, /option backtrace for 'X8'/],
  ])('rejects invalid worker options %#', (options, message) => {
    expect(() => app.defineWorker(options as never)).toThrow(message);
  });

  it('rejects duplicate worker names, bad concurrency and negative delays', async () => {
    expect(() => app.defineWorker({ name: 'BadInputWorker', perform: () => 1 })).toThrow(/already defined/);
    expect(() => app.worker({ queues: ['default'], concurrency: 0 })).toThrow(/concurrency/);
    expect(() => app.worker({ queues: ['default'], prefetch: -1 })).toThrow(/prefetch }\) must be an integer >= 0/);
    expect(() => app.worker({ queues: ['a b'] })).toThrow(/queues/);
    expect(() => app.worker({ queues: ['default'], unknownWorkerRetryMs: -1 })).toThrow(/unknownWorkerRetryMs }\) must be an integer >= 0/);
    expect(() => W.enqueueIn(-5, {})).toThrow(/>= 0/);
    await expect(W.enqueueAt(new Date('nope'), {})).rejects.toThrow(/not a valid date/);
    await expect(app.enqueue('NoSuchWorker', {})).rejects.toMatchObject({ code: 'UNKNOWN_WORKER' });
    expect(() => createLagless({ redis: { url: 'http://x' } })).toThrow(/redis\.url: must start with redis:\/\//);
  });
});
