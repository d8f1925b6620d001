import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';

/** A private PostgreSQL (never the machine's own) with one fresh database for the calling test file. */
export interface FlagsPgSandbox {
  readonly url: string;
  readonly pool: pg.Pool;
  stop(): Promise<void>;
}

export async function startFlagsPgSandbox(): Promise<FlagsPgSandbox> {
  const cluster: PostgresCluster = await startPostgresCluster({ replicas: 0 });
  const database = `flags_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: cluster.primaryUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = cluster.primaryUrl.replace(/\/postgres$/, `/${database}`);
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // pool.end() resolves before every socket has closed; the server's shutdown notice can still reach an
  // ending client. That is expected at teardown, not a test failure.
  pool.on('error', (err: Error & { code?: string }) => {
    if (err.code !== '57P01') throw err;
  });
  return {
    url,
    pool,
    async stop() {
      await pool.end();
      await cluster.stop();
    },
  };
}
