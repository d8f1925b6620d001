import type { QueryResult, QueryResultRow } from 'pg';
import type { PoolClientLike, PoolLike } from './queryable.js';

/** A wait that ran out: no SQLSTATE, so `isConnectionError` treats it as a host that is down. */
export class HostTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
  }
}

/**
 * A pooled connection within `ms`, or HostTimeoutError. pg's own connect timeout normally fires first; this
 * also bounds pools without one, and a connection that arrives late is returned to the pool, not leaked.
 */
export function connectWithin(pool: PoolLike, ms: number, label: string): Promise<PoolClientLike> {
  // An idle connection left for this call comes at once: no timer to arm (this runs for every replica read of a job).
  if ((pool.idleCount ?? 0) > (pool.waitingCount ?? Number.POSITIVE_INFINITY)) return pool.connect();
  return new Promise((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new HostTimeoutError(`connecting to ${label}`, ms));
    }, ms);
    pool.connect().then(
      (client) => {
        clearTimeout(timer);
        if (expired) client.release();
        else resolve(client);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

/**
 * Run `text` on `client` within `ms`, or HostTimeoutError. The caller must release the client with the error,
 * which destroys the connection: a statement that is still running there can never answer us.
 */
export function boundedQuery<R extends QueryResultRow>(client: PoolClientLike, text: string, ms: number, what: string): Promise<QueryResult<R>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HostTimeoutError(what, ms)), ms);
  });
  return Promise.race([client.query<R>(text), timeout]).finally(() => clearTimeout(timer));
}

/** `promise` within `ms`, or HostTimeoutError (for a pool's own `query`, whose connection pg then cleans up). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HostTimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Run `fn` with a pooled connection obtained within `ms`, then give it back: destroyed when `fn` failed for
 * connection reasons (see `isBroken`), so a hung or dropped connection is never reused. While the connection
 * is out, a drop reported as an 'error' event is handled here (the failing query reports it to `fn`).
 */
export async function withClient<T>(pool: PoolLike, ms: number, label: string, isBroken: (error: unknown) => boolean, fn: (client: PoolClientLike) => Promise<T>): Promise<T> {
  const client = await connectWithin(pool, ms, label);
  const onError = (): void => undefined;
  client.on?.('error', onError);
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (error) {
    if (isBroken(error)) broken = error as Error;
    throw error;
  } finally {
    client.removeListener?.('error', onError);
    client.release(broken);
  }
}
