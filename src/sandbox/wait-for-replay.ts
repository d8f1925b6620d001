import pg from 'pg';

/**
 * Wait until the server at `replicaUrl` has replayed WAL up to `lsn` (text form, e.g. from
 * `pg_current_wal_insert_lsn()` on the primary). The comparison happens in PostgreSQL as `pg_lsn`, so this
 * helper needs nothing from lagless's own LSN code and can check it independently in tests.
 */
export async function waitForReplay(replicaUrl: string, lsn: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  const client = new pg.Client({ connectionString: replicaUrl });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ replayed: string | null; done: boolean }>(
        'select pg_last_wal_replay_lsn()::text as replayed, coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) as done',
        [lsn],
      );
      if (rows[0]?.done) return;
      if (Date.now() > deadline) throw new Error(`Replica ${replicaUrl} replayed ${rows[0]?.replayed ?? 'nothing'}, not ${lsn}, within ${timeoutMs} ms.`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await client.end();
  }
}
