import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FETCH_MAX, type JobStore } from '../../src/store/job-store.js';

/** The JobStore contract for fetching over several queues and pausing a queue; run inside jobStoreConformance. */
export function queueFetchConformance(getStore: () => JobStore): void {
  const T0 = 1_800_000_000_000;
  const token = 'tok-m';
  const lease = { token, leaseMs: 30_000, nowMs: T0 };
  const queue = (): string => `m${randomBytes(4).toString('hex')}`;
  const raw = (jid: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ jid, ...extra, class: 'Echo', args: {}, created_at: 1 });
  const push = (q: string, ...jids: string[]) => getStore().jobPushMany(jids.map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 })));
  const fetch = async (queues: string[], count: number, more: { fetchId?: string; token?: string; openFetchIds?: string[] } = {}) =>
    (await getStore().jobFetchMany({ queues, count, ...lease, ...more })).map((j) => `${j.queue}/${j.jid}`);

  describe('fetching from several queues', () => {
    it('takes the queues in the order given, each first-in first-out, up to count in all', async () => {
      const [a, b, c] = [queue(), queue(), queue()];
      await push(a, 'a1');
      await push(b, 'b1', 'b2', 'b3');
      await push(c, 'c1');
      expect(await fetch([c, a, b], 3)).toEqual([`${c}/c1`, `${a}/a1`, `${b}/b1`]);
      expect(await fetch([a, b, c], 10)).toEqual([`${b}/b2`, `${b}/b3`]);
      expect(await getStore().queueSizes(b)).toMatchObject({ ready: 0, inFlight: 3 });
      expect(await fetch([a, b, c], 10)).toEqual([]);
    });

    it('leases each job in its own queue: ack, renew and requeue name that queue', async () => {
      const [a, b] = [queue(), queue()];
      await push(a, 'x');
      await push(b, 'y');
      expect(await fetch([a, b], 2)).toEqual([`${a}/x`, `${b}/y`]);
      const store = getStore();
      expect(await store.jobAck({ queue: b, token, nowMs: T0, jobs: [{ jid: 'x' }] })).toEqual([{ jid: 'x', acked: false }]);
      expect(await store.leaseRenew({ queue: a, token, jids: ['x'], leaseMs: 30_000, nowMs: T0 })).toEqual({ lost: [] });
      expect(await store.jobRequeue({ queue: b, token, jids: ['y'] })).toBe(1);
      expect(await fetch([b], 1)).toEqual([`${b}/y`]);
    });

    it('hands out at most FETCH_MAX jobs in all, however many queues hold them', async () => {
      const [a, b] = [queue(), queue()];
      const jids = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
      await push(a, ...jids('a', 600));
      await push(b, ...jids('b', 600));
      expect(await getStore().jobFetchMany({ queues: [a, b], count: 5000, ...lease })).toHaveLength(FETCH_MAX);
      expect((await getStore().queueSizes(b)).ready).toBe(1200 - FETCH_MAX);
    });

    it('a resend with the same fetch id gets back what the first attempt leased from every queue, and leases no more', async () => {
      const [a, b, c] = [queue(), queue(), queue()];
      await push(a, 'a1');
      await push(b, 'b1', 'b2');
      await push(c, 'c1');
      const first = await fetch([a, b, c], 3, { fetchId: 'r1' });
      expect(first).toEqual([`${a}/a1`, `${b}/b1`, `${b}/b2`]);
      // Resent (with the same queues in the same order): the same jobs, and c's job stays ready.
      expect(await fetch([a, b, c], 3, { fetchId: 'r1' })).toEqual(first);
      expect(await getStore().queueSizes(c)).toMatchObject({ ready: 1, inFlight: 0 });
      await getStore().jobAck({ queue: b, token, nowMs: T0, jobs: [{ jid: 'b1' }] });
      expect(await fetch([a, b, c], 3, { fetchId: 'r1' })).toEqual([`${a}/a1`, `${b}/b2`]);
      expect(await fetch([a, b, c], 3, { fetchId: 'r2' })).toEqual([`${c}/c1`]);
    });

    it('a worker has two fetches in flight: either one resent, in any order, gets back what it leased', async () => {
      const [a, b] = [queue(), queue()];
      await push(a, 'a1', 'a2', 'a3', 'a4');
      await push(b, 'b1');
      const earlier = await fetch([a, b], 2, { fetchId: 'w1' });
      const later = await fetch([a, b], 2, { fetchId: 'w2' });
      expect([earlier, later]).toEqual([[`${a}/a1`, `${a}/a2`], [`${a}/a3`, `${a}/a4`]]);
      // Both replies were lost: the earlier is resent first, then the later, and again the earlier.
      expect(await fetch([a, b], 2, { fetchId: 'w1' })).toEqual(earlier);
      expect(await fetch([a, b], 2, { fetchId: 'w2' })).toEqual(later);
      expect(await fetch([a, b], 2, { fetchId: 'w1' })).toEqual(earlier);
      expect(await getStore().queueSizes(b)).toMatchObject({ ready: 1, inFlight: 0 });
    });

    it('a fetch resent after three newer fetches leased jobs gets back what it leased, kept as long as it is named open', async () => {
      const a = queue();
      await push(a, 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9');
      // A reconnect: the fetch in flight (o1) lost its reply and waits to be sent again while newer ones go out.
      const lost = await fetch([a], 2, { fetchId: 'o1', openFetchIds: [] });
      for (const id of ['o2', 'o3', 'o4']) await fetch([a], 2, { fetchId: id, openFetchIds: ['o1'] });
      expect(await fetch([a], 2, { fetchId: 'o1', openFetchIds: [] })).toEqual(lost);
      // Answered at last, it is no longer named open: the next fetch forgets it.
      await fetch([a], 1, { fetchId: 'o5', openFetchIds: [] });
      expect(await fetch([a], 1, { fetchId: 'o1', openFetchIds: [] })).not.toEqual(lost);
      expect(await getStore().queueSizes(a)).toMatchObject({ ready: 0 });
    });

    it('a resend with the same fetch id leases nothing new, also from queues the first attempt found empty', async () => {
      const [a, b, c] = [queue(), queue(), queue()];
      await push(b, 'b1');
      const first = await fetch([a, b, c], 3, { fetchId: 'e1' });
      expect(first).toEqual([`${b}/b1`]);
      // Jobs arrive in the queue the first attempt found empty and in one it reached after it.
      await push(a, 'a1');
      await push(c, 'c1');
      expect(await fetch([a, b, c], 3, { fetchId: 'e1' })).toEqual(first);
      expect(await getStore().queueSizes(a)).toMatchObject({ ready: 1, inFlight: 0 });
      expect(await getStore().queueSizes(c)).toMatchObject({ ready: 1, inFlight: 0 });
      // A new fetch takes them in order; the Redis store may stop at a queue it last saw empty and take the rest in
      // the next fetch (it sends such a queue without its lease keys, and asks again for it with them).
      const next = await fetch([a, b, c], 3, { fetchId: 'e2' });
      if (next.length < 2) next.push(...(await fetch([a, b, c], 3, { fetchId: 'e3' })));
      expect(next).toEqual([`${a}/a1`, `${c}/c1`]);
    });

    it('writes the dedup WAL into the payload and releases an until_executing key, per queue', async () => {
      const [a, b] = [queue(), queue()];
      const store = getStore();
      const dedup = { key: 'k1', strategy: 'until_executing' as const, idempotent: true, ttlMs: 60_000, preserveLatestWal: true, rescheduleOnce: false };
      await store.jobPush({ queue: b, jid: 'd1', raw: raw('d1', { idempotency_key: 'k1' }), nowMs: T0, dedup: { ...dedup, wal: { main: '0/10' } } });
      await store.jobPush({ queue: b, jid: 'd2', raw: raw('d2', { idempotency_key: 'k1' }), nowMs: T0, dedup: { ...dedup, wal: { main: '0/20' } } });
      const jobs = await store.jobFetchMany({ queues: [a, b], count: 5, ...lease });
      expect(jobs.map((j) => [j.queue, j.jid])).toEqual([[b, 'd1']]);
      expect(JSON.parse(jobs[0]!.raw).dedup_wal_locations).toEqual({ main: '0/20' });
      expect(await store.dedupShow({ queue: b, key: 'k1', nowMs: T0 })).toBeUndefined();
    });

    it('leases a foreign payload without a jid under an id of its own in whichever queue it is', async () => {
      const [a, b] = [queue(), queue()];
      await getStore().jobPush({ queue: b, jid: 'pushed-as', raw: '{"class":"Echo","args":{}}', nowMs: T0 });
      const [job] = await getStore().jobFetchMany({ queues: [a, b], count: 1, ...lease });
      expect(job).toMatchObject({ queue: b, jid: expect.stringMatching(/^unreadable-[0-9a-f]{40}$/) as unknown });
    });
  });

  describe('pausing a queue', () => {
    it('a paused queue hands out nothing, still takes enqueues, and runs again once resumed', async () => {
      const [a, b] = [queue(), queue()];
      const store = getStore();
      await push(a, 'a1');
      await push(b, 'b1');
      expect(await store.queuePause({ queue: a, nowMs: T0 })).toBe(true);
      expect(await store.queuePause({ queue: a, nowMs: T0 + 5 })).toBe(false);
      expect(await store.queuePausedAt([a, b])).toEqual([T0, undefined]);
      expect(await fetch([a, b], 5)).toEqual([`${b}/b1`]);
      expect(await store.jobFetch({ queue: a, count: 5, ...lease })).toEqual([]);
      await push(a, 'a2');
      expect(await store.queueSizes(a)).toMatchObject({ ready: 2, inFlight: 0 });
      expect(await store.queueResume(a)).toBe(true);
      expect(await store.queueResume(a)).toBe(false);
      expect(await store.queuePausedAt([a])).toEqual([undefined]);
      expect(await fetch([a, b], 5)).toEqual([`${a}/a1`, `${a}/a2`]);
    });

    it('a pause is a write that registers the queue', async () => {
      const a = queue();
      await getStore().queuePause({ queue: a, nowMs: T0 });
      expect(await getStore().queueList()).toContain(a);
    });

    it('jobs waiting in a paused queue wake no waiter; resuming wakes one', async () => {
      const a = queue();
      const store = getStore();
      await store.queuePause({ queue: a, nowMs: T0 });
      await push(a, 'a1');
      // Takes the one token the push to an empty list may leave. Longer than one blocking pop, so a pop already
      // pending on other queues' keys is re-sent with this queue's key in time.
      await store.jobWait({ queues: [a], timeoutMs: 1500 });
      // The second wait must block to its timeout.
      let before = Date.now();
      await store.jobWait({ queues: [a], timeoutMs: 300 });
      expect(Date.now() - before).toBeGreaterThanOrEqual(290);
      const waiting = store.jobWait({ queues: [queue(), a], timeoutMs: 10_000 });
      setTimeout(() => void store.queueResume(a), 50);
      before = Date.now();
      await waiting;
      expect(Date.now() - before).toBeLessThan(5000);
    });

    it('a resend of a fetch made before a pause still gets its jobs back', async () => {
      const a = queue();
      await push(a, 'a1');
      expect(await fetch([a], 1, { fetchId: 'p1' })).toEqual([`${a}/a1`]);
      await getStore().queuePause({ queue: a, nowMs: T0 });
      expect(await fetch([a], 1, { fetchId: 'p1' })).toEqual([`${a}/a1`]);
    });
  });
}
