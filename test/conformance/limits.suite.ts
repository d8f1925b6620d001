import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/store/job-store.js';
import type { WorkerLimits } from '../../src/store/limits.js';

/**
 * The limits part of the JobStore contract (invariants in src/store/limits.ts), run against every store.
 * Times are explicit epoch ms, so nothing sleeps.
 */
export function limitsConformance(name: string, open: () => Promise<{ store: JobStore; close: () => Promise<void> }>): void {
  describe(`JobStore limits conformance: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;
    const T0 = 1_800_000_000_000;
    const LEASE = 30_000;
    const W = 'Limited';

    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());

    const queue = (): string => `q${randomBytes(4).toString('hex')}`;
    const raw = (jid: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ jid, ...extra, class: W, args: { n: jid }, created_at: 1 });
    const push = (q: string, ...jids: string[]) => store.jobPushMany(jids.map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 })));
    const fetch = async (q: string, count: number, token = 'A', nowMs = T0) => (await store.jobFetch({ queue: q, count, token, leaseMs: LEASE, nowMs })).map((j) => j.jid);
    const acquire = (q: string, jid: string, limits: WorkerLimits, more: { token?: string; nowMs?: number; dedupKey?: string } = {}) =>
      store.limitAcquire({ queue: q, jid, token: more.token ?? 'A', workerClass: W, limits, nowMs: more.nowMs ?? T0, reserveMs: LEASE, ...(more.dedupKey ? { dedupKey: more.dedupKey } : {}) });
    const release = (q: string, limits: WorkerLimits, more: { jid?: string; token?: string; nowMs?: number } = {}) =>
      store.limitRelease({ queue: q, workerClass: W, limits, nowMs: more.nowMs ?? T0, reserveMs: LEASE, ...(more.jid ? { jid: more.jid, token: more.token ?? 'A' } : {}) });
    const ack = (q: string, jid: string, token = 'A') => store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid }] });
    const usage = async (q: string, nowMs = T0) => (await store.limitList({ queue: q, nowMs }))[0];
    const outcomes = async (q: string, jids: string[], limits: WorkerLimits, nowMs = T0) => {
      const results = [];
      for (const jid of jids) results.push((await acquire(q, jid, limits, { nowMs })).outcome);
      return results;
    };

    describe('concurrency', () => {
      const two = { concurrency: 2 };

      it('grants up to the limit and parks the rest with their lease released, not failed, attempt not used', async () => {
        const q = queue();
        await push(q, 'a', 'b', 'c', 'd');
        expect(await fetch(q, 4)).toEqual(['a', 'b', 'c', 'd']);
        expect(await acquire(q, 'a', two)).toEqual({ outcome: 'granted' });
        expect(await acquire(q, 'b', two)).toEqual({ outcome: 'granted' });
        expect(await acquire(q, 'c', two)).toEqual({ outcome: 'deferred', reason: 'concurrency' });
        expect(await acquire(q, 'd', two)).toEqual({ outcome: 'deferred', reason: 'concurrency' });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 0, inFlight: 2, retry: 0, scheduled: 0 });
        expect(await store.queueCounters(q)).toMatchObject({ failed: 0 });
        expect(await store.limitList({ queue: q, nowMs: T0 })).toEqual([{ workerClass: W, limits: two, running: 2, reserved: 0, deferred: 2, startsInWindow: 0, deferredTotal: 2 }]);
        // A parked job has no lease: settling it under the old lease does nothing.
        expect(await ack(q, 'c')).toEqual([{ jid: 'c', acked: false }]);
        expect(await fetch(q, 10)).toEqual([]);
      });

      it('moves deferred jobs back oldest first as slots free, unchanged, with the slot reserved for them', async () => {
        const q = queue();
        await push(q, 'a', 'b', 'c', 'd');
        await fetch(q, 4);
        expect(await outcomes(q, ['a', 'b', 'c', 'd'], two)).toEqual(['granted', 'granted', 'deferred', 'deferred']);
        await ack(q, 'a');
        expect(await release(q, two, { jid: 'a' })).toEqual({ promoted: 1 });
        const [back] = await store.jobFetch({ queue: q, count: 10, token: 'B', leaseMs: LEASE, nowMs: T0 });
        expect(back).toEqual({ jid: 'c', raw: raw('c') });
        expect(JSON.parse(back!.raw).retry_count).toBeUndefined();
        expect(await usage(q)).toMatchObject({ running: 1, reserved: 1, deferred: 1 });
        expect(await acquire(q, 'c', two, { token: 'B' })).toEqual({ outcome: 'granted' });
        expect(await usage(q)).toMatchObject({ running: 2, reserved: 0, deferred: 1 });
      });

      it('never lets a fresh job start ahead of deferred ones (FIFO per class), even with a reserved slot on the way', async () => {
        const q = queue();
        await push(q, 'a', 'b', 'c');
        await fetch(q, 3);
        expect(await outcomes(q, ['a', 'b', 'c'], { concurrency: 1 })).toEqual(['granted', 'deferred', 'deferred']);
        await ack(q, 'a');
        expect(await release(q, { concurrency: 1 }, { jid: 'a' })).toEqual({ promoted: 1 });
        await push(q, 'e');
        // b comes first (head of the ready list); e is acquired before b, and still waits behind b and c.
        expect(await fetch(q, 2)).toEqual(['b', 'e']);
        expect(await acquire(q, 'e', { concurrency: 1 })).toEqual({ outcome: 'deferred', reason: 'concurrency' });
        expect(await acquire(q, 'b', { concurrency: 1 })).toEqual({ outcome: 'granted' });
        await ack(q, 'b');
        await release(q, { concurrency: 1 }, { jid: 'b' });
        expect(await fetch(q, 5)).toEqual(['c']);
        expect(await acquire(q, 'c', { concurrency: 1 })).toEqual({ outcome: 'granted' });
        await ack(q, 'c');
        await release(q, { concurrency: 1 }, { jid: 'c' });
        expect(await fetch(q, 5)).toEqual(['e']);
      });

      it("gives a dead worker's slots back with its leases: a recovered slot holder keeps its slot when fetched again", async () => {
        const q = queue();
        const one = { concurrency: 1 };
        await push(q, 'a', 'b');
        await fetch(q, 1, 'A');
        expect(await acquire(q, 'a', one)).toMatchObject({ outcome: 'granted' });
        await fetch(q, 1, 'B');
        expect(await acquire(q, 'b', one, { token: 'B' })).toMatchObject({ outcome: 'deferred' });
        // Worker A dies holding a: its lease expires and maintenance puts a back.
        const later = T0 + LEASE + 1;
        expect(await store.queueMaintain({ queue: q, token: 'm', nowMs: later, lockMs: 1000, limit: 100, deadMaxSize: 10, deadMaxAgeMs: 1e9 })).toMatchObject({ recovered: 1 });
        expect(await fetch(q, 5, 'B', later)).toEqual(['a']);
        expect(await acquire(q, 'a', one, { token: 'B', nowMs: later })).toMatchObject({ outcome: 'granted' });
        // A's late release of a (it lost the lease) must not free the slot B now holds.
        expect(await release(q, one, { jid: 'a', token: 'A', nowMs: later })).toEqual({ promoted: 0 });
        expect(await usage(q, later)).toMatchObject({ running: 1, deferred: 1 });
        await ack(q, 'a', 'B');
        expect(await release(q, one, { jid: 'a', token: 'B', nowMs: later })).toEqual({ promoted: 1 });
        expect(await fetch(q, 5, 'B', later)).toEqual(['b']);
      });

      it('frees the slot of a job whose lease is gone without a release (lost release or crash), then moves deferred jobs on', async () => {
        const q = queue();
        const one = { concurrency: 1 };
        await push(q, 'a', 'b');
        await fetch(q, 2);
        expect(await outcomes(q, ['a', 'b'], one)).toEqual(['granted', 'deferred']);
        const later = T0 + LEASE + 1;
        await store.queueMaintain({ queue: q, token: 'm', nowMs: later, lockMs: 1000, limit: 100, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        // a is back in the ready list but nobody has fetched it yet: a wake-up (the sweep) finds its slot free.
        expect(await release(q, one, { nowMs: later })).toEqual({ promoted: 1 });
        expect(await fetch(q, 5, 'B', later)).toEqual(['b', 'a']);
        expect(await acquire(q, 'a', one, { token: 'B', nowMs: later })).toMatchObject({ outcome: 'deferred', reason: 'concurrency' });
        expect(await acquire(q, 'b', one, { token: 'B', nowMs: later })).toMatchObject({ outcome: 'granted' });
      });

      it('hands the oldest deferred job straight to the releasing worker: leased, granted, with its cookie latest WAL', async () => {
        const q = queue();
        const one = { concurrency: 1 };
        const cookie = (wal: string) => ({ key: 'k9', strategy: 'until_executed' as const, idempotent: true, ttlMs: 60_000, wal: { main: wal }, preserveLatestWal: true, rescheduleOnce: false });
        await push(q, 'a');
        await store.jobPush({ queue: q, jid: 'b', raw: raw('b', { idempotency_key: 'k9' }), nowMs: T0, dedup: cookie('0/10') });
        await push(q, 'c');
        await fetch(q, 3);
        expect(await outcomes(q, ['a', 'b', 'c'], one)).toEqual(['granted', 'deferred', 'deferred']);
        // A twin absorbed while b waits raises the cookie's WAL: b must run with it, as after a fetch.
        expect(await store.jobPush({ queue: q, jid: 'b2', raw: raw('b2', { idempotency_key: 'k9' }), nowMs: T0, dedup: cookie('0/20') })).toMatchObject({ pushed: false, duplicateOf: 'b' });
        await ack(q, 'a');
        const released = await store.limitRelease({ queue: q, workerClass: W, limits: one, nowMs: T0, reserveMs: LEASE, jid: 'a', token: 'A', handOver: { leaseMs: LEASE } });
        expect(released).toMatchObject({ promoted: 1, handedOver: { jid: 'b' } });
        expect(JSON.parse(released.handedOver!.raw)).toMatchObject({ jid: 'b', dedup_wal_locations: { main: '0/20' } });
        expect(await store.dedupShow({ queue: q, key: 'k9', nowMs: T0 })).toMatchObject({ ownerJid: 'b', executing: true });
        expect(await store.queueSizes(q)).toMatchObject({ ready: 0, inFlight: 1 });
        expect(await usage(q)).toMatchObject({ running: 1, reserved: 0, deferred: 1 });
        expect((await store.jobList({ queue: q, state: 'active', offset: 0, limit: 5 })).map((j) => j.jid)).toEqual(['b']);
        // Leased under the releasing worker's token: it settles it like any job it fetched.
        expect(await ack(q, 'b')).toEqual([{ jid: 'b', acked: true }]);
        expect(await store.limitRelease({ queue: q, workerClass: W, limits: one, nowMs: T0, reserveMs: LEASE, jid: 'b', token: 'A', handOver: { leaseMs: LEASE } })).toMatchObject({ handedOver: { jid: 'c', raw: raw('c') } });
        expect(await store.limitRelease({ queue: q, workerClass: W, limits: one, nowMs: T0, reserveMs: LEASE, handOver: { leaseMs: LEASE } })).toEqual({ promoted: 0 });
      });

      it('drops a reservation nobody used within reserveMs', async () => {
        const q = queue();
        const one = { concurrency: 1 };
        await push(q, 'a', 'b');
        await fetch(q, 2);
        await outcomes(q, ['a', 'b'], one);
        await ack(q, 'a');
        await release(q, one, { jid: 'a' });
        expect(await usage(q)).toMatchObject({ reserved: 1, running: 0 });
        await release(q, one, { nowMs: T0 + LEASE + 1 });
        expect(await usage(q, T0 + LEASE + 1)).toMatchObject({ reserved: 0, running: 0 });
      });

      it('answers lost for a job not leased under the token, and changes nothing', async () => {
        const q = queue();
        await push(q, 'a');
        await fetch(q, 1, 'A');
        expect(await acquire(q, 'a', two, { token: 'other' })).toEqual({ outcome: 'lost' });
        expect(await acquire(q, 'zz', two)).toEqual({ outcome: 'lost' });
        expect(await store.queueSizes(q)).toMatchObject({ inFlight: 1 });
        expect(await store.limitList({ queue: q, nowMs: T0 })).toEqual([]);
      });

      it('stops counting a parked until_executed owner as executing, so twins absorbed while it waits do not reschedule it', async () => {
        const q = queue();
        const one = { concurrency: 1 };
        await push(q, 'x');
        await store.jobPush({ queue: q, jid: 'a', raw: raw('a', { idempotency_key: 'k1' }), nowMs: T0, dedup: { key: 'k1', strategy: 'until_executed', idempotent: true, ttlMs: 60_000, preserveLatestWal: false, rescheduleOnce: true } });
        await fetch(q, 2);
        expect((await store.dedupShow({ queue: q, key: 'k1', nowMs: T0 }))?.executing).toBe(true);
        expect(await outcomes(q, ['x'], one)).toEqual(['granted']);
        expect(await acquire(q, 'a', one, { dedupKey: 'k1' })).toMatchObject({ outcome: 'deferred' });
        expect(await store.dedupShow({ queue: q, key: 'k1', nowMs: T0 })).toMatchObject({ ownerJid: 'a', executing: false, absorbedWhileExecuting: 0 });
        // The dedup reaper counts a parked owner alive, while it waits and on its way back to a worker.
        const maintain = (nowMs: number) => store.queueMaintain({ queue: q, token: 'm', nowMs, lockMs: 60_000, limit: 100, deadMaxSize: 10, deadMaxAgeMs: 1e9 });
        await maintain(T0);
        expect(await store.dedupReap({ queue: q, token: 'm', nowMs: T0, limit: 1000, cursor: '0' })).toMatchObject({ released: 0 });
        await ack(q, 'x');
        expect(await release(q, one, { jid: 'x' })).toEqual({ promoted: 1 });
        expect(await store.dedupReap({ queue: q, token: 'm', nowMs: T0, limit: 1000, cursor: '0' })).toMatchObject({ released: 0 });
        expect(await store.dedupShow({ queue: q, key: 'k1', nowMs: T0 })).toMatchObject({ ownerJid: 'a' });
      });
    });

    describe('rate', () => {
      const rate = { rate: { max: 2, perMs: 1000 } };

      it('allows max starts per window, parks the rest, and names one wake-up time for the class', async () => {
        const q = queue();
        await push(q, 'a', 'b', 'c', 'd');
        await fetch(q, 4);
        expect(await acquire(q, 'a', rate)).toEqual({ outcome: 'granted' });
        expect(await acquire(q, 'b', rate, { nowMs: T0 + 10 })).toEqual({ outcome: 'granted' });
        // The first start leaves the window at T0 + 1000: that caller wakes up then; the next caller need not.
        expect(await acquire(q, 'c', rate, { nowMs: T0 + 20 })).toEqual({ outcome: 'deferred', reason: 'rate', wakeAtMs: T0 + 1000 });
        expect(await acquire(q, 'd', rate, { nowMs: T0 + 30 })).toEqual({ outcome: 'deferred', reason: 'rate' });
        expect(await usage(q, T0 + 30)).toMatchObject({ startsInWindow: 2, deferred: 2, running: 0 });
        expect(await release(q, rate, { nowMs: T0 + 999 })).toEqual({ promoted: 0 });
        // At T0 + 1000 one start left the window: one job moves, and the next wake-up is when b's start leaves it.
        expect(await release(q, rate, { nowMs: T0 + 1000 })).toEqual({ promoted: 1, wakeAtMs: T0 + 1010 });
        expect(await fetch(q, 5, 'A', T0 + 1000)).toEqual(['c']);
        expect(await release(q, rate, { nowMs: T0 + 1010 })).toEqual({ promoted: 1 });
        expect(await fetch(q, 5, 'A', T0 + 1010)).toEqual(['d']);
        expect(await outcomes(q, ['c', 'd'], rate, T0 + 1500)).toEqual(['granted', 'granted']);
        await push(q, 'e');
        await fetch(q, 1, 'A', T0 + 1600);
        expect(await acquire(q, 'e', rate, { nowMs: T0 + 1600 })).toEqual({ outcome: 'deferred', reason: 'rate', wakeAtMs: T0 + 2500 });
      });

      it('never has more than max starts in any window, whatever the interleaving of fresh and deferred jobs', async () => {
        const q = queue();
        const limits = { rate: { max: 3, perMs: 100 } };
        const starts: number[] = [];
        let n = 0;
        for (let t = T0; t < T0 + 1000; t += 7) {
          await push(q, `j${n}`, `k${n}`);
          n++;
          for (const job of await store.jobFetch({ queue: q, count: 10, token: 'A', leaseMs: LEASE, nowMs: t })) {
            if ((await acquire(q, job.jid, limits, { nowMs: t })).outcome === 'granted') {
              starts.push(t);
              await ack(q, job.jid);
            }
          }
          await release(q, limits, { nowMs: t });
        }
        expect(starts.length).toBeGreaterThan(25);
        for (const t of starts) expect(starts.filter((s) => s > t - 100 && s <= t).length).toBeLessThanOrEqual(3);
      });

      it('combines with a concurrency limit: a job needs both a slot and a start', async () => {
        const q = queue();
        const both = { concurrency: 1, rate: { max: 5, perMs: 1000 } };
        await push(q, 'a', 'b');
        await fetch(q, 2);
        expect(await acquire(q, 'a', both)).toEqual({ outcome: 'granted' });
        expect(await acquire(q, 'b', both)).toEqual({ outcome: 'deferred', reason: 'concurrency' });
        expect(await usage(q)).toMatchObject({ limits: both, running: 1, startsInWindow: 1 });
      });
    });
  });
}
