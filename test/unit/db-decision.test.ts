import { describe, expect, it } from 'vitest';
import { decideLoadBalancing, type DecisionInput } from '../../src/db/decision.js';
import { parseLsn, type Lsn } from '../../src/db/lsn.js';

/** Replicas that have replayed up to `replayed[db]`; the clock is virtual so waits cost no real time. */
function input(overrides: Partial<DecisionInput<string>> & { replayed?: Record<string, string> }): DecisionInput<string> & { checks: number } {
  let clock = 0;
  const replayed = overrides.replayed ?? {};
  const state = {
    dataConsistency: 'sticky' as const,
    retried: false,
    walLocations: { main: '0/100' },
    databases: ['main', 'ci'],
    checks: 0,
    caughtUp: async (db: string, lsn: Lsn) => {
      state.checks++;
      const at = replayed[db];
      return at !== undefined && parseLsn(at) >= lsn ? `${db}-replica` : undefined;
    },
    anyReplica: (db: string) => `${db}-any`,
    sleep: async (ms: number) => {
      clock += ms;
    },
    now: () => clock,
    ...overrides,
  };
  return state;
}

describe('decideLoadBalancing', () => {
  it("'always' is not load balanced: primary", async () => {
    const decision = await decideLoadBalancing(input({ dataConsistency: 'always', replayed: { main: 'F/0' } }));
    expect(decision).toEqual({ strategy: 'primary', hosts: { main: undefined, ci: undefined } });
  });

  it.each([undefined, {}, { other: '0/1' }])('no WAL locations for configured databases (%j): primary_no_wal', async (walLocations) => {
    expect((await decideLoadBalancing(input({ walLocations }))).strategy).toBe('primary_no_wal');
  });

  it('answers from cached replay positions without calling the checker when the cache proves it', async () => {
    const state = input({ walLocations: { main: '0/100' }, caughtUpCached: (db: string, lsn: Lsn) => (lsn <= parseLsn('0/200') ? `${db}-cached` : undefined) });
    expect(await decideLoadBalancing(state)).toEqual({ strategy: 'replica', hosts: { main: 'main-cached', ci: 'ci-any' } });
    expect(state.checks).toBe(0);
    const behind = input({ walLocations: { main: '0/300' }, replayed: { main: '0/300' }, caughtUpCached: () => undefined });
    expect((await decideLoadBalancing(behind)).hosts.main).toBe('main-replica');
    expect(behind.checks).toBe(1);
  });

  it('every database in the map caught up: replica, with a replica for databases missing from the map', async () => {
    const decision = await decideLoadBalancing(input({ replayed: { main: '0/100' } }));
    expect(decision).toEqual({ strategy: 'replica', hosts: { main: 'main-replica', ci: 'ci-any' } });
  });

  it('compares as 64-bit positions: 1/0 is past 0/FFFFFFFF', async () => {
    const decision = await decideLoadBalancing(input({ walLocations: { main: '0/FFFFFFFF' }, replayed: { main: '1/0' } }));
    expect(decision.strategy).toBe('replica');
  });

  it("replica_retried labels a retried 'delayed' job only; a retried 'sticky' job on a caught-up replica is 'replica'", async () => {
    expect((await decideLoadBalancing(input({ dataConsistency: 'delayed', retried: true, replayed: { main: '1/0' } }))).strategy).toBe('replica_retried');
    expect((await decideLoadBalancing(input({ dataConsistency: 'sticky', retried: true, replayed: { main: '1/0' } }))).strategy).toBe('replica');
  });

  it.each(['sticky', 'delayed'] as const)("%s with no replica online decides at once: primary, no wait, no re-queue", async (dataConsistency) => {
    const state = input({ dataConsistency, hasReplica: (db) => db !== 'main', caughtUp: () => new Promise(() => {}) });
    let slept = 0;
    state.sleep = async (ms) => void (slept += ms);
    const decision = await decideLoadBalancing(state);
    expect(decision).toEqual({ strategy: 'primary', hosts: { main: undefined, ci: undefined } });
    expect(slept).toBe(0);
  });

  it('stops waiting as soon as the last replica goes offline during the wait', async () => {
    let online = true;
    const state = input({ dataConsistency: 'delayed', hasReplica: () => online, caughtUp: async () => ((online = false), undefined), maxWaitMs: 10_000 });
    const decision = await decideLoadBalancing(state);
    expect(decision.strategy).toBe('primary');
    expect(state.now!()).toBe(0);
  });

  it('one database behind sends the whole job to the primary (sticky) after the bounded wait', async () => {
    const state = input({ walLocations: { main: '0/100', ci: '0/100' }, replayed: { main: '0/100', ci: '0/FF' }, maxWaitMs: 200, pollMs: 25 });
    const decision = await decideLoadBalancing(state);
    expect(decision).toEqual({ strategy: 'primary', hosts: { main: undefined, ci: undefined } });
    expect(state.checks / 2).toBe(9); // first check plus 8 re-checks of 25 ms within 200 ms
  });

  it("'delayed' and not retried: retry; already retried: primary", async () => {
    expect((await decideLoadBalancing(input({ dataConsistency: 'delayed' }))).strategy).toBe('retry');
    expect((await decideLoadBalancing(input({ dataConsistency: 'delayed', retried: true }))).strategy).toBe('primary');
  });

  it('a replica catching up during the wait is used', async () => {
    const replayed: Record<string, string> = { main: '0/0' };
    const state = input({ replayed, maxWaitMs: 300 });
    const sleep = state.sleep!;
    state.sleep = async (ms) => {
      await sleep(ms);
      replayed.main = '0/100';
    };
    expect((await decideLoadBalancing(state)).strategy).toBe('replica');
  });

  it('an invalid LSN runs the job on the primary with a reason naming it (never throws)', async () => {
    const decision = await decideLoadBalancing(input({ walLocations: { main: 'zz' }, replayed: { main: 'F/0' } }));
    expect(decision.strategy).toBe('primary');
    expect(decision.reason).toBe('"zz" from payload wal_locations.main is not a PostgreSQL LSN (expected HEX/HEX such as 16/B374D848).');
    const numeric = await decideLoadBalancing(input({ walLocations: { main: 12 } }));
    expect(numeric.reason).toContain('"12" from payload wal_locations.main');
  });
});

describe('decideLoadBalancing with a hung replica', () => {
  it('stops waiting at the deadline and falls back', async () => {
    const started = Date.now();
    const decision = await decideLoadBalancing<string>({
      dataConsistency: 'sticky',
      retried: false,
      walLocations: { main: '0/1' },
      databases: ['main'],
      caughtUp: () => new Promise(() => {}),
      anyReplica: () => undefined,
      maxWaitMs: 100,
    });
    expect(decision.strategy).toBe('primary');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
