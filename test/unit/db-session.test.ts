import { describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { Databases } from '../../src/db/databases.js';
import { LoadBalancer } from '../../src/db/load-balancer.js';
import { parseLsn } from '../../src/db/lsn.js';
import { DbSessions } from '../../src/db/session.js';
import { AfterCommitError } from '../../src/errors.js';
import { FakePool } from '../support/fake-pool.js';

function setup(): { db: Database; sessions: DbSessions; primary: FakePool; replica: FakePool; lb: LoadBalancer } {
  const pools = new Map<string, FakePool>();
  const lb = new LoadBalancer({
    database: 'main',
    primaryUrl: 'postgres://p/app',
    replicaUrls: ['postgres://r/app'],
    poolFactory: (url) => pools.set(url, new FakePool()).get(url)!,
  });
  const sessions = new DbSessions();
  return { db: new Database(lb, sessions), sessions, primary: pools.get('postgres://p/app')!, replica: pools.get('postgres://r/app')!, lb };
}

describe('Database.transaction', () => {
  it('holds afterCommit callbacks until COMMIT and runs them in order after it', async () => {
    const { db, sessions, primary } = setup();
    const order: string[] = [];
    await db.transaction(async (tx) => {
      await tx.query('insert into t values (1)');
      expect(sessions.afterCommit(() => order.push(`first after ${primary.statements.at(-1)}`))).toBe(true);
      await db.transaction(async () => {
        sessions.afterCommit(() => order.push('nested'));
      });
      expect(order).toEqual([]);
    });
    expect(primary.statements).toEqual(['begin', 'insert into t values (1)', 'commit']);
    expect(order).toEqual(['first after commit', 'nested']);
    expect(primary.released).toBe(1);
  });

  it('drops held callbacks on ROLLBACK and rethrows', async () => {
    const { db, sessions, primary } = setup();
    let ran = false;
    await expect(
      db.transaction(async () => {
        sessions.afterCommit(() => (ran = true));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(primary.statements).toEqual(['begin', 'rollback']);
    expect(ran).toBe(false);
  });

  it('runs the callback now (returns false) outside a transaction', () => {
    const { sessions } = setup();
    expect(sessions.afterCommit(() => undefined)).toBe(false);
  });

  it('reports held callbacks that fail after a successful COMMIT', async () => {
    const { db, sessions } = setup();
    const error = await db
      .transaction(async () => {
        sessions.afterCommit(() => Promise.reject(new Error('redis down')));
        sessions.afterCommit(() => undefined);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AfterCommitError);
    expect((error as AfterCommitError).message).toContain('committed, but 1 callback(s)');
  });

  it('routes db.query inside the transaction to the transaction client', async () => {
    const { db, primary, replica } = setup();
    await db.transaction(async () => {
      await db.query('select 1');
    });
    expect(primary.statements).toEqual(['begin', 'select 1', 'commit']);
    expect(replica.statements).toEqual([]);
  });
});

describe('Database routing', () => {
  it('sends reads to a replica, writes to the primary, then reads only to a replica that has the write', async () => {
    const { db, sessions, primary, replica } = setup();
    await sessions.run(async () => {
      await db.query('select * from t');
      expect(replica.statements).toEqual(['select * from t']);
      await db.query('update t set a = 1');
      expect(primary.statements).toEqual(['update t set a = 1']);
      primary.currentLsn = '0/200';
      replica.replayLsn = '0/100';
      await db.query('select 2');
      expect(primary.statements.at(-1)).toBe('select 2'); // the replica is behind the write
      replica.replayLsn = '0/200';
      await db.query('select 3');
      expect(replica.statements.at(-1)).toBe('select 3');
      expect(sessions.entry('main').requiredLsn).toBe(parseLsn('0/200'));
    });
  });

  it('in a job pinned to a replica, the first write sends the rest of the job to the primary', async () => {
    const { db, sessions, primary, replica, lb } = setup();
    await sessions.run(
      async () => {
        expect(db.pool).toBe(replica);
        await db.query('select 1');
        await db.query('insert into t values (1)');
        await db.query('select 2');
        expect(db.pool).toBe(primary);
      },
      { main: { host: lb.replicas[0]!, incarnation: undefined } },
    );
    expect(replica.statements).toEqual(['select 1']);
    expect(primary.statements).toEqual(['insert into t values (1)', 'select 2']);
  });

  it('retries a read on the primary when the replica refuses connections', async () => {
    const { db, sessions, primary, replica, lb } = setup();
    replica.failWith = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await sessions.run(() => db.query('select 1'));
    expect(primary.statements).toEqual(['select 1']);
    expect(lb.replicas[0]!.isOnline).toBe(false);
  });

  it('does not retry a read that failed for SQL reasons', async () => {
    const { db, primary, replica } = setup();
    replica.failWith = Object.assign(new Error('relation "nope" does not exist'), { code: '42P01' });
    await expect(db.query('select * from nope')).rejects.toThrow('does not exist');
    expect(primary.statements).toEqual([]);
  });
});

describe('Databases.close', () => {
  // An enabled AsyncLocalStorage runs a hook on every promise of the process: a closed app must disable it.
  it('disables the context storage, so a context still open afterwards sees none', async () => {
    const databases = new Databases({ main: { primary: 'postgres://p/main' } }, { poolFactory: () => new FakePool() });
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen = databases.sessions.run(async () => [databases.sessions.inContext(), await gate, databases.sessions.inContext()]);
    await databases.close();
    release();
    expect(await seen).toEqual([true, undefined, false]);
  });
});
