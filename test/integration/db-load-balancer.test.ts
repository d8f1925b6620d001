import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithin, HostTimeoutError } from '../../src/db/bounded.js';
import { Databases } from '../../src/db/databases.js';
import { LoadBalancer } from '../../src/db/load-balancer.js';
import { formatLsn, parseLsn } from '../../src/db/lsn.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('load balancing against a real primary and streaming replica', () => {
  let cluster: PostgresCluster;
  let databases: Databases;
  let registry: Registry;

  beforeAll(async () => {
    cluster = await startPostgresCluster({ replicas: 1 });
    registry = new Registry();
    databases = new Databases({ main: { primary: cluster.primaryUrl, replicas: cluster.replicaUrls, healthCheckIntervalMs: 60_000 } }, { registry, maxWaitMs: 250 });
    await databases.start();
    await databases.db('main').query('create table items (id int primary key, version int not null)', [], { primary: true });
  });

  afterAll(async () => {
    await databases?.close();
    await cluster?.stop();
  });

  const lb = (): LoadBalancer => databases.balancer('main');
  const replica = () => lb().replicas[0]!;

  async function writeAndWait(id: number): Promise<string> {
    await lb().primary.pool.query('insert into items values ($1, 1) on conflict (id) do update set version = items.version + 1', [id]);
    const lsn = formatLsn(await lb().currentWalLocation());
    await waitForReplay(cluster.replicaUrls[0]!, lsn);
    return lsn;
  }

  it('bounds a connect that has to wait for a pooled connection, and hands an idle one out at once', async () => {
    const pool = new pg.Pool({ connectionString: cluster.replicaUrls[0], max: 1 });
    try {
      const held = await connectWithin(pool, 1000, 'replica');
      const started = Date.now();
      await expect(connectWithin(pool, 200, 'replica')).rejects.toBeInstanceOf(HostTimeoutError); // the only one is out
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      held.release();
      const idle = await connectWithin(pool, 200, 'replica'); // idle again: served without a timer
      expect((await idle.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      const waiting = connectWithin(pool, 200, 'replica'); // the idle one is gone: this one waits, bounded again
      idle.release();
      (await waiting).release();
      expect(pool.idleCount).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('proves caught-up from the cached replay LSN without a query', async () => {
    const lsn = parseLsn(await writeAndWait(1));
    expect((await lb().caughtUp(lsn))?.host).toBe(replica());
    const before = replica().stats.statusQueries;
    for (let i = 0; i < 200; i++) expect((await lb().caughtUp(lsn))?.host).toBe(replica());
    expect(replica().stats.statusQueries).toBe(before);
    expect(await registry.metrics()).toMatch(/lagless_lb_caught_up_checks_total\{result="caught_up",source="cache"\} (\d{3})/);
  });

  it('shares one in-flight replay query among concurrent checks', async () => {
    await lb().primary.pool.query('insert into items values (2, 1)');
    const lsn = await lb().currentWalLocation();
    const before = replica().stats.statusQueries;
    await Promise.all(Array.from({ length: 30 }, () => lb().caughtUp(lsn)));
    expect(replica().stats.statusQueries - before).toBe(1);
  });

  it('keeps a lagging replica offline until it is within a lag limit again', async () => {
    // recovery_min_apply_delay waits at each COMMIT record after replaying the records before it, so the byte
    // lag it causes is only the pending commit record (~40 bytes): hence the tiny byte limit here.
    const strict = new LoadBalancer({ database: 'main', primaryUrl: cluster.primaryUrl, replicaUrls: cluster.replicaUrls, maxReplicationLagBytes: 16, maxReplicationLagSeconds: 1 });
    try {
      await cluster.setApplyDelay(0, 2500);
      await strict.primary.pool.query('insert into items select g, 1 from generate_series(100, 120) g');
      const lsn = formatLsn(await strict.currentWalLocation());
      await sleep(1200);
      await strict.checkHealth();
      expect(strict.replicas[0]!.isOnline).toBe(false);
      expect(strict.replicas[0]!.lagBytes).toBeGreaterThan(16n);
      await waitForReplay(cluster.replicaUrls[0]!, lsn);
      await strict.checkHealth();
      expect(strict.replicas[0]!.lagBytes).toBe(0n); // seconds lag is now > 1 s (idle primary), bytes keep it online
      expect(strict.replicas[0]!.isOnline).toBe(true);
    } finally {
      await cluster.setApplyDelay(0, 0);
      await strict.close();
    }
  });

  it('reads its own writes through the facade even with a lagging replica', async () => {
    await cluster.setApplyDelay(0, 1000);
    try {
      const db = databases.db('main');
      await databases.sessions.run(async () => {
        await db.query('insert into items values (10, 1)');
        const { rows } = await db.query('select version from items where id = 10');
        expect(rows).toEqual([{ version: 1 }]);
      });
    } finally {
      await cluster.setApplyDelay(0, 0);
    }
  });

  it('stamps the primary position after COMMIT; sticky waits then uses the primary, delayed retries, both replica once caught up', async () => {
    await cluster.setApplyDelay(0, 1000);
    try {
      const db = databases.db('main');
      let stamp: Awaited<ReturnType<Databases['stamp']>> | undefined;
      await databases.sessions.run(() =>
        db.transaction(async (tx) => {
          await tx.query('insert into items values (20, 1)');
          databases.sessions.afterCommit(async () => (stamp = await databases.stamp()));
          expect(stamp).toBeUndefined();
        }),
      );
      expect(stamp?.walLocationSources).toEqual({ main: 'primary' });
      const read = async (strategy: string): Promise<unknown[]> => {
        const decision = await databases.decide({ dataConsistency: strategy === 'delayed' ? 'delayed' : 'sticky', retried: false, walLocations: stamp!.walLocations });
        return databases.runJob(decision, async () => [decision.strategy, (await db.query('select version from items where id = 20')).rows]);
      };
      expect(await read('sticky')).toEqual(['primary', [{ version: 1 }]]);
      expect((await read('delayed'))[0]).toBe('retry');
      await waitForReplay(cluster.replicaUrls[0]!, stamp!.walLocations.main!);
      expect(await read('sticky')).toEqual(['replica', [{ version: 1 }]]);
    } finally {
      await cluster.setApplyDelay(0, 0);
    }
  });

  it('stamps the replica position when the context only read from the replica, the primary otherwise', async () => {
    await writeAndWait(30);
    const db = databases.db('main');
    const outside = await databases.stamp();
    expect(outside.walLocationSources).toEqual({ main: 'primary' });
    const readOnly = await databases.sessions.run(async () => {
      await db.query('select * from items where id = 30');
      return databases.stamp();
    });
    expect(readOnly.walLocationSources).toEqual({ main: 'replica' });
    expect(parseLsn(readOnly.walLocations.main) <= (await lb().currentWalLocation())).toBe(true);
    const wrote = await databases.sessions.run(async () => {
      await db.query('update items set version = version + 1 where id = 30');
      return databases.stamp();
    });
    expect(wrote.walLocationSources).toEqual({ main: 'primary' });
  });

  it('never reads stale data across many write-then-run cycles with real lag', async () => {
    await cluster.setApplyDelay(0, 300);
    const db = databases.db('main');
    const strategies = new Map<string, number>();
    try {
      await db.query('insert into items values (40, 0)');
      for (let version = 1; version <= 30; version++) {
        const stamp = await databases.sessions.run(async () => {
          await db.query('update items set version = $1 where id = 40', [version]);
          return databases.stamp();
        });
        if (version % 3 === 0) await sleep(350); // let some jobs find the replica caught up
        const decision = await databases.decide({ dataConsistency: 'sticky', retried: false, walLocations: stamp.walLocations });
        strategies.set(decision.strategy, (strategies.get(decision.strategy) ?? 0) + 1);
        const seen = await databases.runJob(decision, async () => (await db.query<{ version: number }>('select version from items where id = 40')).rows[0]?.version);
        expect(seen).toBe(version);
      }
    } finally {
      await cluster.setApplyDelay(0, 0);
    }
    expect(strategies.get('replica')).toBeGreaterThan(0);
    expect(strategies.get('primary')).toBeGreaterThan(0);
  });

  it('marks a stopped replica offline, serves from the primary, and returns to it after a restart', async () => {
    const db = databases.db('main');
    const lsn = await writeAndWait(50);
    await cluster.stopReplica(0);
    try {
      await lb().checkHealth();
      expect(replica().isOnline).toBe(false);
      const decision = await databases.decide({ dataConsistency: 'sticky', retried: false, walLocations: { main: lsn } });
      expect(decision.strategy).toBe('primary');
      const rows = await databases.runJob(decision, async () => (await db.query('select id from items where id = 50')).rows);
      expect(rows).toEqual([{ id: 50 }]);
      expect((await db.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]); // app read falls back to the primary
    } finally {
      await cluster.startReplica(0);
    }
    for (let i = 0; i < 50 && !replica().isOnline; i++) {
      await sleep(100);
      await lb().checkHealth();
    }
    expect(replica().isOnline).toBe(true);
    const decision = await databases.decide({ dataConsistency: 'sticky', retried: false, walLocations: { main: await writeAndWait(51) } });
    expect(decision.strategy).toBe('replica');
    expect(await registry.metrics()).toMatch(/lagless_replica_online\{database="main",host="127\.0\.0\.1:\d+"\} 1/);
  });
});
