import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FETCH_MAX, type DedupPushParams, type JobStore } from '../../src/store/job-store.js';
import { queueFetchConformance } from './queue-fetch.suite.js';

/**
 * The JobStore contract. Every store runs this suite; a behaviour not pinned here is not promised.
 * Times are explicit epoch ms so the suite never sleeps, except where it tests blocking wake-up.
 */
export function jobStoreConformance(name: string, open: () => Promise<{ store: JobStore; close: () => Promise<void> }>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;
    const T0 = 1_800_000_000_000;
    const token = 'tok-a';
    const lease = { token, leaseMs: 30_000, nowMs: T0 };

    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());

    const queue = (): string => `q${randomBytes(4).toString('hex')}`;
    const raw = (jid: string, extra: Record<string, unknown> = {}): string =>
      JSON.stringify({ jid, ...extra, class: 'Echo', args: { jid: 'nested-decoy' }, created_at: 1 });
    const push = (q: string, jid: string, more: { runAtMs?: number; dedup?: DedupPushParams; nowMs?: number; extra?: Record<string, unknown> } = {}) =>
      store.jobPush({ queue: q, jid, raw: raw(jid, more.extra ?? (more.dedup ? { idempotency_key: more.dedup.key } : {})), nowMs: more.nowMs ?? T0, runAtMs: more.runAtMs, dedup: more.dedup });
    const dedup = (over: Partial<DedupPushParams> = {}): DedupPushParams => ({
      key: 'ab12', strategy: 'until_executing', idempotent: true, ttlMs: 60_000, preserveLatestWal: true, rescheduleOnce: false, ...over,
    });
    const fetchJids = async (q: string, count = 10, nowMs = T0) => (await store.jobFetch({ queue: q, count, ...lease, nowMs })).map((j) => j.jid);

    describe('ready jobs', () => {
      it('hands jobs out first-in first-out, at most `count` at a time, and acks them once', async () => {
        const q = queue();
        for (const jid of ['a', 'b', 'c']) expect(await push(q, jid)).toEqual({ pushed: true, jid });
        const first = await store.jobFetch({ queue: q, count: 2, ...lease });
        expect(first.map((j) => j.jid)).toEqual(['a', 'b']);
        expect(JSON.parse(first[0]!.raw).args).toEqual({ jid: 'nested-decoy' });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, inFlight: 2 });
        expect(await store.jobAck({ queue: q, token: 'other', nowMs: T0, jobs: [{ jid: 'b' }] })).toEqual([{ jid: 'b', acked: false }]);
        expect(await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'a' }, { jid: 'zz' }] })).toEqual([
          { jid: 'a', acked: true },
          { jid: 'zz', acked: false },
        ]);
        expect(await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'a' }] })).toEqual([{ jid: 'a', acked: false }]);
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, inFlight: 1 });
      });

      it('hands out at most FETCH_MAX jobs per fetch and loses none when asked for more', async () => {
        const q = queue();
        await store.jobPushMany(Array.from({ length: FETCH_MAX + 500 }, (_, i) => ({ queue: q, jid: `j${i}`, raw: raw(`j${i}`), nowMs: T0 })));
        expect(await store.jobFetch({ queue: q, count: 5000, ...lease })).toHaveLength(FETCH_MAX);
        expect(await store.queueSizes(q)).toMatchObject({ ready: 500, inFlight: FETCH_MAX });
      });

      it('pushes one batch into several queues (on a cluster: several slots and nodes), each job to its own queue', async () => {
        const queues = Array.from({ length: 6 }, () => queue());
        const params = queues.flatMap((q, i) => [
          { queue: q, jid: `${i}a`, raw: raw(`${i}a`), nowMs: T0 },
          { queue: q, jid: `${i}b`, raw: raw(`${i}b`, { idempotency_key: `k${i}` }), nowMs: T0, dedup: dedup({ key: `k${i}` }) },
          { queue: q, jid: `${i}c`, raw: raw(`${i}c`, { idempotency_key: `k${i}` }), nowMs: T0, dedup: dedup({ key: `k${i}` }) },
        ]);
        const results = await store.jobPushMany(params);
        expect(results.map((r) => [r.jid, r.pushed])).toEqual(params.map((p) => [p.jid, !p.jid.endsWith('c')]));
        for (const [i, q] of queues.entries()) expect(await fetchJids(q)).toEqual([`${i}a`, `${i}b`]);
      });

      it('pushes a batch in order', async () => {
        const q = queue();
        const results = await store.jobPushMany(['a', 'b', 'c'].map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 })));
        expect(results.map((r) => r.pushed)).toEqual([true, true, true]);
        expect(await fetchJids(q)).toEqual(['a', 'b', 'c']);
      });

      it('keeps input order in a batch that mixes plain and deduplicated jobs', async () => {
        const q = queue();
        const plain = (jid: string) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 });
        const deduped = (jid: string, key: string) => ({ queue: q, jid, raw: raw(jid, { idempotency_key: key }), nowMs: T0, dedup: dedup({ key }) });
        await store.jobPushMany([plain('a'), deduped('b', 'k1'), plain('c'), plain('d'), deduped('e', 'k2')]);
        expect(await fetchJids(q)).toEqual(['a', 'b', 'c', 'd', 'e']);
      });

      it('registers a queue only on a successful write: reads and failed writes leave no ghost queue', async () => {
        const q = queue();
        await store.queueSizes(q);
        await store.jobList({ queue: q, state: 'dead', offset: 0, limit: 10 });
        await store.jobFetch({ queue: q, count: 1, ...lease });
        await store.jobWait({ queues: [q], timeoutMs: 1 });
        expect(await store.jobRetryNow({ queue: q, jid: 'xyz', from: 'dead', nowMs: T0 })).toBe(false);
        expect(await store.jobDelete({ queue: q, jid: 'xyz', from: 'dead' })).toBe(false);
        expect(await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'xyz' }] })).toEqual([{ jid: 'xyz', acked: false }]);
        expect(await store.jobRetry({ queue: q, jid: 'xyz', token, raw: raw('xyz'), nowMs: T0, runAtMs: T0, kind: 'retry' })).toBe(false);
        expect(await store.jobDead({ queue: q, jid: 'xyz', token, raw: raw('xyz'), nowMs: T0, runAtMs: T0 })).toMatchObject({ moved: false });
        await store.leaseRenew({ queue: q, token, jids: ['xyz'], leaseMs: 1000, nowMs: T0 });
        expect(await store.queueList()).not.toContain(q);
        await push(q, 'a');
        const [batch, scheduled] = [queue(), queue()];
        await store.jobPushMany([{ queue: batch, jid: 'b', raw: raw('b'), nowMs: T0 }]);
        await push(scheduled, 's', { runAtMs: T0 + 5000, dedup: dedup() });
        expect(await store.queueList()).toEqual(expect.arrayContaining([q, batch, scheduled]));
      });

      it('removes a queue only while it holds no job, and registers it again on the next push', async () => {
        const q = queue();
        expect(await store.queueRemove(q)).toEqual({ removed: false, reason: 'unknown' });
        await push(q, 'a', { dedup: dedup({ strategy: 'until_executed' }) });
        expect(await store.queueRemove(q)).toEqual({ removed: false, reason: 'not_empty', sizes: { ready: 1, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 1, deferred: 0 } });
        await fetchJids(q);
        expect(await store.queueRemove(q)).toMatchObject({ removed: false, reason: 'not_empty', sizes: { ready: 0, inFlight: 1 } });
        expect(await store.jobDead({ queue: q, jid: 'a', token, raw: raw('a'), nowMs: T0, runAtMs: T0 })).toMatchObject({ moved: true });
        expect(await store.queueRemove(q)).toMatchObject({ removed: false, reason: 'not_empty', sizes: { dead: 1 } });
        expect(await store.queueList()).toContain(q);
        expect(await store.jobDelete({ queue: q, jid: 'a', from: 'dead' })).toBe(true);
        expect(await store.queueRemove(q)).toEqual({ removed: true });
        expect(await store.queueList()).not.toContain(q);
        expect(await store.queueRemove(q)).toEqual({ removed: false, reason: 'unknown' });
        await push(q, 'b');
        expect(await store.queueList()).toContain(q);
      });

      it('lists known queues and jobs by state', async () => {
        const q = queue();
        await push(q, 'a');
        await push(q, 'b');
        await push(q, 's', { runAtMs: T0 + 5000 });
        expect(await store.queueList()).toContain(q);
        expect((await store.jobList({ queue: q, state: 'ready', offset: 0, limit: 10 })).map((j) => j.jid)).toEqual(['a', 'b']);
        expect((await store.jobList({ queue: q, state: 'ready', offset: 1, limit: 10 })).map((j) => j.jid)).toEqual(['b']);
        expect(await store.jobList({ queue: q, state: 'scheduled', offset: 0, limit: 10 })).toEqual([{ jid: 's', raw: raw('s'), score: T0 + 5000 }]);
        await fetchJids(q, 1);
        expect((await store.jobList({ queue: q, state: 'active', offset: 0, limit: 10 }))[0]).toMatchObject({ jid: 'a', raw: raw('a') });
      });
    });

    describe('scheduled jobs and maintenance', () => {
      const maintain = (q: string, nowMs: number, over: Partial<{ token: string; deadMaxSize: number; deadMaxAgeMs: number }> = {}) =>
        store.queueMaintain({ queue: q, token: 'm1', nowMs, lockMs: 5000, limit: 1000, deadMaxSize: 100, deadMaxAgeMs: 3_600_000, ...over });

      it('keeps a scheduled job out of the ready list until maintenance finds it due', async () => {
        const q = queue();
        await push(q, 'later', { runAtMs: T0 + 1000 });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 0, scheduled: 1 });
        expect(await maintain(q, T0 + 999)).toEqual({ promoted: 0, recovered: 0, trimmed: 0, nextDueMs: T0 + 1000 });
        expect(await maintain(q, T0 + 1000)).toEqual({ promoted: 1, recovered: 0, trimmed: 0, nextDueMs: undefined });
        expect(await fetchJids(q)).toEqual(['later']);
      });

      it('promotes due jobs only while the ready list holds fewer than the cap, earliest first', async () => {
        const q = queue();
        await push(q, 'ready1');
        await push(q, 'ready2');
        for (const [i, jid] of ['s1', 's2', 's3', 's4'].entries()) await push(q, jid, { runAtMs: T0 + 10 + i });
        const capped = (nowMs: number) => store.queueMaintain({ queue: q, token: 'm1', nowMs, lockMs: 5000, limit: 1000, readyCap: 4, deadMaxSize: 100, deadMaxAgeMs: 3_600_000 });
        expect(await capped(T0 + 100)).toMatchObject({ promoted: 2, nextDueMs: T0 + 12 });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 4, scheduled: 2 });
        expect(await capped(T0 + 100)).toMatchObject({ promoted: 0, nextDueMs: T0 + 12 });
        expect(await fetchJids(q, 3)).toEqual(['ready1', 'ready2', 's1']);
        expect(await capped(T0 + 100)).toMatchObject({ promoted: 2, nextDueMs: undefined });
        expect(await fetchJids(q)).toEqual(['s2', 's3', 's4']);
      });

      it('says when the earliest job still scheduled or retrying comes due, so maintenance can wake then', async () => {
        const q = queue();
        await push(q, 'soon', { runAtMs: T0 + 100 });
        await push(q, 'late', { runAtMs: T0 + 5000 });
        await push(q, 'r');
        await fetchJids(q);
        expect(await store.jobRetry({ queue: q, token, nowMs: T0, runAtMs: T0 + 2500, jid: 'r', raw: raw('r', { retry_count: 1 }), kind: 'retry' })).toBe(true);
        expect(await maintain(q, T0)).toMatchObject({ promoted: 0, nextDueMs: T0 + 100 });
        expect(await maintain(q, T0 + 100)).toMatchObject({ promoted: 1, nextDueMs: T0 + 2500 });
        expect(await maintain(q, T0 + 2600)).toMatchObject({ promoted: 1, nextDueMs: T0 + 5000 });
      });

      it('lets one process maintain a queue at a time until its lock expires', async () => {
        const q = queue();
        expect(await maintain(q, T0)).toBeDefined();
        expect(await maintain(q, T0 + 1000, { token: 'm2' })).toBeUndefined();
        expect(await maintain(q, T0 + 1000)).toBeDefined();
        expect(await maintain(q, T0 + 7000, { token: 'm2' })).toBeDefined();
      });

      it('recovers jobs whose lease expired (their worker died) to the front, unless renewed', async () => {
        const q = queue();
        await push(q, 'a');
        await push(q, 'b');
        await push(q, 'c');
        await store.jobFetch({ queue: q, count: 2, token, leaseMs: 1000, nowMs: T0 });
        await store.leaseRenew({ queue: q, token, jids: ['b'], leaseMs: 5000, nowMs: T0 + 500 });
        expect(await maintain(q, T0 + 1000)).toMatchObject({ recovered: 1 });
        expect(await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'a' }] })).toEqual([{ jid: 'a', acked: false }]);
        expect(await fetchJids(q)).toEqual(['a', 'c']);
        expect(await maintain(q, T0 + 5501)).toMatchObject({ recovered: 1 });
      });

      it('renews only leases held under its own token: a worker that lost a job cannot extend its new holder\'s lease', async () => {
        const q = queue();
        await push(q, 'a');
        await store.jobFetch({ queue: q, count: 1, token: 'old', leaseMs: 1000, nowMs: T0 });
        expect(await maintain(q, T0 + 1000)).toMatchObject({ recovered: 1 });
        await store.jobFetch({ queue: q, count: 1, token: 'new', leaseMs: 1000, nowMs: T0 + 1000 });
        const leaseOf = async () => (await store.jobList({ queue: q, state: 'active', offset: 0, limit: 10 })).map((j) => [j.jid, j.score]);
        expect(await store.leaseRenew({ queue: q, token: 'old', jids: ['a', 'never-fetched'], leaseMs: 60_000, nowMs: T0 + 1500 })).toEqual({ lost: ['a', 'never-fetched'] });
        expect(await leaseOf()).toEqual([['a', T0 + 2000]]);
        // The new holder dies: its lease expires on time and the job is recovered, not kept alive by the old worker.
        expect(await maintain(q, T0 + 2000)).toMatchObject({ recovered: 1 });
        await store.jobFetch({ queue: q, count: 1, token: 'new', leaseMs: 1000, nowMs: T0 + 2000 });
        expect(await store.leaseRenew({ queue: q, token: 'new', jids: ['a'], leaseMs: 5000, nowMs: T0 + 2500 })).toEqual({ lost: [] });
        expect(await leaseOf()).toEqual([['a', T0 + 7500]]);
        expect(await store.leaseRenew({ queue: q, token: 'new', jids: [], leaseMs: 5000, nowMs: T0 + 2500 })).toEqual({ lost: [] });
      });

      it('hands jobs back at the front at once on requeue', async () => {
        const q = queue();
        await push(q, 'a');
        await push(q, 'b');
        await fetchJids(q, 1);
        expect(await store.jobRequeue({ queue: q, token: 'someone-else', jids: ['a'] })).toBe(0);
        expect(await store.jobRequeue({ queue: q, token, jids: ['a'] })).toBe(1);
        expect(await fetchJids(q)).toEqual(['a', 'b']);
      });

      it('moves failures to retry (counted), snoozes to the schedule (not counted), and promotes both when due', async () => {
        const q = queue();
        await push(q, 'r');
        await push(q, 's');
        await fetchJids(q);
        const later = { queue: q, token, nowMs: T0, runAtMs: T0 + 100 };
        expect(await store.jobRetry({ ...later, jid: 'r', raw: raw('r', { retry_count: 1 }), kind: 'retry' })).toBe(true);
        expect(await store.jobRetry({ ...later, jid: 's', raw: raw('s'), kind: 'snooze' })).toBe(true);
        expect(await store.jobRetry({ ...later, jid: 's', raw: raw('s'), kind: 'snooze' })).toBe(false);
        expect(await store.queueSizes(q)).toMatchObject({ retry: 1, scheduled: 1, inFlight: 0 });
        expect(await maintain(q, T0 + 100)).toMatchObject({ promoted: 2 });
        const fetched = await store.jobFetch({ queue: q, count: 10, ...lease });
        expect(fetched.map((j) => JSON.parse(j.raw).retry_count)).toContain(1);
      });

      it('keeps dead jobs with their payload, retries or deletes them, and caps the set by size and age', async () => {
        const q = queue();
        for (const jid of ['d1', 'd2', 'd3', 'd4']) await push(q, jid);
        await fetchJids(q);
        for (const [i, jid] of ['d1', 'd2', 'd3', 'd4'].entries()) {
          await store.jobDead({ queue: q, jid, token, raw: raw(jid, { error_message: 'boom' }), nowMs: T0, runAtMs: T0 + i });
        }
        expect((await store.jobList({ queue: q, state: 'dead', offset: 0, limit: 2 })).map((j) => j.jid)).toEqual(['d4', 'd3']);
        expect(await store.jobRetryNow({ queue: q, jid: 'd4', from: 'dead', nowMs: T0 })).toBe(true);
        expect(await store.jobRetryNow({ queue: q, jid: 'd4', from: 'dead', nowMs: T0 })).toBe(false);
        expect(JSON.parse((await store.jobFetch({ queue: q, count: 1, ...lease }))[0]!.raw).error_message).toBe('boom');
        expect(await store.jobDelete({ queue: q, jid: 'd3', from: 'dead' })).toBe(true);
        expect(await store.jobDelete({ queue: q, jid: 'd3', from: 'dead' })).toBe(false);
        expect(await maintain(q, T0 + 10, { deadMaxSize: 1 })).toMatchObject({ trimmed: 1 });
        expect((await store.jobList({ queue: q, state: 'dead', offset: 0, limit: 10 })).map((j) => j.jid)).toEqual(['d2']);
        expect(await maintain(q, T0 + 10_000, { deadMaxAgeMs: 5000 })).toMatchObject({ trimmed: 1 });
        expect(await store.queueSizes(q)).toMatchObject({ dead: 0 });
      });
    });

    describe('counters', () => {
      it('counts done acks, failures (retry and dead, not snoozes), absorbed twins, reschedules and load-balancing decisions', async () => {
        const q = queue();
        expect(await store.queueCounters(q)).toEqual({ processed: 0, failed: 0, deduplicated: 0, rescheduled: 0, decisions: {} });
        for (const jid of ['ok', 'r', 'd', 's']) await push(q, jid);
        await fetchJids(q);
        await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'ok', strategy: 'replica' }, { jid: 'ok' }] });
        const later = { queue: q, token, nowMs: T0, runAtMs: T0 + 100 };
        await store.jobRetry({ ...later, jid: 'r', raw: raw('r'), kind: 'retry', strategy: 'primary' });
        await store.jobRetry({ ...later, jid: 's', raw: raw('s'), kind: 'snooze', strategy: 'retry' });
        await store.jobDead({ ...later, jid: 'd', raw: raw('d') });
        const d = dedup({ key: 'c0ffee', strategy: 'until_executed', rescheduleOnce: true });
        await push(q, 'owner', { dedup: d });
        await fetchJids(q);
        await push(q, 'twin', { dedup: d });
        await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'owner', dedupKey: d.key, rescheduleRaw: raw('again'), rescheduleJid: 'again', rescheduleTtlMs: 60_000 }] });
        expect(await store.queueCounters(q)).toEqual({ processed: 2, failed: 2, deduplicated: 1, rescheduled: 1, decisions: { replica: 1, primary: 1, retry: 1 } });
      });
    });

    describe('blocking wake-up', () => {
      it('returns as soon as a job is pushed, and after the timeout otherwise', async () => {
        const q = queue();
        const started = Date.now();
        await store.jobWait({ queues: [q], timeoutMs: 150 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
        const waiting = store.jobWait({ queues: [queue(), q], timeoutMs: 10_000 });
        setTimeout(() => void push(q, 'wake'), 50);
        const before = Date.now();
        await waiting;
        expect(Date.now() - before).toBeLessThan(5000);
      });

      it('wakes a waiter while jobs remain after a fetch, and not once the list is empty', async () => {
        const q = queue();
        await push(q, 'a');
        await push(q, 'b');
        const waitMs = async (): Promise<number> => {
          const before = Date.now();
          await store.jobWait({ queues: [q], timeoutMs: 400 });
          return Date.now() - before;
        };
        expect(await waitMs()).toBeLessThan(300);
        expect(await fetchJids(q, 1)).toEqual(['a']);
        expect(await waitMs()).toBeLessThan(300);
        expect(await fetchJids(q, 1)).toEqual(['b']);
        expect(await waitMs()).toBeGreaterThanOrEqual(390);
      });

      it('returns when aborted', async () => {
        const abort = new AbortController();
        const waiting = store.jobWait({ queues: [queue()], timeoutMs: 10_000, signal: abort.signal });
        setTimeout(() => abort.abort(), 30);
        const before = Date.now();
        await waiting;
        expect(Date.now() - before).toBeLessThan(5000);
      });
    });

    describe('a fetch resent after its reply was lost', () => {
      it('hands a fetch resent with the same fetch id the jobs the first one leased, and leases no more', async () => {
        const q = queue();
        for (const jid of ['a', 'b', 'c']) await push(q, jid);
        const first = await store.jobFetch({ queue: q, count: 2, ...lease, fetchId: 'f1' });
        const again = await store.jobFetch({ queue: q, count: 2, ...lease, fetchId: 'f1' });
        expect(again).toEqual(first);
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, inFlight: 2 });
        await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'a' }] });
        expect((await store.jobFetch({ queue: q, count: 2, ...lease, fetchId: 'f1' })).map((j) => j.jid)).toEqual(['b']);
        expect((await store.jobFetch({ queue: q, count: 2, ...lease, fetchId: 'f2' })).map((j) => j.jid)).toEqual(['c']);
      });
    });

    describe('malformed payloads', () => {
      // Valid JSON from another producer: the lease id is the payload's own top-level jid, whatever the layout.
      it.each([
        ['spaces after colons', '{"jid": "sp1", "class": "Echo", "args": {}, "created_at": 1}', 'sp1'],
        ['jid not the first field', '{"class":"Echo","jid":"late1","args":{},"created_at":1}', 'late1'],
        ['a jid with a dot', '{"jid":"a.b.c","class":"Echo","args":{},"created_at":1}', 'a.b.c'],
        ['a "jid" in args before its own', '{"args":{"jid":"decoy"},"class":"Echo","jid":"own1","created_at":1}', 'own1'],
      ])('leases a foreign payload with %s under its own jid', async (_, payload, jid) => {
        const q = queue();
        await store.jobPush({ queue: q, jid: 'pushed-as', raw: payload, nowMs: T0 });
        const [job] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(job).toEqual({ jid, raw: payload });
        expect(await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid }] })).toEqual([{ jid, acked: true }]);
        expect(await store.queueSizes(q)).toMatchObject({ ready: 0, inFlight: 0 });
      });

      it('leases a payload whose jid a job in flight holds under a derived id, never over the other lease', async () => {
        const q = queue();
        const [first, second] = [raw('twin'), JSON.stringify({ class: 'Echo', jid: 'twin', args: { n: 2 }, created_at: 1 })];
        await store.jobPush({ queue: q, jid: 'twin', raw: first, nowMs: T0 });
        expect(await store.jobFetch({ queue: q, count: 5, ...lease })).toEqual([{ jid: 'twin', raw: first }]);
        await store.jobPush({ queue: q, jid: 'twin', raw: second, nowMs: T0 }); // another producer, the same jid
        const [job] = await store.jobFetch({ queue: q, count: 5, ...lease });
        expect(job!.jid).toMatch(/^twin#[0-9a-f]{40}$/);
        expect((await store.jobList({ queue: q, state: 'active', offset: 0, limit: 5 })).map((j) => j.raw).sort()).toEqual([first, second].sort());
      });

      it('leases a payload without a string jid under an id made from its hash', async () => {
        const q = queue();
        const payloads = ['{"class":"Echo","args":{},"created_at":1}', '{"jid":7,"class":"Echo","args":{},"created_at":1}'];
        for (const [i, payload] of payloads.entries()) await store.jobPush({ queue: q, jid: `p${i}`, raw: payload, nowMs: T0 });
        const jids = await fetchJids(q);
        expect(jids).toHaveLength(2);
        for (const jid of jids) expect(jid).toMatch(/^unreadable-[0-9a-f]{40}$/);
        expect(await store.queueSizes(q)).toMatchObject({ inFlight: 2 });
      });

      it('still hands out a payload that is not JSON, under a synthetic jid, so it can be moved to the dead set', async () => {
        const q = queue();
        await store.jobPush({ queue: q, jid: 'x', raw: 'not json at all', nowMs: T0 });
        const [job] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(job!.raw).toBe('not json at all');
        expect(job!.jid).toMatch(/^unreadable-/);
        expect(await store.jobDead({ queue: q, jid: job!.jid, token, raw: job!.raw, nowMs: T0, runAtMs: T0 })).toEqual({ moved: true, absorbed: 0 });
        expect((await store.jobList({ queue: q, state: 'dead', offset: 0, limit: 1 }))[0]!.raw).toBe('not json at all');
      });
    });

    describe('deduplication', () => {
      it('absorbs an idempotent twin and names the owner', async () => {
        const q = queue();
        expect(await push(q, 'owner', { dedup: dedup() })).toEqual({ pushed: true, jid: 'owner' });
        expect(await push(q, 'twin', { dedup: dedup() })).toEqual({ pushed: false, jid: 'twin', duplicateOf: 'owner', walRaised: [] });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, dedupKeys: 1 });
        expect(await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 })).toMatchObject({ ownerJid: 'owner', absorbed: 1, strategy: 'until_executing', ttlMs: 60_000 });
      });

      it('counts the quiet twins folded into a push as absorbed right after it: claiming, meeting, and while the owner runs', async () => {
        const q = queue();
        const withTwins = (jid: string, twins: number, over: Partial<DedupPushParams> = {}) =>
          store.jobPushEach([{ queue: q, jid, raw: raw(jid, { idempotency_key: 'ab12' }), nowMs: T0, dedup: dedup(over), twins }]);
        expect(await withTwins('owner', 3)).toEqual([{ pushed: true, jid: 'owner' }]);
        expect(await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 })).toMatchObject({ ownerJid: 'owner', absorbed: 3, absorbedWhileExecuting: 0 });
        expect(await withTwins('met', 2)).toEqual([{ pushed: false, jid: 'met', duplicateOf: 'owner', walRaised: [] }]);
        expect(await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 })).toMatchObject({ absorbed: 6 });
        const running = queue();
        await store.jobPushEach([{ queue: running, jid: 'owner', raw: raw('owner', { idempotency_key: 'ab12' }), nowMs: T0, dedup: dedup({ strategy: 'until_executed' }) }]);
        await fetchJids(running);
        await store.jobPushEach([{ queue: running, jid: 'late', raw: raw('late', { idempotency_key: 'ab12' }), nowMs: T0, dedup: dedup({ strategy: 'until_executed' }), twins: 4 }]);
        expect(await store.dedupShow({ queue: running, key: 'ab12', nowMs: T0 })).toMatchObject({ executing: true, absorbed: 5, absorbedWhileExecuting: 5 });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1 });
        expect((await store.queueCounters(q)).deduplicated).toBe(6);
        expect((await store.queueCounters(running)).deduplicated).toBe(5);
      });

      it('pushes a twin of a non-idempotent worker with duplicate-of set', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: dedup({ idempotent: false }) });
        expect(await push(q, 'twin', { dedup: dedup({ idempotent: false }) })).toEqual({ pushed: true, jid: 'twin', duplicateOf: 'owner' });
        const jobs = await store.jobFetch({ queue: q, count: 10, ...lease });
        expect(jobs.map((j) => JSON.parse(j.raw)['duplicate-of'])).toEqual([undefined, 'owner']);
        expect(jobs[1]!.jid).toBe('twin');
      });

      it('raises the cookie WAL to the 64-bit max per database when preserving, adding new databases', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: dedup({ wal: { main: '0/FFFFFFFF', ci: '0/10' } }) });
        expect(await push(q, 't1', { dedup: dedup({ wal: { main: '1/0', ci: '0/9', sec: '0/5' } }) })).toMatchObject({ pushed: false, walRaised: ['main', 'sec'] });
        expect(await push(q, 't2', { dedup: dedup({ wal: { main: '0/FFFFFFFE' } }) })).toMatchObject({ walRaised: [] });
        expect((await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 }))!.wal).toEqual({ main: '1/0', ci: '0/10', sec: '0/5' });
        const [job] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(JSON.parse(job!.raw).dedup_wal_locations).toEqual({ main: '1/0', ci: '0/10', sec: '0/5' });
      });

      it('keeps the owner WAL when not preserving, and marks unreadable positions invalid', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: dedup({ wal: { main: '0/10' }, preserveLatestWal: false }) });
        await push(q, 't1', { dedup: dedup({ wal: { main: '0/20' }, preserveLatestWal: false }) });
        expect((await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 }))!.wal).toEqual({ main: '0/10' });
        await push(q, 't2', { dedup: dedup({ wal: { main: 'garbage' } }) });
        expect((await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 }))!.wal).toEqual({ main: 'invalid' });
      });

      it('until_executing: releases the key in the fetch that hands the job out', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: dedup({ wal: { main: '0/1' } }) });
        const [job] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(JSON.parse(job!.raw).dedup_wal_locations).toEqual({ main: '0/1' });
        expect(await store.queueSizes(q)).toMatchObject({ dedupKeys: 0 });
        // Put back by shutdown, the job keeps the WAL it read from the now released cookie.
        await store.jobRequeue({ queue: q, token, jids: ['owner'] });
        const [again] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(JSON.parse(again!.raw).dedup_wal_locations).toEqual({ main: '0/1' });
        expect(await push(q, 'next', { dedup: dedup() })).toEqual({ pushed: true, jid: 'next' });
      });

      const executed = dedup({ strategy: 'until_executed', rescheduleOnce: true, wal: { main: '0/1' } });
      const ackOwner = (q: string) =>
        store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'owner', dedupKey: 'ab12', rescheduleJid: 'again', rescheduleRaw: raw('again', { idempotency_key: 'ab12', rescheduled_once: true }), rescheduleTtlMs: 60_000 }] });

      it('until_executed: absorbs twins while running and reschedules once with the latest WAL', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: executed });
        await fetchJids(q);
        expect(await push(q, 'twin', { dedup: { ...executed, wal: { main: '0/2' } } })).toMatchObject({ pushed: false, duplicateOf: 'owner' });
        expect(await ackOwner(q)).toEqual([{ jid: 'owner', acked: true, rescheduled: 'again' }]);
        const [again] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(again!.jid).toBe('again');
        expect(JSON.parse(again!.raw)).toMatchObject({ rescheduled_once: true, wal_locations: { main: '0/2' } });
        expect(JSON.parse(again!.raw).dedup_wal_locations).toEqual({ main: '0/2' });
      });

      it('until_executed: releases without rescheduling when nothing arrived while it ran', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: executed });
        await push(q, 'twin-before-start', { dedup: executed });
        await fetchJids(q);
        expect(await ackOwner(q)).toEqual([{ jid: 'owner', acked: true }]);
        expect(await store.queueSizes(q)).toMatchObject({ ready: 0, dedupKeys: 0 });
      });

      it('until_executed: a job waiting for retry keeps absorbing; going dead releases the key', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: executed });
        await fetchJids(q);
        const later = { queue: q, jid: 'owner', token, raw: raw('owner', { idempotency_key: 'ab12' }), nowMs: T0, runAtMs: T0 + 10, dedupKey: 'ab12' };
        await store.jobRetry({ ...later, kind: 'retry' });
        expect(await push(q, 'twin', { dedup: executed })).toMatchObject({ pushed: false });
        expect(await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 })).toMatchObject({ executing: false, absorbedWhileExecuting: 0, absorbed: 1 });
        await store.queueMaintain({ queue: q, token: 'm', nowMs: T0 + 10, lockMs: 1000, limit: 10, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        await fetchJids(q);
        expect(await store.jobDead(later)).toEqual({ moved: true, absorbed: 1 });
        expect(await store.queueSizes(q)).toMatchObject({ dedupKeys: 0, dead: 1, ready: 0 });
      });

      it('GitLab: until_executed does not lose the work of twins absorbed by an owner that dies (reschedule_once pushes it once more)', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: executed });
        await fetchJids(q);
        const later = { queue: q, jid: 'owner', token, raw: raw('owner', { idempotency_key: 'ab12' }), nowMs: T0, runAtMs: T0 + 10, dedupKey: 'ab12' };
        await store.jobRetry({ ...later, kind: 'retry' });
        expect(await push(q, 'twin', { dedup: { ...executed, wal: { main: '0/5' } } })).toMatchObject({ pushed: false });
        await store.queueMaintain({ queue: q, token: 'm', nowMs: T0 + 10, lockMs: 1000, limit: 10, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        await fetchJids(q);
        const again = JSON.stringify({ jid: 'again', idempotency_key: 'ab12', class: 'Echo', args: {}, created_at: 1, rescheduled_once: true });
        expect(await store.jobDead({ ...later, reschedule: { jid: 'again', raw: again, ttlMs: 60_000 } })).toEqual({ moved: true, absorbed: 1, rescheduled: 'again' });
        expect(await store.queueSizes(q)).toMatchObject({ dead: 1, ready: 1, dedupKeys: 1 });
        expect(await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 })).toMatchObject({ ownerJid: 'again', absorbed: 0, wal: { main: '0/5' } });
        expect(await push(q, 'twin-2', { dedup: executed })).toMatchObject({ pushed: false, duplicateOf: 'again' });
        const [fetched] = await store.jobFetch({ queue: q, count: 1, ...lease });
        expect(JSON.parse(fetched!.raw)).toMatchObject({ jid: 'again', rescheduled_once: true, wal_locations: { main: '0/5' } });
        expect(await store.queueCounters(q)).toMatchObject({ rescheduled: 1 });
      });

      it('until_executed: an owner that dies having absorbed nothing pushes nothing, even with a reschedule payload', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: executed });
        await fetchJids(q);
        const again = JSON.stringify({ jid: 'again', class: 'Echo', args: {}, created_at: 1 });
        const dead = { queue: q, jid: 'owner', token, raw: raw('owner'), nowMs: T0, runAtMs: T0, dedupKey: 'ab12', reschedule: { jid: 'again', raw: again, ttlMs: 60_000 } };
        expect(await store.jobDead(dead)).toEqual({ moved: true, absorbed: 0 });
        expect(await store.queueSizes(q)).toMatchObject({ dead: 1, ready: 0, dedupKeys: 0 });
      });

      it('expires a cookie after its TTL and never extends it for twins', async () => {
        const q = queue();
        await push(q, 'owner', { dedup: dedup({ ttlMs: 1000 }) });
        await push(q, 'twin', { dedup: dedup({ ttlMs: 1000 }), nowMs: T0 + 900 });
        expect((await store.dedupShow({ queue: q, key: 'ab12', nowMs: T0 + 900 }))!.ttlMs).toBe(100);
        expect(await push(q, 'fresh', { dedup: dedup({ ttlMs: 1000 }), nowMs: T0 + 1000 })).toEqual({ pushed: true, jid: 'fresh' });
      });

      it('releases the key of a job deleted from the retry set', async () => {
        const q = queue();
        const d = dedup({ strategy: 'until_executed' });
        await push(q, 'owner', { dedup: d });
        await fetchJids(q);
        await store.jobRetry({ queue: q, jid: 'owner', token, raw: raw('owner', { idempotency_key: d.key }), nowMs: T0, runAtMs: T0 + 60_000, kind: 'retry', dedupKey: d.key });
        expect(await store.jobDelete({ queue: q, jid: 'owner', from: 'retry' })).toBe(true);
        expect(await store.queueSizes(q)).toMatchObject({ retry: 0, dedupKeys: 0 });
        expect(await push(q, 'next', { dedup: d })).toEqual({ pushed: true, jid: 'next' });
      });

      it('reaps an orphaned cookie behind many live ones, a page at a time, resuming from the cursor', async () => {
        const q = queue();
        const d = (key: string) => dedup({ key, strategy: 'until_executed' });
        await push(q, 'lost', { dedup: d('orphan') });
        await store.jobFetch({ queue: q, count: 1, token: 'ghost', leaseMs: 1, nowMs: T0 });
        await store.jobAck({ queue: q, token: 'ghost', nowMs: T0, jobs: [{ jid: 'lost' }] });
        await store.jobPushMany(Array.from({ length: 1500 }, (_, i) => ({ queue: q, jid: `w${i}`, raw: raw(`w${i}`, { idempotency_key: `live${i}` }), nowMs: T0, dedup: d(`live${i}`) })));
        await store.queueMaintain({ queue: q, token: 'm', nowMs: T0, lockMs: 60_000, limit: 10, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        let cursor = '0';
        let released = 0;
        for (let pass = 0; pass < 30; pass++) {
          const result = await store.dedupReap({ queue: q, token: 'm', nowMs: T0, limit: 200, cursor });
          released += result.released;
          cursor = result.cursor;
          if (cursor === '0') break;
        }
        expect(cursor).toBe('0');
        expect(released).toBe(1);
        expect(await store.queueSizes(q)).toMatchObject({ dedupKeys: 1500 });
      });

      it('reaps cookies whose owner is nowhere, and keeps those whose owner waits, runs or is scheduled', async () => {
        const q = queue();
        const d = (key: string) => dedup({ key, strategy: 'until_executed' });
        await push(q, 'lost', { dedup: d('dd') });
        await push(q, 'waiting', { dedup: d('aa') });
        await push(q, 'scheduled', { dedup: d('bb'), runAtMs: T0 + 60_000 });
        await push(q, 'running', { dedup: d('cc') });
        // 'lost' vanishes as if its queue had been flushed: acked without settling its cookie.
        await store.jobFetch({ queue: q, count: 1, token: 'ghost', leaseMs: 1, nowMs: T0 });
        await store.jobAck({ queue: q, token: 'ghost', nowMs: T0, jobs: [{ jid: 'lost' }] });
        await store.jobFetch({ queue: q, count: 2, ...lease });
        await store.jobRequeue({ queue: q, token, jids: ['waiting'] });
        const reap = (token: string) => store.dedupReap({ queue: q, token, nowMs: T0, limit: 1000, cursor: '0' });
        await store.queueMaintain({ queue: q, token: 'm', nowMs: T0, lockMs: 60_000, limit: 10, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        // Only the holder of the maintenance lock releases anything (promotions to the ready list happen under it).
        expect(await reap('not-the-holder')).toEqual({ released: 0, cursor: '0' });
        expect(await reap('m')).toEqual({ released: 1, cursor: '0' });
        expect(await store.dedupShow({ queue: q, key: 'dd', nowMs: T0 })).toBeUndefined();
        for (const key of ['aa', 'bb', 'cc']) expect(await store.dedupShow({ queue: q, key, nowMs: T0 })).toBeDefined();
      });
    });

    queueFetchConformance(() => store);
  });
}
