import type { QueryResult, QueryResultRow } from 'pg';
import { AfterCommitError, DatabaseUnavailableError, ReplicaChangedError } from '../errors.js';
import type { LoadBalancer, ReplicaRoute } from './load-balancer.js';
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

  /**
   * The pool reads would use right now (the job's chosen host, or the primary): hand it to Kysely/Drizzle. On a
   * replica chosen by a caught-up verdict, every connection it hands out has proved the verdict's incarnation.
   */
  get pool(): PoolLike {
    const pinned = this.sessions.entry(this.name).pinned;
    return pinned ? pinned.host.provenPool(pinned.incarnation) : this.balancer.primary.pool;
  }

  get primaryPool(): PoolLike {
    return this.balancer.primary.pool;
  }

  /**
   * Run one statement where the async context says. A primary that cannot be reached (or does not answer
   * within the configured bounds) is a DatabaseUnavailableError naming the host and the setting.
   */
  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[], options: QueryOptions = {}): Promise<QueryResult<R>> {
    const open = this.sessions.openTransaction(this.name);
    if (open) return open.client.query<R>(text, values);
    const primary = this.balancer.primary;
    if (options.primary || !isReadOnlySql(text)) {
      try {
        return await this.onPrimary<R>(text, values);
      } finally {
        // Marked even when the statement failed: whether it committed is unknown, so assume it did.
        this.sessions.markWrite(this.name, primary);
      }
    }
    const entry = this.sessions.entry(this.name);
    const route = await this.readRoute(entry);
    if (route.host === primary) return this.onPrimary<R>(text, values);
    try {
      const result = await route.host.query<R>(text, values, route.incarnation);
      entry.replicasRead.add(route.host);
      return result;
    } catch (error) {
      // Another incarnation answers at that address: the verdict is void, the rest of this context reads the primary.
      if (error instanceof ReplicaChangedError) {
        if (entry.pinned) entry.pinned = { host: primary, incarnation: undefined };
        return this.onPrimary<R>(text, values);
      }
      if (!isConnectionError(error)) throw error;
      route.host.markOffline(error);
      if (entry.pinned) entry.pinned = { host: primary, incarnation: undefined };
      return this.onPrimary<R>(text, values);
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
      throw this.unavailable(error);
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

  private async onPrimary<R extends QueryResultRow>(text: string, values: unknown[] | undefined): Promise<QueryResult<R>> {
    try {
      return await this.balancer.primary.pool.query<R>(text, values);
    } catch (error) {
      throw isConnectionError(error) ? this.unavailable(error) : error;
    }
  }

  /** The typed error for a primary that is down or hung, naming the bound that applied. */
  private unavailable(error: unknown): DatabaseUnavailableError {
    if (error instanceof DatabaseUnavailableError) return new DatabaseUnavailableError(error.database, error.host, error.cause, error.setting, 'query');
    const { connectTimeoutMs, statementTimeoutMs } = this.balancer.settings;
    // pg's client-side statement bound says "Query read timeout"; everything else is about getting a connection.
    const statement = error instanceof Error && /query read timeout/i.test(error.message);
    const setting = statement ? { name: 'statementTimeoutMs', ms: statementTimeoutMs } : { name: 'connectTimeoutMs', ms: connectTimeoutMs };
    return new DatabaseUnavailableError(this.name, this.balancer.primary.label, error, setting, 'query');
  }

  private async readRoute(entry: DbSessionEntry): Promise<ReplicaRoute> {
    if (entry.pinned) return entry.pinned;
    const primary: ReplicaRoute = { host: this.balancer.primary, incarnation: undefined };
    if (entry.needsWriteLsn) {
      // One primary query after a batch of writes; every later read of this context checks against it.
      entry.requiredLsn = await this.balancer.currentWalLocation().catch((error: unknown) => {
        throw this.unavailable(error);
      });
      entry.needsWriteLsn = false;
    }
    if (entry.requiredLsn !== undefined) return (await this.balancer.caughtUp(entry.requiredLsn)) ?? primary;
    const any = this.balancer.anyOnlineReplica();
    return any ? { host: any, incarnation: undefined } : primary;
  }
}
