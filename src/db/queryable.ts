import type { QueryResult, QueryResultRow } from 'pg';

/**
 * The part of `pg` that the db layer calls, structurally (a `pg.Pool` or `pg.PoolClient` fits), so tests
 * can count or fail queries and other clients can be adapted without a dependency on pg's classes.
 */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export interface PoolClientLike extends Queryable {
  /** Pass an error to destroy a connection that is broken or in an unknown transaction state. */
  release(destroy?: Error | boolean): void;
  /** pg emits a dropped connection as an 'error' event on a checked-out client: without a listener it would crash. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

export interface PoolLike extends Queryable {
  connect(): Promise<PoolClientLike>;
  /** Idle connections, and connect() calls waiting for one (pg.Pool has both): they are served in order. */
  readonly idleCount?: number;
  readonly waitingCount?: number;
  /** Drains: resolves once checked-out clients are released and every connection is closed. */
  end(): Promise<void>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The bounds every connection of one database gets (configured per database). */
export interface PoolSettings {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
}

/** Builds the pool for one host; the default makes a `pg.Pool`. */
export type PoolFactory = (url: string, role: 'primary' | 'replica', settings: PoolSettings) => PoolLike;

/**
 * True for errors that say the host is unusable (refused, reset, timed out, shutting down, out of
 * connections) rather than that the SQL was wrong: only these mark a host offline or move a read elsewhere.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // no SQLSTATE: socket-level failure or timeout
  if (code === '57014') return false; // canceled by statement_timeout: a slow statement, not a host that is down
  return code.startsWith('08') || code.startsWith('57') || code.startsWith('53');
}
