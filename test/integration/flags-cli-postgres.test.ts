import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { featureSet, featureDelete, type FeatureCliContext } from '../../src/flags/cli-actions.js';
import { loadDefinitions } from '../../src/flags/definitions.js';
import { FlagError, FlagStoreUnavailableError } from '../../src/flags/errors.js';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { migrateFlags } from '../../src/flags/migrate.js';
import { PostgresFlagStore } from '../../src/flags/store/postgres.js';
import { freePort } from '../../src/sandbox/redis-server.js';
import { startFlagsPgSandbox, type FlagsPgSandbox } from './flags-pg-sandbox.js';

const FLAG = 'preserve_latest_wal_locations_for_idempotent_jobs';
const quiet = { info: () => undefined, warn: () => undefined };
let sandbox: FlagsPgSandbox;
let deadPool: pg.Pool;
let ctx: FeatureCliContext;
let flags: Flags;

beforeAll(async () => {
  sandbox = await startFlagsPgSandbox();
  await migrateFlags(sandbox.pool);
  const definitions = loadDefinitions();
  // production and staging share one database; `down` points at a port where nothing listens.
  flags = createFlags({ store: new PostgresFlagStore(sandbox.pool), definitions, environment: 'production', environments: ['production', 'staging'], logger: quiet });
  deadPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connectionTimeoutMillis: 2000 });
  const down = createFlags({ store: new PostgresFlagStore(deadPool), definitions, environment: 'down', logger: quiet });
  ctx = { environments: ['production', 'staging', 'down'], defaultEnvironment: 'production', flagsFor: (env) => (env === 'down' ? down : flags) };
});
afterAll(async () => {
  await deadPool?.end();
  await sandbox?.stop();
});

async function tableCounts(): Promise<number[]> {
  const { rows } = await sandbox.pool.query(`SELECT (SELECT count(*) FROM lagless_feature_flags)::int AS f,
    (SELECT count(*) FROM lagless_feature_gates)::int AS g, (SELECT count(*) FROM lagless_feature_flag_audit)::int AS a`);
  return [rows[0].f, rows[0].g, rows[0].a];
}

describe('feature CLI actions on PostgreSQL', () => {
  it('applies a good change to every environment, with audit rows', async () => {
    await featureSet(ctx, { name: FLAG, value: '25', actors: true, env: 'production,staging', by: 'alice' });
    expect(await tableCounts()).toEqual([2, 2, 2]);
  });

  const bad: Array<[string, Parameters<typeof featureSet>[1]]> = [
    ['unknown flag', { name: 'no_such_flag', value: 'true' }],
    ['percentage above 100', { name: FLAG, value: '101' }],
    ['more than 3 decimals', { name: FLAG, value: '0.0001' }],
    ['--actors with true', { name: FLAG, value: 'true', actors: true }],
    ['unknown environment', { name: FLAG, value: 'true', env: 'production,qa' }],
    ['unreachable database', { name: FLAG, value: 'true', env: 'production,down' }],
  ];
  it.each(bad)('%s: exits with a FlagError and the database is unchanged', async (_label, args) => {
    const before = await tableCounts();
    await expect(featureSet(ctx, args)).rejects.toThrow(FlagError);
    expect(await tableCounts()).toEqual(before);
  });

  it('names the unreachable database clearly, also for delete', async () => {
    const before = await tableCounts();
    await expect(featureDelete(ctx, { name: FLAG, env: 'production,down' })).rejects.toThrow(FlagStoreUnavailableError);
    await expect(featureSet(ctx, { name: FLAG, value: 'true', env: 'down' })).rejects.toThrow(/Feature flag storage is unreachable/);
    expect(await tableCounts()).toEqual(before);
  });
});
