import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/store/job-store.js';

/** The cron part of the JobStore contract (scheduleClaim, scheduleRecord, schedulePause, scheduleStates). */
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
  });
}
