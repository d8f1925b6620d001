import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/store/job-store.js';

/** The cron part of the JobStore contract (scheduleClaim, scheduleRecord, schedulePause, scheduleStates, schedulePush). */
export function scheduleStoreConformance(name: string, open: () => Promise<{ store: JobStore; close: () => Promise<void> }>): void {
  describe(`JobStore schedule conformance: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;
    const T0 = 1_800_000_000_000;
    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());
    const schedule = (): string => `s${randomBytes(4).toString('hex')}`;

    it('records the first tick of a definition as a starting point, then claims each later tick once', async () => {
      const name = schedule();
      const claim = (tickMs: number, definition = 'd1') => store.scheduleClaim({ name, definition, tickMs });
      expect(await claim(T0)).toBe('first');
      expect(await claim(T0)).toBe('taken');
      expect(await claim(T0 + 60_000)).toBe('claimed');
      expect(await claim(T0 + 60_000)).toBe('taken');
      // A caller whose clock is behind sees an older tick: already covered.
      expect(await claim(T0)).toBe('taken');
      // Another definition (the schedule changed in code) starts afresh, and keeps its own ticks.
      expect(await claim(T0 + 60_000, 'd2')).toBe('first');
      expect(await claim(T0 + 120_000, 'd2')).toBe('claimed');
      expect(await claim(T0 + 120_000)).toBe('claimed');
    });

    it('hands each tick to exactly one of many concurrent claims', async () => {
      const name = schedule();
      await store.scheduleClaim({ name, definition: 'd', tickMs: T0 });
      for (let tick = 1; tick <= 5; tick++) {
        const claims = await Promise.all(Array.from({ length: 20 }, () => store.scheduleClaim({ name, definition: 'd', tickMs: T0 + tick * 1000 })));
        expect(claims.filter((c) => c === 'claimed')).toHaveLength(1);
        expect(claims.filter((c) => c === 'taken')).toHaveLength(19);
      }
    });

    it('claims ticks of a paused schedule as paused, across definitions, until resumed', async () => {
      const name = schedule();
      await store.scheduleClaim({ name, definition: 'd', tickMs: T0 });
      await store.schedulePause({ name, paused: true, nowMs: T0 + 5 });
      await store.schedulePause({ name, paused: true, nowMs: T0 + 9 });
      expect(await store.scheduleStates([name])).toEqual([{ pausedAtMs: T0 + 5 }]);
      expect(await store.scheduleClaim({ name, definition: 'd', tickMs: T0 + 1000 })).toBe('paused');
      expect(await store.scheduleClaim({ name, definition: 'd', tickMs: T0 + 1000 })).toBe('taken');
      await store.schedulePause({ name, paused: false, nowMs: T0 + 1500 });
      expect(await store.scheduleClaim({ name, definition: 'd', tickMs: T0 + 2000 })).toBe('claimed');
    });

    it('keeps the last run of each schedule, and nothing for one never seen', async () => {
      const [a, b] = [schedule(), schedule()];
      await store.scheduleRecord({ name: a, tickMs: T0, jid: 'j1', nowMs: T0 + 3 });
      await store.scheduleRecord({ name: a, tickMs: T0 + 1000, jid: 'j2', nowMs: T0 + 1004 });
      expect(await store.scheduleStates([b, a])).toEqual([{}, { lastTickMs: T0 + 1000, lastRunMs: T0 + 1004, lastJid: 'j2' }]);
      expect(await store.scheduleStates([])).toEqual([]);
    });
    it('keeps a leased claim pending until recorded, and hands it to one caller again once the lease ran out', async () => {
      const name = schedule();
      const claim = (tickMs: number, nowMs: number) => store.scheduleClaim({ name, definition: 'd', tickMs, lease: { nowMs, ms: 1000 } });
      expect(await claim(T0, T0)).toBe('first');
      expect(await claim(T0 + 60_000, T0 + 60_000)).toBe('claimed');
      expect(await claim(T0 + 60_000, T0 + 60_999)).toBe('pending');
      // Without a lease the caller only learns that the tick is claimed.
      expect(await store.scheduleClaim({ name, definition: 'd', tickMs: T0 + 60_000 })).toBe('taken');
      const takeovers = await Promise.all(Array.from({ length: 10 }, () => claim(T0 + 60_000, T0 + 61_000)));
      expect(takeovers.filter((c) => c === 'claimed')).toHaveLength(1);
      expect(takeovers.filter((c) => c === 'pending')).toHaveLength(9);
      // Recording another tick leaves this lease alone; recording this one ends it.
      await store.scheduleRecord({ name, tickMs: T0, jid: 'old', nowMs: T0 + 61_500 });
      expect(await claim(T0 + 60_000, T0 + 63_000)).toBe('claimed');
      await store.scheduleRecord({ name, tickMs: T0 + 60_000, jid: 'j', nowMs: T0 + 63_001 });
      expect(await claim(T0 + 60_000, T0 + 99_000)).toBe('taken');
      expect(await store.scheduleStates([name])).toEqual([{ lastTickMs: T0 + 60_000, lastRunMs: T0 + 63_001, lastJid: 'j' }]);
      // A paused tick holds no lease.
      await store.schedulePause({ name, paused: true, nowMs: T0 + 100_000 });
      expect(await claim(T0 + 120_000, T0 + 120_000)).toBe('paused');
      expect(await claim(T0 + 120_000, T0 + 999_000)).toBe('taken');
    });

    it('pushes each tick of a schedule to a queue once, however many pushes race for it', async () => {
      const queue = `q${randomBytes(3).toString('hex')}`;
      const name = schedule();
      const push = (jid: string, tickMs: number) =>
        store.schedulePush({ queue, jid, raw: JSON.stringify({ jid, class: 'W', queue, args: [] }), nowMs: T0, schedule: name, tickMs });
      expect(await push('a', T0)).toEqual({ pushed: true, jid: 'a' });
      expect(await push('b', T0)).toEqual({ taken: 'a' });
      // A resend of the push that won is answered as pushed, and queues nothing more.
      expect(await push('a', T0)).toEqual({ pushed: true, jid: 'a' });
      expect(await push('c', T0 - 60_000)).toEqual({ taken: 'a' });
      const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => push(`r${i}`, T0 + 60_000)));
      const winners = racing.filter((r) => 'pushed' in r);
      expect(winners).toHaveLength(1);
      const winner = (winners[0] as { jid: string }).jid;
      expect(racing.filter((r) => 'taken' in r && r.taken === winner)).toHaveLength(9);
      const ready = await store.jobList({ queue, state: 'ready', offset: 0, limit: 100 });
      expect(ready.map((job) => job.jid).sort()).toEqual(['a', winner].sort());
      // Another schedule's ticks are its own.
      expect(await store.schedulePush({ queue, jid: 'o', raw: JSON.stringify({ jid: 'o', class: 'W', queue, args: [] }), nowMs: T0, schedule: schedule(), tickMs: T0 })).toEqual({ pushed: true, jid: 'o' });
    });
  });
}
