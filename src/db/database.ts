import type { QueryResult, QueryResultRow } from 'pg';
import { AfterCommitError, DatabaseUnavailableError } from '../errors.js';
import type { DbHost } from './host.js';
import type { LoadBalancer } from './load-balancer.js';
import { isConnectionError, type PoolLike, type Queryable } from './queryable.js';
import type { DbSessionEntry, DbSessions, OpenTransaction } from './session.js';
import { isReadOnlySql } from './sql-kind.js';

export interface QueryOptions {
  /** Send this statement to the primary even though it looks like a read (e.g. a SELECT of a writing function). */
  primary?: boolean;
}

/**
 * `app.db('main')` and `ctx.db('main')`: one facade whose routing comes from the async context.
 * - Writes go to the primary and mark the context (reads then need a host that has the write; inside a
 *   job, the rest of the job goes to the primary).
 * - Reads go to the job's chosen host, else a replica that has what this context wrote, else any online
 *   replica, else the primary. A read that fails for connection reasons is retried once on the primary.
 * - Inside `transaction()`, every statement on this database uses the transaction's client.
 */
export class Database {
  readonly name: string;

  constructor(
    private readonly balancer: LoadBalancer,
    private readonly sessions: DbSessions,
  ) {
    this.name = balancer.database;
  }

  /** The pool reads would use right now (the job's chosen host, or the primary): hand it to Kysely/Drizzle. */
  get pool(): PoolLike {
    return this.sessions.entry(this.name).pinned?.pool ?? this.balancer.primary.pool;
  }

  get primaryPool(): PoolLike {
    return this.balancer.primary.pool;
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[], options: QueryOptions = {}): Promise<QueryResult<R>> {
    const open = this.sessions.openTransaction(this.name);
    if (open) return open.client.query<R>(text, values);
    const primary = this.balancer.primary;
    if (options.primary || !isReadOnlySql(text)) {
      try {
        return await primary.pool.query<R>(text, values);
      } finally {
        // Marked even when the statement failed: whether it committed is unknown, so assume it did.
        this.sessions.markWrite(this.name, primary);
      }
    }
    const entry = this.sessions.entry(this.name);
    const host = await this.readHost(entry);
    if (host === primary) return primary.pool.query<R>(text, values);
    try {
      const result = await host.pool.query<R>(text, values);
      entry.replicasRead.add(host);
      return result;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      host.markOffline(error);
      if (entry.pinned) entry.pinned = primary;
      return primary.pool.query<R>(text, values);
    }
  }

  /**
   * Run `fn` in a transaction on the primary. Callbacks held with `sessions.afterCommit` (enqueues) run
   * after COMMIT, in order, and are dropped on ROLLBACK. A nested call joins the open transaction.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const joined = this.sessions.openTransaction(this.name);
    if (joined) return fn(joined.client);
    const primary = this.balancer.primary;
    const client = await primary.pool.connect().catch((error: unknown) => {
      throw new DatabaseUnavailableError(this.name, primary.label, error);
    });
    const transaction: OpenTransaction = { database: this.name, client, held: [] };
    let result: T;
    try {
      await client.query('begin');
      result = await this.sessions.withTransaction(transaction, () => fn(client));
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      throw error;
    } finally {
      this.sessions.markWrite(this.name, primary);
    }
    client.release();
    await this.runHeld(transaction.held);
    return result;
  }

  private async runHeld(held: (() => unknown)[]): Promise<void> {
    // Still inside another database's open transaction: its COMMIT is what the callbacks must wait for.
    const outer = this.sessions.openTransaction();
    if (outer) {
      outer.held.push(...held);
      return;
    }
    const errors: unknown[] = [];
    for (const callback of held) {
      try {
        await callback();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AfterCommitError(this.name, errors);
  }

  private async readHost(entry: DbSessionEntry): Promise<DbHost> {
    if (entry.pinned) return entry.pinned;
    if (entry.needsWriteLsn) {
      // One primary query after a batch of writes; every later read of this context checks against it.
      entry.requiredLsn = await this.balancer.currentWalLocation();
      entry.needsWriteLsn = false;
    }
    if (entry.requiredLsn !== undefined) return (await this.balancer.caughtUp(entry.requiredLsn)) ?? this.balancer.primary;
    return this.balancer.anyOnlineReplica() ?? this.balancer.primary;
  }
}
