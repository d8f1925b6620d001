import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../../src/db/load-balancer.js';
import { formatLsn } from '../../src/db/lsn.js';
import { FakePool } from '../support/fake-pool.js';

describe("the primary's current WAL position", () => {
  const setup = () => {
    const pool = new FakePool();
    const lb = new LoadBalancer({ database: 'main', primaryUrl: 'postgres://primary/app', poolFactory: () => pool });
    const queries = () => pool.statements.filter((s) => s.includes('pg_current_wal_insert_lsn')).length;
    return { pool, lb, queries };
  };

  it('is read once for every caller of the same tick (a batch of enqueues), by a query sent after they all asked', async () => {
    const { pool, lb, queries } = setup();
    pool.currentLsn = '0/10';
    const batch = Array.from({ length: 100 }, () => lb.currentWalLocation());
    pool.currentLsn = '0/20'; // a commit that happens after the callers asked but before the query is sent
    expect((await Promise.all(batch)).map(formatLsn)).toEqual(Array(100).fill('0/20'));
    expect(queries()).toBe(1);
  });

  it('never hands a caller a query that was already sent before it asked', async () => {
    const { pool, lb, queries } = setup();
    let release!: () => void;
    pool.gate = new Promise((resolve) => (release = resolve));
    pool.currentLsn = '0/10';
    const first = lb.currentWalLocation();
    await new Promise((resolve) => setImmediate(resolve)); // the first query is now on its way
    pool.currentLsn = '0/30';
    const second = lb.currentWalLocation();
    release();
    pool.gate = undefined;
    expect(queries()).toBe(1);
    await first;
    expect(formatLsn(await second)).toBe('0/30');
    expect(queries()).toBe(2);
  });
});
