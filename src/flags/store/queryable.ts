/**
 * The part of `pg.Pool` the flag code calls (Kysely's habit: depend on a structural subset), so tests and
 * applications can pass their own pool or a wrapper.
 */
export interface FlagQueryResult {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are typed at each call site
  readonly rows: any[];
  readonly rowCount: number | null;
}

export interface FlagQueryable {
  query(text: string, values?: unknown[]): Promise<FlagQueryResult>;
}

export interface FlagPoolClient extends FlagQueryable {
  release(err?: Error | boolean): void;
}

export interface FlagPool extends FlagQueryable {
  connect(): Promise<FlagPoolClient>;
}

/** Run `fn` in one transaction on one connection; roll back on any error and rethrow it. */
export async function inTransaction<T>(pool: FlagPool, fn: (client: FlagQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError; // a connection that cannot roll back must not go back to the pool
    });
    throw err;
  } finally {
    client.release(broken ?? false);
  }
}
