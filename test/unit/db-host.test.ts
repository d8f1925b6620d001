import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DbHost } from '../../src/db/host.js';
import { LoadBalancer } from '../../src/db/load-balancer.js';
import { parseLsn } from '../../src/db/lsn.js';
import { createDbMetrics } from '../../src/db/metrics.js';
import { connectionRefused, deferred, FakePool } from '../support/fake-pool.js';

function replica(pool = new FakePool(), limits = { maxReplicationLagBytes: 1000, maxReplicationLagSeconds: 10 }): { host: DbHost; pool: FakePool } {
  return { host: new DbHost({ database: 'main', role: 'replica', url: 'postgres://u:secret@10.0.0.7:5433/app', pool, ...limits }), pool };
}

describe('DbHost caught-up checks', () => {
  it('answers from the cache without a query once the cached replay LSN is at or past L', async () => {
    const { host, pool } = replica();
    pool.replayLsn = '1/10';
    const incarnation = `${pool.systemId}@${pool.startedAt}`;
    expect(await host.caughtUp(parseLsn('1/10'))).toEqual({ caughtUp: true, source: 'query', incarnation });
    expect(pool.statusQueries()).toBe(1);
    for (const lsn of ['0/FFFFFFFF', '1/0', '1/F', '1/10']) expect(await host.caughtUp(parseLsn(lsn))).toEqual({ caughtUp: true, source: 'cache', incarnation });
    expect(pool.statusQueries()).toBe(1);
    expect(await host.caughtUp(parseLsn('1/11'))).toEqual({ caughtUp: false, source: 'query' });
    expect(pool.statusQueries()).toBe(2);
  });

  it('shares one in-flight query among concurrent callers', async () => {
    const { host, pool } = replica();
    const gate = deferred();
    pool.gate = gate.promise;
    pool.replayLsn = '2/0';
    const checks = Array.from({ length: 50 }, (_, i) => host.caughtUp(parseLsn(`1/${i.toString(16)}`)));
    gate.resolve();
    const answers = await Promise.all(checks);
    expect(answers.every((a) => a.caughtUp)).toBe(true);
    expect(pool.statusQueries()).toBe(1);
  });

  it('replaces the cache with a fresh reading that is lower, even within one incarnation (the cache never outranks a fresh reading)', async () => {
    const { host, pool } = replica();
    pool.replayLsn = '5/0';
    await host.refreshReplayLsn();
    pool.replayLsn = '4/0';
    await host.refreshReplayLsn();
    expect(host.cachedReplayLsn).toBe(parseLsn('4/0'));
    expect(host.cachedVerdict(parseLsn('4/1'))).toBeUndefined();
  });

  it('marks the host offline on a connection error and reports not caught up', async () => {
    const { host, pool } = replica();
    pool.failWith = connectionRefused();
    expect(await host.caughtUp(parseLsn('0/1'))).toEqual({ caughtUp: false, source: 'query' });
    expect(host.isOnline).toBe(false);
  });

  it('goes offline when the pool reports an idle-connection error', () => {
    const { host, pool } = replica();
    pool.emitError(new Error('terminating connection due to administrator command'));
    expect(host.isOnline).toBe(false);
  });
});

describe('DbHost health', () => {
  const primaryAt = parseLsn('0/10000');

  it.each([
    { replay: '0/10000', seconds: 500, online: true, why: 'no byte lag although seconds grew on an idle primary' },
    { replay: '0/0', seconds: 2, online: true, why: 'many bytes behind but recent in seconds' },
    { replay: '0/0', seconds: 500, online: false, why: 'both limits exceeded' },
    { replay: '0/0', seconds: null, online: false, why: 'bytes exceeded and no replayed transaction yet' },
    { replay: null, seconds: null, online: false, why: 'not a standby' },
  ])('$why => online $online', async ({ replay, seconds, online }) => {
    const { host, pool } = replica();
    pool.replayLsn = replay;
    pool.lagSeconds = seconds;
    await host.checkHealth(primaryAt);
    expect(host.isOnline).toBe(online);
  });

  it('recovers on the next successful health check and exports lag metrics without the password', async () => {
    const registry = new Registry();
    const metrics = createDbMetrics(registry);
    const pool = new FakePool();
    const host = new DbHost({ database: 'main', role: 'replica', url: 'postgres://u:secret@10.0.0.7:5433/app', pool, maxReplicationLagBytes: 1000, maxReplicationLagSeconds: 10, metrics });
    pool.failWith = connectionRefused();
    await host.checkHealth(primaryAt);
    expect(host.isOnline).toBe(false);
    pool.failWith = undefined;
    pool.replayLsn = '0/FF00';
    pool.lagSeconds = 1.5;
    await host.checkHealth(primaryAt);
    expect(host.isOnline).toBe(true);
    expect(host.lagBytes).toBe(0x100n);
    const text = await registry.metrics();
    expect(text).toContain('lagless_replica_lag_bytes{database="main",host="10.0.0.7:5433"} 256');
    expect(text).toContain('lagless_replica_lag_seconds{database="main",host="10.0.0.7:5433"} 1.5');
    expect(text).toContain('lagless_replica_online{database="main",host="10.0.0.7:5433"} 1');
    expect(text).not.toContain('secret');
  });
});

describe('LoadBalancer', () => {
  function balancer(replicas: number): { lb: LoadBalancer; pools: Map<string, FakePool>; registry: Registry } {
    const pools = new Map<string, FakePool>();
    const registry = new Registry();
    const lb = new LoadBalancer({
      database: 'main',
      primaryUrl: 'postgres://p:5432/app',
      replicaUrls: Array.from({ length: replicas }, (_, i) => `postgres://r${i}:5432/app`),
      poolFactory: (url) => {
        const pool = new FakePool();
        pools.set(url, pool);
        return pool;
      },
      metrics: createDbMetrics(registry),
    });
    return { lb, pools, registry };
  }

  it('prefers a replica whose cache proves the LSN, and counts cache vs query checks', async () => {
    const { lb, pools, registry } = balancer(2);
    pools.get('postgres://r0:5432/app')!.replayLsn = '0/10';
    pools.get('postgres://r1:5432/app')!.replayLsn = '0/20';
    expect((await lb.caughtUp(parseLsn('0/18')))?.host.url).toBe('postgres://r1:5432/app');
    for (let i = 0; i < 10; i++) expect((await lb.caughtUp(parseLsn('0/18')))?.host.url).toBe('postgres://r1:5432/app');
    expect(await lb.caughtUp(parseLsn('0/21'))).toBeUndefined();
    const text = await registry.metrics();
    expect(text).toContain('lagless_lb_caught_up_checks_total{result="caught_up",source="query"} 1');
    expect(text).toContain('lagless_lb_caught_up_checks_total{result="caught_up",source="cache"} 10');
    expect(text).toContain('lagless_lb_caught_up_checks_total{result="behind",source="query"} 1');
  });

  it('skips offline replicas and has no answer when none is online', async () => {
    const { lb, pools } = balancer(1);
    pools.get('postgres://r0:5432/app')!.failWith = connectionRefused();
    expect(await lb.caughtUp(parseLsn('0/1'))).toBeUndefined();
    const before = pools.get('postgres://r0:5432/app')!.statements.length;
    expect(await lb.caughtUp(parseLsn('0/1'))).toBeUndefined();
    expect(lb.anyOnlineReplica()).toBeUndefined();
    expect(pools.get('postgres://r0:5432/app')!.statements.length).toBe(before); // offline: not asked again until a health check
  });

  it('replaces the replica set, draining and closing removed hosts', async () => {
    const { lb, pools } = balancer(2);
    await lb.setReplicas(['postgres://r1:5432/app', 'postgres://r9:5432/app']);
    expect(lb.replicas.map((h) => h.url)).toEqual(['postgres://r1:5432/app', 'postgres://r9:5432/app']);
    expect(pools.get('postgres://r0:5432/app')!.ended).toBe(true);
    expect(pools.get('postgres://r1:5432/app')!.ended).toBe(false);
    await lb.close();
    expect([...pools.values()].every((p) => p.ended)).toBe(true);
  });
});

describe('DbHost with a hung server', () => {
  it('times out the shared status query, marks the host offline and lets the next refresh try again', async () => {
    const pool = new FakePool();
    const host = new DbHost({ database: 'main', role: 'replica', url: 'postgres://r/app', pool, maxReplicationLagBytes: 1, maxReplicationLagSeconds: 1, statusTimeoutMs: 50 });
    pool.gate = new Promise(() => {});
    expect(await host.caughtUp(parseLsn('0/1'))).toEqual({ caughtUp: false, source: 'query' });
    expect(host.isOnline).toBe(false);
    pool.gate = undefined;
    pool.replayLsn = '0/1';
    expect((await host.refreshReplayLsn())?.replayLsn).toBe(parseLsn('0/1'));
  });
});
