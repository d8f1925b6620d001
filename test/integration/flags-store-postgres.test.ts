import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateFlags } from '../../src/flags/migrate.js';
import { PostgresFlagStore } from '../../src/flags/store/postgres.js';
import type { FlagPool } from '../../src/flags/store/queryable.js';
import { flagStoreSuite } from '../conformance/flag-store.suite.js';
import { startFlagsPgSandbox, type FlagsPgSandbox } from './flags-pg-sandbox.js';

let sandbox: FlagsPgSandbox;
beforeAll(async () => {
  sandbox = await startFlagsPgSandbox();
  await migrateFlags(sandbox.pool);
});
afterAll(async () => sandbox?.stop());

flagStoreSuite('postgres', () => new PostgresFlagStore(sandbox.pool));

describe('flag migrations and transactions', () => {
  it('migrates once: a second run applies nothing', async () => {
    expect((await migrateFlags(sandbox.pool)).applied).toEqual([]);
    const { rows } = await sandbox.pool.query("SELECT version, name FROM lagless_schema_migrations WHERE component = 'flags'");
    expect(rows).toEqual([{ version: 1, name: '001_feature_flags.sql' }]);
  });

  it('rolls the state change back when the audit row cannot be written', async () => {
    // A pool whose connections fail on the audit insert: the gate rows written earlier in the transaction must vanish.
    const failing: FlagPool = {
      query: (text, values) => sandbox.pool.query(text, values),
      async connect() {
        const client = await sandbox.pool.connect();
        return {
          query: (text: string, values?: unknown[]) =>
            text.includes('INSERT INTO lagless_feature_flag_audit') ? Promise.reject(new Error('audit down')) : client.query(text, values),
          release: (err?: Error | boolean) => client.release(err),
        };
      },
    };
    const store = new PostgresFlagStore(failing);
    await expect(store.flagSet({ environment: 'tx', name: 'f', value: true, by: 'alice' })).rejects.toThrow('audit down');
    expect(await store.flagGet({ environment: 'tx', name: 'f' })).toBeUndefined();
    const { rows } = await sandbox.pool.query("SELECT count(*)::int AS n FROM lagless_feature_gates WHERE environment = 'tx'");
    expect(rows[0].n).toBe(0);
  });
});
