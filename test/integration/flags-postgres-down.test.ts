import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createFlagSystem } from '../../src/flags/create-flag-system.js';
import { migrateFlags } from '../../src/flags/migrate.js';
import { LaglessOpenFeatureProvider } from '../../src/flags/openfeature.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { waitFor } from '../helpers/log-capture.js';

const DEFINITIONS = new URL('../fixtures/feature_flags', import.meta.url).pathname;

describe('flags while PostgreSQL is unreachable', () => {
  let cluster: PostgresCluster | undefined;
  let pool: pg.Pool | undefined;
  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
  });

  it('keeps answering from the last snapshot, never throws, says so in its metrics and as OpenFeature STALE, and refuses changes', async () => {
    cluster = await startPostgresCluster({ replicas: 0 });
    pool = new pg.Pool({ connectionString: cluster.primaryUrl, max: 3, connectionTimeoutMillis: 1000 });
    pool.on('error', () => undefined); // the server going away is the point of this test
    await migrateFlags(pool);
    const registry = new Registry();
    const flags = createFlagSystem({ pool, definitions: DEFINITIONS, environment: 'production', logger: pino({ enabled: false }), registry, reloadIntervalMs: 50 });
    await flags.ready();
    await flags.set('new_checkout', true, { by: 'test' });
    expect(flags.enabled('new_checkout')).toBe(true);
    const provider = new LaglessOpenFeatureProvider(flags);
    const stale = new Promise((resolve) => provider.events.addHandler('PROVIDER_STALE', resolve));
    await provider.initialize();
    expect(await provider.resolveBooleanEvaluation('new_checkout', false)).toMatchObject({ value: true, reason: 'STATIC' });

    await cluster.stop(); // the real server goes away; the pool stays and its queries now fail
    cluster = undefined;
    const failures = async (): Promise<number> => (await registry.getSingleMetric('lagless_feature_flag_snapshot_reload_failures_total')!.get()).values[0]?.value ?? 0;
    await waitFor(async () => (await failures()) >= 2, 10_000, 'failed reloads');
    expect(flags.enabled('new_checkout')).toBe(true);
    expect(flags.enabled('refresh_dedup')).toBe(false);
    const age = (await registry.getSingleMetric('lagless_feature_flag_snapshot_age_seconds')!.get()).values[0]!.value;
    expect(age).toBeGreaterThan(0);
    await expect(flags.set('new_checkout', false, { by: 'test' })).rejects.toMatchObject({ code: 'FLAG_STORE_UNAVAILABLE' });
    expect(flags.enabled('new_checkout')).toBe(true);
    // OpenFeature: an outage is not "nothing stored": the provider turns STALE and says so in every answer.
    await stale;
    expect(provider.status).toBe('STALE');
    expect(await provider.resolveBooleanEvaluation('new_checkout', false)).toMatchObject({ value: true, reason: 'STALE' });
    await flags.close();
  }, 60_000);
});
