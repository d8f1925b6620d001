import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_RETENTION_MS, LOOKUP_READY_SCAN, MINUTE_MS, type JobEventMessage, type JobOutcomeRecord } from '../../src/store/job-records.js';
import type { JobStore } from '../../src/store/job-store.js';

/**
 * The JobStore contract for what a store keeps beside payloads: minute history, progress, kept results, job lookup
 * and events. Run against every store, like job-store.suite.ts.
 */
export function jobRecordsConformance(name: string, open: () => Promise<{ store: JobStore; close: () => Promise<void> }>): void {
  describe(`JobStore records conformance: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;
    const T0 = 1_800_000_000_000; // a minute boundary
    const token = 'tok-r';

    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());

    const queue = (): string => `r${randomBytes(4).toString('hex')}`;
    const raw = (jid: string): string => JSON.stringify({ jid, class: 'Echo', args: { n: 1 }, created_at: 1 });
    const pushAndFetch = async (q: string, jids: string[], nowMs = T0): Promise<void> => {
      await store.jobPushMany(jids.map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs })));
      await store.jobFetch({ queue: q, count: jids.length, token, leaseMs: 60_000, nowMs });
    };
    const record = (over: Partial<JobOutcomeRecord> = {}): JobOutcomeRecord => ({ state: 'completed', class: 'Echo', result: '{"sum":3}', attempts: 1, createdAtMs: T0, enqueuedAtMs: T0, startedAtMs: T0 + 1, finishedAtMs: T0 + 2, ...over });

    describe('minute history', () => {
      it('counts acks as processed and retries and deaths as failed in the minute of nowMs; snoozes are not failures', async () => {
        const q = queue();
        await pushAndFetch(q, ['a', 'b', 'c', 'd', 'e']);
        await store.jobAck({ queue: q, token, nowMs: T0 + 5_000, jobs: [{ jid: 'a' }, { jid: 'b' }] });
        await store.jobAck({ queue: q, token, nowMs: T0 + MINUTE_MS + 1, jobs: [{ jid: 'c' }] });
        await store.jobRetry({ queue: q, jid: 'd', token, raw: raw('d'), nowMs: T0 + MINUTE_MS + 2, runAtMs: T0 + 10 * MINUTE_MS, kind: 'retry' });
        await store.jobRetry({ queue: q, jid: 'e', token, raw: raw('e'), nowMs: T0 + MINUTE_MS + 3, runAtMs: T0 + 2 * MINUTE_MS, kind: 'snooze' });
        await store.jobFetch({ queue: q, count: 1, token, leaseMs: 60_000, nowMs: T0 }); // nothing ready: the rest are later
        expect(await store.queueHistory({ queue: q, fromMs: T0 - MINUTE_MS, toMs: T0 + 2 * MINUTE_MS + 59_999 })).toEqual([
          { minuteMs: T0 - MINUTE_MS, processed: 0, failed: 0 },
          { minuteMs: T0, processed: 2, failed: 0 },
          { minuteMs: T0 + MINUTE_MS, processed: 1, failed: 1 },
          { minuteMs: T0 + 2 * MINUTE_MS, processed: 0, failed: 0 },
        ]);
        const later = await store.jobPushMany([{ queue: q, jid: 'f', raw: raw('f'), nowMs: T0 }]);
        expect(later[0]!.pushed).toBe(true);
        await store.jobFetch({ queue: q, count: 1, token, leaseMs: 60_000, nowMs: T0 });
        expect((await store.jobDead({ queue: q, jid: 'f', token, raw: raw('f'), nowMs: T0 + 3 * MINUTE_MS, runAtMs: T0 + 3 * MINUTE_MS })).moved).toBe(true);
        expect(await store.queueHistory({ queue: q, fromMs: T0 + 3 * MINUTE_MS, toMs: T0 + 3 * MINUTE_MS })).toEqual([{ minuteMs: T0 + 3 * MINUTE_MS, processed: 0, failed: 1 }]);
      });

      it('answers for at most HISTORY_RETENTION_MS back, one entry per minute', async () => {
        const q = queue();
        const to = T0 + HISTORY_RETENTION_MS * 3;
        const history = await store.queueHistory({ queue: q, fromMs: T0, toMs: to });
        expect(history).toHaveLength(HISTORY_RETENTION_MS / MINUTE_MS);
        expect(history.at(-1)!.minuteMs).toBe(to);
        expect(history[0]!.minuteMs).toBe(to - HISTORY_RETENTION_MS + MINUTE_MS);
      });
    });

    describe('lookup, progress and kept results', () => {
      it('finds a job in each state and reports its payload, due time and progress', async () => {
        const q = queue();
        await store.jobPushMany(['ready1', 'ready2'].map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 })));
        await store.jobPush({ queue: q, jid: 'sched', raw: raw('sched'), nowMs: T0, runAtMs: T0 + 5000 });
        expect(await store.jobLookup({ queue: q, jid: 'ready2', nowMs: T0 })).toEqual({ state: 'ready', raw: raw('ready2') });
        expect(await store.jobLookup({ queue: q, jid: 'sched', nowMs: T0 })).toEqual({ state: 'scheduled', raw: raw('sched'), score: T0 + 5000 });
        await store.jobFetch({ queue: q, count: 2, token, leaseMs: 60_000, nowMs: T0 });
        await store.jobProgress({ queue: q, jid: 'ready1', value: '{"done":40}', nowMs: T0 });
        expect(await store.jobLookup({ queue: q, jid: 'ready1', nowMs: T0 })).toEqual({ state: 'active', raw: raw('ready1'), progress: '{"done":40}' });
        await store.jobRetry({ queue: q, jid: 'ready1', token, raw: raw('ready1'), nowMs: T0, runAtMs: T0 + 9000, kind: 'retry' });
        expect(await store.jobLookup({ queue: q, jid: 'ready1', nowMs: T0 })).toEqual({ state: 'retry', raw: raw('ready1'), score: T0 + 9000, progress: '{"done":40}' });
        await store.jobDead({ queue: q, jid: 'ready2', token, raw: raw('ready2'), nowMs: T0, runAtMs: T0 + 1 });
        expect(await store.jobLookup({ queue: q, jid: 'ready2', nowMs: T0 })).toEqual({ state: 'dead', raw: raw('ready2'), score: T0 + 1 });
        expect(await store.jobLookup({ queue: q, jid: 'nobody', nowMs: T0 })).toBeUndefined();
        expect(await store.jobLookup({ queue: queue(), jid: 'ready1', nowMs: T0 })).toBeUndefined();
      });

      it('scans at most LOOKUP_READY_SCAN ready jobs from the next one to run', async () => {
        const q = queue();
        const jids = Array.from({ length: LOOKUP_READY_SCAN + 1 }, (_, i) => `j${i}`);
        await store.jobPushMany(jids.map((jid) => ({ queue: q, jid, raw: raw(jid), nowMs: T0 })));
        expect((await store.jobLookup({ queue: q, jid: 'j0', nowMs: T0 }))?.state).toBe('ready');
        expect((await store.jobLookup({ queue: q, jid: `j${LOOKUP_READY_SCAN - 1}`, nowMs: T0 }))?.state).toBe('ready');
        expect(await store.jobLookup({ queue: q, jid: `j${LOOKUP_READY_SCAN}`, nowMs: T0 })).toBeUndefined();
      });

      it('keeps a finished job record until its TTL passes, with the progress it last reported', async () => {
        const q = queue();
        await pushAndFetch(q, ['done']);
        await store.jobProgress({ queue: q, jid: 'done', value: '100', nowMs: Date.now() });
        await store.jobAck({ queue: q, token, nowMs: T0, jobs: [{ jid: 'done' }] });
        expect(await store.jobLookup({ queue: q, jid: 'done', nowMs: Date.now() })).toBeUndefined(); // no keepResult: nothing kept but progress
        await store.jobFinished({ queue: q, jid: 'done', nowMs: Date.now(), record: { value: record(), ttlMs: 300 } });
        expect(await store.jobLookup({ queue: q, jid: 'done', nowMs: Date.now() })).toEqual({ state: 'completed', record: record(), progress: '100' });
        await sleep(450);
        expect(await store.jobLookup({ queue: q, jid: 'done', nowMs: Date.now() })).toBeUndefined();
      });
    });

    describe('events', () => {
      it('delivers every queue\'s events to each subscriber until it unsubscribes, and keeps none', async () => {
        const [q1, q2] = [queue(), queue()];
        const seenA: JobEventMessage[] = [];
        const seenB: JobEventMessage[] = [];
        const stopA = await store.eventsSubscribe((e) => seenA.push(e));
        const stopB = await store.eventsSubscribe((e) => seenB.push(e));
        const event = (queue: string, jid: string, kind: JobEventMessage['event']): JobEventMessage => ({ event: kind, queue, jid, class: 'Echo', attempts: 1, atMs: T0, ...(kind === 'completed' ? { result: '7' } : { error: { class: 'Error', message: 'boom' } }) });
        await store.jobFinished({ queue: q1, jid: 'a', nowMs: T0, event: event(q1, 'a', 'completed') });
        await store.jobFinished({ queue: q2, jid: 'b', nowMs: T0, event: event(q2, 'b', 'dead') });
        await until(() => seenA.length === 2 && seenB.length === 2);
        // Two queues' events need not arrive in the order sent: on a cluster they are published on two masters, and
        // one of them reaches the subscriber's node over the cluster bus.
        const byJid = (events: JobEventMessage[]): JobEventMessage[] => [...events].sort((x, y) => x.jid.localeCompare(y.jid));
        expect(byJid(seenA)).toEqual([event(q1, 'a', 'completed'), event(q2, 'b', 'dead')]);
        expect(byJid(seenB)).toEqual(byJid(seenA));
        await stopA();
        await store.jobFinished({ queue: q1, jid: 'c', nowMs: T0, event: event(q1, 'c', 'failed') });
        await until(() => seenB.length === 3);
        expect(seenB[2]).toEqual(event(q1, 'c', 'failed'));
        expect(seenA).toHaveLength(2);
        await stopB();
        // An event is a message, not stored state: nothing is left to look up.
        expect(await store.jobLookup({ queue: q1, jid: 'c', nowMs: T0 })).toBeUndefined();
      });
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
