import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, InvalidOptionError, type LaglessApp, type LaglessConfig } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { startFlagsPgSandbox, type FlagsPgSandbox } from './flags-pg-sandbox.js';

// app.flags on PostgreSQL (databases.main) with change notices on the app's Redis.
const DEFINITIONS = new URL('../fixtures/feature_flags', import.meta.url).pathname;

let pg: FlagsPgSandbox;
let redis: RedisServerHandle;
const apps: LaglessApp[] = [];
beforeAll(async () => ([pg, redis] = await Promise.all([startFlagsPgSandbox(), startRedisServer()])));
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all([pg?.stop(), redis?.stop()]);
});

function app(prefix: string, overrides: Partial<LaglessConfig> = {}): { app: LaglessApp; lines: Record<string, unknown>[] } {
  const { logger, lines } = captureLogs();
  const created = createLagless({
    redis: { url: redis.url, prefix },
    databases: { main: { primary: pg.url, healthCheckIntervalMs: 60_000 } },
    flags: { definitions: DEFINITIONS, environment: 'test' },
    logger,
    ...overrides,
  });
  apps.push(created);
  return { app: created, lines };
}

describe('app.flags on PostgreSQL and Redis', () => {
  it('app.migrate() creates the flag tables once; a change made in one app is seen by another within 1 s', async () => {
    const prefix = `fa${randomBytes(3).toString('hex')}`;
    const { app: a, lines } = app(prefix);
    const { app: b } = app(prefix);
    expect(await a.migrate()).toEqual({ applied: ['001_feature_flags.sql'] });
    expect(await b.migrate()).toEqual({ applied: [] });
    await Promise.all([a.flags.start(), b.flags.start()]); // subscribed to change notices and loaded
    expect(b.flags.enabled('new_checkout')).toBe(false);

    for (const [value, actor, expected] of [
      [true, undefined, true],
      [{ actors: ['User:42'], enabled: true }, 'User:42', true],
      [false, 'User:42', false],
    ] as const) {
      const startedMs = performance.now();
      await a.flags.set('new_checkout', value, { by: 'alice' });
      await waitFor(() => b.flags.enabled('new_checkout', actor) === expected, 1000, `second app sees ${JSON.stringify(value)}`);
      expect(performance.now() - startedMs).toBeLessThan(1000);
    }
    expect(await b.flags.get('new_checkout')).toMatchObject({ state: 'off', environment: 'test' });
    expect((await b.flags.history('new_checkout')).map((entry) => [entry.by, entry.action])).toEqual([
      ['alice', 'disable'],
      ['alice', 'enable_actors'],
      ['alice', 'enable'],
    ]);
    expect(lines.filter((line) => line.key === 'new_checkout' && line.action === 'enable')).toHaveLength(1);

    await a.flags.delete('new_checkout');
    await waitFor(() => b.flags.evaluate('new_checkout').reason === 'DEFAULT', 1000, 'second app sees the delete');
  });

  it('another prefix is another notice channel; another environment reads its own state', async () => {
    const prefix = `fb${randomBytes(3).toString('hex')}`;
    const { app: writer } = app(prefix, { flags: { definitions: DEFINITIONS, environment: 'test', environments: ['staging'] } });
    const { app: staging } = app(prefix, { flags: { definitions: DEFINITIONS, environment: 'staging' } });
    await Promise.all([writer.migrate(), writer.flags.start(), staging.flags.start()]);
    await writer.flags.set('refresh_dedup', true, { env: 'staging' });
    await waitFor(() => staging.flags.enabled('refresh_dedup'), 1000, 'staging app sees its change');
    expect(writer.flags.enabled('refresh_dedup')).toBe(false);
    await expect(staging.flags.set('refresh_dedup', true, { env: 'test' })).rejects.toThrow(/Unknown environment 'test'. Known environments: staging/);
  });

  it('rejects a flags.database that is not configured, with the fix', () => {
    expect(() => app('x', { flags: { database: 'flags' } })).toThrow(InvalidOptionError);
    expect(() => app('x', { flags: { database: 'flags' } })).toThrow("flags.database 'flags' is not one of the configured databases (main)");
    expect(() => createLagless({ logger: false, flags: { database: 'main' } })).toThrow(/no databases are configured; add databases: \{ main: \{ primary/);
    expect(() => createLagless({ logger: false, flags: { environment: 'Prod' } })).toThrow(/Invalid createLagless option flags.environment/);
  });
});
