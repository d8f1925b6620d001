import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, idempotencyKey, InvalidOptionError, PRESERVE_LATEST_WAL_FLAG, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { captureLogs } from '../helpers/log-capture.js';

// The dedup client middleware reads its flags through app.flags (embedded mode: flags in memory).
const DEFINITIONS = new URL('../fixtures/feature_flags', import.meta.url).pathname;

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const stores = bothStores(() => redis);

describe.each(stores)('flags read by deduplication on the %s store', (_name, redisConfig) => {
  const apps: LaglessApp[] = [];
  afterAll(async () => Promise.all(apps.map((app) => app.close())));
  function setup(environment = 'test'): { app: LaglessApp; lines: Record<string, unknown>[]; queue: string } {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger, flags: { definitions: DEFINITIONS, environment } });
    apps.push(app);
    return { app, lines, queue: `q${randomBytes(3).toString('hex')}` };
  }

  it(`${PRESERVE_LATEST_WAL_FLAG}: on by default raises the cookie's WAL to the absorbed enqueue's; off keeps the owner's`, async () => {
    const { app, queue } = setup();
    let wal = '0/10';
    // Stands in for WAL stamping: the load-balancing middleware sets wal_locations the same way.
    app.clientMiddleware.insertBefore('deduplication', 'test_wal', async (context, next) => {
      context.job.wal_locations = { main: wal };
      return next();
    });
    const W = app.defineWorker({ name: 'PreserveWorker', queue, idempotent: true, perform: () => undefined });
    const cookieWal = async () => (await app.store.dedupShow({ queue, key: idempotencyKey('PreserveWorker', { id: 1 }), nowMs: Date.now() }))?.wal;

    // Nothing stored: the definition's default_enabled (true) applies.
    expect(app.flags.enabled(PRESERVE_LATEST_WAL_FLAG)).toBe(true);
    const owner = await W.enqueue({ id: 1 });
    wal = '0/20';
    expect(await W.enqueue({ id: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    expect(await cookieWal()).toEqual({ main: '0/20' });
    expect(await app.metrics.metrics()).toMatch(/lagless_dedup_wal_location_updates_total\{database="main"\} 1/);

    // The flag is how to turn it off.
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, false, { by: 'test' });
    wal = '0/30';
    expect(await W.enqueue({ id: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    expect(await cookieWal()).toEqual({ main: '0/20' });
  });

  it('deduplicate.featureFlag: off ⇒ every enqueue is pushed; on ⇒ twins are absorbed', async () => {
    const { app, queue } = setup();
    const W = app.defineWorker({ name: 'FlaggedRefreshWorker', queue, idempotent: true, deduplicate: { featureFlag: 'refresh_dedup' }, perform: () => undefined });
    expect(app.flags.enabled('refresh_dedup')).toBe(false);
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 2, dedupKeys: 0 });

    await app.flags.set('refresh_dedup', true);
    const owner = await W.enqueue({ id: 1 });
    expect(owner.deduplicated).toBe(false);
    expect(await W.enqueue({ id: 1 })).toEqual({ jid: expect.any(String), deduplicated: true, duplicateOf: owner.jid });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 3, dedupKeys: 1 });

    await app.flags.set('refresh_dedup', false);
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
  });

  it('an undefined worker flag fails defineWorker in test, naming worker, option and fix; in production it reads as off', async () => {
    const { app, queue } = setup('test');
    expect(() => app.defineWorker({ name: 'TypoWorker', queue, idempotent: true, deduplicate: { featureFlag: 'refresh_dedupe' }, perform: () => undefined })).toThrow(InvalidOptionError);
    expect(() => app.defineWorker({ name: 'TypoWorker', queue, idempotent: true, deduplicate: { featureFlag: 'refresh_dedupe' }, perform: () => undefined })).toThrow(
      "Worker 'TypoWorker' option deduplicate.featureFlag names feature flag 'refresh_dedupe', which has no definition. Add config/feature_flags/worker/refresh_dedupe.yml",
    );
    expect(() => app.defineWorker({ name: 'LbWorker', queue, dataConsistency: 'sticky', dataConsistencyFlag: 'lb_nope', perform: () => undefined })).toThrow(/option dataConsistencyFlag names feature flag 'lb_nope'/);
    expect(app.findWorker('TypoWorker')).toBeUndefined();

    const prod = setup('production');
    const W = prod.app.defineWorker({ name: 'TypoWorker', queue: prod.queue, idempotent: true, deduplicate: { featureFlag: 'refresh_dedupe' }, perform: () => undefined });
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    expect(prod.lines.filter((line) => line.key === 'refresh_dedupe' && line['extra.error_code'] === 'FLAG_NOT_FOUND')).toHaveLength(1);
  });
});
