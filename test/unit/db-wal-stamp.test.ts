import { describe, expect, it } from 'vitest';
import { Databases } from '../../src/db/databases.js';
import { DatabaseUnavailableError, UnknownDatabaseError } from '../../src/errors.js';
import { connectionRefused, FakePool } from '../support/fake-pool.js';

function setup(): { databases: Databases; pools: Map<string, FakePool> } {
  const pools = new Map<string, FakePool>();
  const databases = new Databases(
    { main: { primary: 'postgres://p/main', replicas: ['postgres://r1/main', 'postgres://r2/main'] }, ci: { primary: 'postgres://p/ci' } },
    { poolFactory: (url) => pools.set(url, new FakePool()).get(url)! },
  );
  pools.get('postgres://p/main')!.currentLsn = '1/0';
  pools.get('postgres://p/ci')!.currentLsn = '2/0';
  return { databases, pools };
}

describe('Databases.stamp', () => {
  it('without a context stamps every database with its primary position', async () => {
    const { databases } = setup();
    expect(await databases.stamp()).toEqual({ walLocations: { main: '1/0', ci: '2/0' }, walLocationSources: { main: 'primary', ci: 'primary' } });
  });

  it('after replica-only reads stamps the highest replay position of the replicas read, queried afresh', async () => {
    const { databases, pools } = setup();
    pools.get('postgres://r1/main')!.replayLsn = '0/10';
    pools.get('postgres://r2/main')!.replayLsn = '0/20';
    const stamp = await databases.sessions.run(async () => {
      await databases.db('main').query('select 1'); // round robin: r1 then r2
      await databases.db('main').query('select 2');
      pools.get('postgres://r1/main')!.replayLsn = '0/30'; // moved on since the read: the stamp may be newer, never older
      return databases.stamp();
    });
    expect(stamp.walLocations).toEqual({ main: '0/30', ci: '2/0' });
    expect(stamp.walLocationSources).toEqual({ main: 'replica', ci: 'primary' });
  });

  it('uses the primary when the context wrote, or when a replica it read from is gone', async () => {
    const { databases, pools } = setup();
    const wrote = await databases.sessions.run(async () => {
      await databases.db('main').query('select 1');
      await databases.db('main').query('delete from t');
      return databases.stamp();
    });
    expect(wrote.walLocationSources.main).toBe('primary');
    const gone = await databases.sessions.run(async () => {
      await databases.db('main').query('select 1');
      pools.get('postgres://r1/main')!.failWith = connectionRefused();
      pools.get('postgres://r2/main')!.failWith = connectionRefused();
      return databases.stamp();
    });
    expect(gone.walLocations.main).toBe('1/0');
    expect(gone.walLocationSources.main).toBe('primary');
  });

  it('fails with a clear error when a primary is unreachable, rather than stamping nothing', async () => {
    const { databases, pools } = setup();
    pools.get('postgres://p/ci')!.failWith = connectionRefused();
    const error = await databases.stamp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/^Database 'ci' primary at p:5432 is unreachable \(connect ECONNREFUSED/);
  });

  it('rejects an unknown database name with a typed error', () => {
    const { databases } = setup();
    expect(() => databases.db('nope')).toThrow(UnknownDatabaseError);
    expect(() => databases.db('nope')).toThrow("Database 'nope' is not configured. Configured: 'main', 'ci'.");
  });
});
