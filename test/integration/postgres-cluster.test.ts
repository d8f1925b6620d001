import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';

describe('startPostgresCluster', () => {
  let cluster: PostgresCluster;
  let primary: pg.Pool;
  let replica: pg.Pool;

  beforeAll(async () => {
    cluster = await startPostgresCluster({ replicas: 1 });
    primary = new pg.Pool({ connectionString: cluster.primaryUrl, max: 2 });
    replica = new pg.Pool({ connectionString: cluster.replicaUrls[0], max: 2 });
    // A stopped server makes idle pool clients error; tests expect that, it must not crash the test worker.
    for (const pool of [primary, replica]) pool.on('error', () => {});
    await primary.query('create table items (id int primary key, name text)');
  });

  afterAll(async () => {
    await primary?.end();
    await replica?.end();
    await cluster?.stop();
  });

  async function insertAndLsn(id: number): Promise<string> {
    await primary.query('insert into items values ($1, $2)', [id, `item ${id}`]);
    const { rows } = await primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
    return rows[0]!.lsn;
  }

  it('runs a primary and a replica that is really a standby and streams', async () => {
    const { rows: p } = await primary.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
    const { rows: r } = await replica.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
    expect(p[0]!.standby).toBe(false);
    expect(r[0]!.standby).toBe(true);
    await waitForReplay(cluster.replicaUrls[0]!, await insertAndLsn(1));
    const { rows } = await replica.query('select name from items where id = 1');
    expect(rows).toEqual([{ name: 'item 1' }]);
    const { rows: receiver } = await replica.query<{ status: string }>('select status from pg_stat_wal_receiver');
    expect(receiver[0]?.status).toBe('streaming');
  });

  it('lags by the apply delay: a fresh row is invisible at first and visible after the delay', async () => {
    await cluster.setApplyDelay(0, 1500);
    try {
      const started = Date.now();
      const lsn = await insertAndLsn(2);
      expect((await replica.query('select 1 from items where id = 2')).rowCount).toBe(0);
      await waitForReplay(cluster.replicaUrls[0]!, lsn, { timeoutMs: 10_000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
      expect((await replica.query('select 1 from items where id = 2')).rowCount).toBe(1);
    } finally {
      await cluster.setApplyDelay(0, 0);
    }
  });

  it('stops and restarts one replica, which then catches up', async () => {
    await cluster.stopReplica(0);
    await expect(replica.query('select 1')).rejects.toThrow();
    const lsn = await insertAndLsn(3);
    await cluster.startReplica(0);
    await waitForReplay(cluster.replicaUrls[0]!, lsn);
    expect((await replica.query('select 1 from items where id = 3')).rowCount).toBe(1);
  });
});

describe('startPostgresCluster with applyDelayMs', () => {
  it('starts replicas that are already delayed', async () => {
    const cluster = await startPostgresCluster({ replicas: 2, applyDelayMs: 1500 });
    const primary = new pg.Pool({ connectionString: cluster.primaryUrl, max: 1 });
    const replicas = cluster.replicaUrls.map((url) => new pg.Pool({ connectionString: url, max: 1 }));
    for (const pool of [primary, ...replicas]) pool.on('error', () => {});
    try {
      await primary.query('create table t (id int)');
      const { rows } = await primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
      for (const replica of replicas) {
        expect((await replica.query(`select to_regclass('t') as t`)).rows[0]).toEqual({ t: null });
      }
      await Promise.all(cluster.replicaUrls.map((url) => waitForReplay(url, rows[0]!.lsn)));
      for (const replica of replicas) {
        expect((await replica.query(`select to_regclass('t')::text as t`)).rows[0]).toEqual({ t: 't' });
      }
    } finally {
      await primary.end();
      await Promise.all(replicas.map((replica) => replica.end()));
      await cluster.stop();
    }
  });
});
