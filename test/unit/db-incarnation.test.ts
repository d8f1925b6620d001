import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ReplicaChangedError } from '../../src/errors.js';
import { DbHost } from '../../src/db/host.js';
import { parseLsn } from '../../src/db/lsn.js';
import { createDbMetrics } from '../../src/db/metrics.js';
import { captureLogs } from '../helpers/log-capture.js';
import { FakePool } from '../support/fake-pool.js';

function replica(options: { caughtUpCheckIntervalMs?: number; now?: () => number } = {}) {
  const pool = new FakePool();
  const registry = new Registry();
  const { logger, lines } = captureLogs();
  const host = new DbHost({ database: 'main', role: 'replica', url: 'postgres://r:5433/app', pool, maxReplicationLagBytes: 1000, maxReplicationLagSeconds: 10, metrics: createDbMetrics(registry), logger, ...options });
  return { host, pool, registry, lines };
}

/** A crash or restart: every connection dies, and the server comes back with another start time and a lower position. */
function restart(pool: FakePool, replayLsn: string): void {
  pool.dropConnections();
  pool.startedAt = '2026-01-01 00:05:00+00';
  pool.replayLsn = replayLsn;
}

describe('DbHost: the cached replay position belongs to one standby incarnation', () => {
  it('a reading from another incarnation drops the cache, with a log line and a counter; lag comes from the fresh reading', async () => {
    const { host, pool, registry, lines } = replica();
    pool.replayLsn = '5/0';
    await host.checkHealth(parseLsn('5/0'));
    expect(host.cachedVerdict(parseLsn('5/0'))).toBeDefined();
    restart(pool, '1/0');
    pool.lagSeconds = 100;
    await host.checkHealth(parseLsn('5/0'));
    expect(host.cachedVerdict(parseLsn('5/0'))).toBeUndefined();
    expect(host.cachedReplayLsn).toBeUndefined(); // and offline (below) drops it entirely
    expect(host.lagBytes).toBe(parseLsn('5/0') - parseLsn('1/0'));
    expect(host.isOnline).toBe(false); // 16 GiB and 100 s behind, limits 1000 bytes / 10 s
    expect(host.startedAt).toBe('2026-01-01 00:05:00+00');
    expect(lines.find((l) => l.event === 'replica_incarnation_changed')).toMatchObject({ database: 'main', host: 'r:5433', to: `${pool.systemId}@2026-01-01 00:05:00+00` });
    expect(lines.find((l) => l.event === 'replica_cache_dropped')).toMatchObject({ reason: 'incarnation_changed' });
    const text = await registry.metrics();
    expect(text).toContain('lagless_replica_incarnation_changes_total{database="main",host="r:5433"} 1');
    expect(text).toContain('lagless_replica_cache_drops_total{database="main",host="r:5433",reason="incarnation_changed"} 1');
    expect(text).toContain(`lagless_replica_lag_bytes{database="main",host="r:5433"} ${Number(parseLsn('4/0'))}`);
  });

  it('a read under a cached verdict runs only on a connection that proved the same incarnation: one status query per new connection', async () => {
    const { host, pool } = replica();
    pool.replayLsn = '5/0';
    const verdict = (await host.caughtUp(parseLsn('5/0'))).incarnation!;
    const before = pool.statusQueries();
    for (let i = 0; i < 20; i++) await host.query(`select ${i}`, [], verdict);
    expect(pool.statusQueries()).toBe(before); // the refresh's connection already proved it
    // Restarted between the verdict and the read (faster than any health check): the new connection proves another incarnation.
    restart(pool, '1/0');
    await expect(host.query('select stale', [], verdict)).rejects.toBeInstanceOf(ReplicaChangedError);
    expect(pool.statements).not.toContain('select stale');
    expect(pool.statusQueries()).toBe(before + 1);
    expect(host.cachedVerdict(parseLsn('5/0'))).toBeUndefined();
    // The same guard for pools handed to query builders.
    await expect(host.provenPool(verdict).connect()).rejects.toThrow(/is not the standby incarnation that was checked/);
    await expect(host.provenPool(verdict).query('select stale')).rejects.toBeInstanceOf(ReplicaChangedError);
    expect(pool.statements).not.toContain('select stale');
  });

  it('an idle-connection error (the restart seen from the pool) and any offline mark drop the cache', async () => {
    const { host, pool, lines } = replica();
    pool.replayLsn = '5/0';
    await host.refreshReplayLsn();
    pool.emitError(new Error('terminating connection due to administrator command'));
    expect(host.isOnline).toBe(false);
    expect(host.offlineReason).toBe('connection_error');
    expect(host.cachedReplayLsn).toBeUndefined();
    expect(lines.find((l) => l.event === 'replica_cache_dropped')).toMatchObject({ reason: 'offline' });
  });

  it('a replica that left recovery (promoted) is offline for good, logged and counted once', async () => {
    const { host, pool, registry, lines } = replica();
    pool.replayLsn = '5/0';
    await host.checkHealth(parseLsn('5/0'));
    pool.inRecovery = false;
    expect(await host.caughtUp(parseLsn('5/1'))).toEqual({ caughtUp: false, source: 'query' });
    await host.checkHealth(parseLsn('5/0'));
    await host.checkHealth(parseLsn('5/0'));
    expect(host.isOnline).toBe(false);
    expect(host.offlineReason).toBe('left_recovery');
    expect(host.cachedReplayLsn).toBeUndefined();
    expect(lines.filter((l) => l.event === 'replica_left_recovery')).toHaveLength(1);
    expect(await registry.metrics()).toContain('lagless_replica_left_recovery_total{database="main",host="r:5433"} 1');
    // A connection that proves the promoted server does not serve a verdict about the standby it was.
    pool.dropConnections();
    await expect(host.query('select 1', [], `${pool.systemId}@${pool.startedAt}`)).rejects.toThrow(/out of recovery/);
  });
});

describe('DbHost: caught-up queries are bounded by time, not by jobs', () => {
  it('sends at most one refresh per caughtUpCheckIntervalMs however many jobs ask, and each asker gets a reading sent after it asked', async () => {
    const { host, pool } = replica({ caughtUpCheckIntervalMs: 20 });
    const started = performance.now();
    let lsn = 0;
    const checks: Promise<unknown>[] = [];
    // 200 jobs over ~100 ms, each right after a new write the replica has already replayed.
    for (let i = 0; i < 200; i++) {
      pool.replayLsn = `0/${(++lsn).toString(16)}`;
      checks.push(host.caughtUp(parseLsn(`0/${lsn.toString(16)}`)).then((answer) => expect(answer.caughtUp).toBe(true)));
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(checks);
    const elapsedMs = performance.now() - started;
    expect(pool.statusQueries()).toBeLessThanOrEqual(Math.ceil(elapsedMs / 20) + 1);
    expect(pool.statusQueries()).toBeLessThan(20);
  });
});
