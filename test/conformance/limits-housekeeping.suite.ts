import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdsJobs, type JobStore } from '../../src/store/job-store.js';
import { LIMIT_ENTRY_TTL_MS, type WorkerLimits } from '../../src/store/limits.js';

/**
 * How limits meet the rest of the store, run against every store: deferred jobs in the queue's sizes, pause and
 * the release hand-over, and limit entries that no worker declares any more. Times are explicit epoch ms.
 */
export function limitsHousekeepingConformance(name: string, open: () => Promise<{ store: JobStore; close: () => Promise<void> }>): void {
  describe(`JobStore limits housekeeping conformance: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;
    const T0 = 1_800_000_000_000;
    const LEASE = 30_000;
    const one: WorkerLimits = { concurrency: 1 };

    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());

    const queue = (): string => `q${randomBytes(4).toString('hex')}`;
    const raw = (jid: string, workerClass: string): string => JSON.stringify({ jid, class: workerClass, args: {}, created_at: 1 });
    const push = (q: string, workerClass: string, ...jids: string[]) => store.jobPushMany(jids.map((jid) => ({ queue: q, jid, raw: raw(jid, workerClass), nowMs: T0 })));
    const fetch = async (q: string, count: number, token = 'A', nowMs = T0) => (await store.jobFetch({ queue: q, count, token, leaseMs: LEASE, nowMs })).map((j) => j.jid);
    const acquire = (q: string, workerClass: string, jid: string, limits: WorkerLimits, nowMs = T0) =>
      store.limitAcquire({ queue: q, jid, token: 'A', workerClass, limits, nowMs, reserveMs: LEASE });
    const ack = (q: string, jid: string) => store.jobAck({ queue: q, token: 'A', nowMs: T0, jobs: [{ jid }] });
    const listed = async (q: string, nowMs: number) => (await store.limitList({ queue: q, nowMs })).map((u) => ({ workerClass: u.workerClass, deferred: u.deferred }));

    describe('queue sizes', () => {
      it('count deferred jobs of every limited class, so a queue holding only deferred jobs is not empty', async () => {
        const q = queue();
        await push(q, 'A1', 'a1', 'a2', 'a3');
        await push(q, 'B1', 'b1', 'b2');
        expect(await fetch(q, 5)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
        expect((await Promise.all(['a1', 'a2', 'a3'].map((jid) => acquire(q, 'A1', jid, one)))).map((r) => r.outcome)).toEqual(['granted', 'deferred', 'deferred']);
        expect((await Promise.all(['b1', 'b2'].map((jid) => acquire(q, 'B1', jid, one)))).map((r) => r.outcome)).toEqual(['granted', 'deferred']);
        expect(await store.queueSizes(q)).toEqual({ ready: 0, scheduled: 0, retry: 0, dead: 0, inFlight: 2, dedupKeys: 0, deferred: 3 });
        await ack(q, 'a1');
        await ack(q, 'b1');
        const sizes = await store.queueSizes(q);
        expect(sizes).toMatchObject({ ready: 0, inFlight: 0, deferred: 3 });
        expect(holdsJobs(sizes)).toBe(true);
        expect(await store.queueRemove(q)).toEqual({ removed: false, reason: 'not_empty', sizes });
        expect(await store.queueList()).toContain(q);
      });

      it('are zero deferred for a queue without limits', async () => {
        const q = queue();
        await push(q, 'Plain', 'p');
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, deferred: 0 });
      });
    });

    describe('pause', () => {
      it('a freed slot on a paused queue hands nothing over: the deferred job waits in the ready list until resume', async () => {
        const q = queue();
        await push(q, 'C', 'a', 'b');
        await fetch(q, 2);
        expect((await acquire(q, 'C', 'a', one)).outcome).toBe('granted');
        expect((await acquire(q, 'C', 'b', one)).outcome).toBe('deferred');
        expect(await store.queuePause({ queue: q, nowMs: T0 })).toBe(true);
        await ack(q, 'a');
        const released = await store.limitRelease({ queue: q, workerClass: 'C', limits: one, nowMs: T0, reserveMs: LEASE, jid: 'a', token: 'A', handOver: { leaseMs: LEASE } });
        expect(released.handedOver).toBeUndefined();
        expect(await store.queueSizes(q)).toMatchObject({ ready: 1, inFlight: 0, deferred: 0 });
        expect(await fetch(q, 10, 'B')).toEqual([]);
        expect(await store.queueResume(q)).toBe(true);
        expect(await fetch(q, 10, 'B')).toEqual(['b']);
        expect(await store.limitAcquire({ queue: q, jid: 'b', token: 'B', workerClass: 'C', limits: one, nowMs: T0, reserveMs: LEASE })).toEqual({ outcome: 'granted' });
      });

      it('a job deferred before the pause starts after resume even when its reservation expired meanwhile', async () => {
        const q = queue();
        await push(q, 'C', 'a', 'b');
        await fetch(q, 2);
        await acquire(q, 'C', 'a', one);
        await acquire(q, 'C', 'b', one);
        await store.queuePause({ queue: q, nowMs: T0 });
        await ack(q, 'a');
        await store.limitRelease({ queue: q, workerClass: 'C', limits: one, nowMs: T0, reserveMs: LEASE, jid: 'a', token: 'A', handOver: { leaseMs: LEASE } });
        await store.queueResume(q);
        const later = T0 + 10 * LEASE;
        expect(await fetch(q, 10, 'B', later)).toEqual(['b']);
        expect(await store.limitAcquire({ queue: q, jid: 'b', token: 'B', workerClass: 'C', limits: one, nowMs: later, reserveMs: LEASE })).toEqual({ outcome: 'granted' });
      });

      it('an unpaused queue still hands the deferred job over', async () => {
        const q = queue();
        await push(q, 'C', 'a', 'b');
        await fetch(q, 2);
        await acquire(q, 'C', 'a', one);
        await acquire(q, 'C', 'b', one);
        await ack(q, 'a');
        const released = await store.limitRelease({ queue: q, workerClass: 'C', limits: one, nowMs: T0, reserveMs: LEASE, jid: 'a', token: 'A', handOver: { leaseMs: LEASE } });
        expect(released.handedOver?.jid).toBe('b');
      });
    });

    describe('stale entries', () => {
      it('an entry no check declared within LIMIT_ENTRY_TTL_MS and holding no job is dropped; a new check brings it back', async () => {
        const q = queue();
        await push(q, 'Gone', 'g');
        await push(q, 'Kept', 'k');
        await fetch(q, 2);
        await acquire(q, 'Gone', 'g', one);
        await ack(q, 'g');
        await store.limitRelease({ queue: q, workerClass: 'Gone', limits: one, nowMs: T0, reserveMs: LEASE, jid: 'g', token: 'A' });
        const later = T0 + LIMIT_ENTRY_TTL_MS;
        await acquire(q, 'Kept', 'k', one, later);
        expect(await listed(q, later)).toEqual([{ workerClass: 'Gone', deferred: 0 }, { workerClass: 'Kept', deferred: 0 }]);
        expect(await listed(q, later + 1)).toEqual([{ workerClass: 'Kept', deferred: 0 }]);
        expect(await listed(q, later + 2)).toEqual([{ workerClass: 'Kept', deferred: 0 }]);
        await push(q, 'Gone', 'g2');
        await fetch(q, 1, 'A', later + 2);
        expect((await acquire(q, 'Gone', 'g2', one, later + 2)).outcome).toBe('granted');
        expect(await listed(q, later + 2)).toEqual([{ workerClass: 'Gone', deferred: 0 }, { workerClass: 'Kept', deferred: 0 }]);
      });

      it('never drops an entry that still holds deferred or running jobs', async () => {
        const q = queue();
        await push(q, 'Busy', 'a', 'b');
        await fetch(q, 2, 'A');
        await acquire(q, 'Busy', 'a', one);
        await acquire(q, 'Busy', 'b', one);
        const later = T0 + 2 * LIMIT_ENTRY_TTL_MS;
        expect(await listed(q, later)).toEqual([{ workerClass: 'Busy', deferred: 1 }]);
        expect((await store.limitList({ queue: q, nowMs: later }))[0]).toMatchObject({ running: 1, deferred: 1, deferredTotal: 1 });
        expect(await store.queueSizes(q)).toMatchObject({ deferred: 1 });
      });
    });
  });
}
