import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { MemoryFlagChangeBus } from '../../src/flags/change-bus.js';
import { createFlags } from '../../src/flags/flags.js';
import { FlagSnapshot } from '../../src/flags/snapshot.js';
import type { FlagStore } from '../../src/flags/store/flag-store.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { definition, definitions, recordingLogger } from './flags-helpers.js';

/** A store whose reads can be switched off, standing in for an unreachable PostgreSQL. */
function flakyStore(inner: FlagStore): FlagStore & { down: boolean; loads: number } {
  const store = Object.create(inner) as FlagStore & { down: boolean; loads: number };
  store.down = false;
  store.loads = 0;
  store.flagLoadAll = async (params) => {
    store.loads++;
    if (store.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return inner.flagLoadAll(params);
  };
  return store;
}

describe('flag snapshot', () => {
  it('keeps the last snapshot while storage is down, and the age metric shows it', async () => {
    let now = 1_000_000;
    const inner = new MemoryFlagStore();
    const store = flakyStore(inner);
    const registry = new Registry();
    const logger = recordingLogger();
    const flags = createFlags({ store, logger, registry, environment: 'production', definitions: definitions(definition('new_ui')), nowMs: () => now });
    expect(await registry.metrics()).toMatch(/lagless_feature_flag_snapshot_age_seconds 0/);
    await inner.flagSet({ environment: 'production', name: 'new_ui', value: true, by: 'seed' });
    await flags.ready();
    store.down = true;
    now += 90_000;
    await flags.reload();
    expect(flags.enabled('new_ui')).toBe(true);
    const text = await registry.metrics();
    expect(text).toContain('lagless_feature_flag_snapshot_age_seconds 90');
    expect(text).toContain('lagless_feature_flag_snapshot_reload_failures_total 1');
    expect(logger.lines.some((l) => l.level === 'warn' && String(l.msg).includes('keeping the previous snapshot'))).toBe(true);
    await flags.close();
  });

  it('serves defaults and reports not-ready when storage is down from the start', async () => {
    const store = flakyStore(new MemoryFlagStore());
    store.down = true;
    const flags = createFlags({ store, logger: recordingLogger(), environment: 'production', definitions: definitions(definition('on_by_default', true)) });
    expect(await flags.ready(50)).toBe(false);
    expect(flags.enabled('on_by_default')).toBe(true);
    await flags.close();
  });

  it('coalesces reload requests made during a load into one more load', async () => {
    const store = flakyStore(new MemoryFlagStore());
    const snapshot = new FlagSnapshot({ store, environment: 'e' });
    await Promise.all([snapshot.reload(), snapshot.reload(), snapshot.reload(), snapshot.reload()]);
    expect(store.loads).toBe(2);
    await snapshot.reload();
    expect(store.loads).toBe(3);
  });

  it('a change in one instance reaches another through the bus', async () => {
    const hub = new EventEmitter();
    const store = new MemoryFlagStore();
    const defs = definitions(definition('new_ui'));
    const make = () => createFlags({ store, logger: recordingLogger(), environment: 'production', definitions: defs, bus: new MemoryFlagChangeBus(hub) });
    const [a, b] = [make(), make()];
    await Promise.all([a.start(), b.start()]);
    const changed = new Promise<string[]>((resolve) => b.onChange(resolve));
    await a.set('new_ui', true);
    expect(await changed).toEqual(['new_ui']);
    expect(b.enabled('new_ui')).toBe(true);
    // A reload that finds nothing new is not a change (OpenFeature listeners are not woken every period).
    let calls = 0;
    b.onChange(() => calls++);
    await b.reload();
    expect(calls).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });
});
