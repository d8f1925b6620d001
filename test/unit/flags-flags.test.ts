import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { InvalidFlagValueError, UndefinedFlagError, UnknownEnvironmentError } from '../../src/flags/errors.js';
import { createFlags, type FlagsOptions } from '../../src/flags/flags.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { definition, definitions, recordingLogger } from './flags-helpers.js';

function setup(overrides: Partial<FlagsOptions> = {}) {
  const logger = recordingLogger();
  const store = new MemoryFlagStore();
  const flags = createFlags({
    store,
    logger,
    environment: 'test',
    environments: ['test', 'production'],
    definitions: definitions(definition('new_ui'), definition('fast_path', true)),
    ...overrides,
  });
  return { flags, store, logger };
}

describe('Flags facade', () => {
  it('answers defaults before the first load, then the stored state', async () => {
    const { flags, store } = setup();
    await store.flagSet({ environment: 'test', name: 'new_ui', value: true, by: 'seed' });
    expect(flags.enabled('new_ui')).toBe(false); // nothing loaded yet: default, no I/O
    expect(await flags.ready()).toBe(true);
    expect(flags.enabled('new_ui')).toBe(true);
    await flags.close();
  });

  it('set / get / delete: false overrides default_enabled, delete restores it', async () => {
    const { flags } = setup();
    await flags.ready();
    expect(flags.enabled('fast_path')).toBe(true);
    await flags.set('fast_path', false, { by: 'alice' });
    expect(flags.enabled('fast_path')).toBe(false); // own writes are visible immediately
    expect(await flags.get('fast_path')).toMatchObject({ name: 'fast_path', state: 'off', gates: { boolean: false } });
    await flags.set('fast_path', { actors: ['User:1'], enabled: true }, { by: 'alice' });
    expect(flags.enabled('fast_path', 'User:1')).toBe(true);
    expect(flags.enabled('fast_path', { flipperId: 'User:2' })).toBe(false);
    expect((await flags.get('fast_path')).state).toBe('conditional');
    await flags.delete('fast_path', { by: 'alice' });
    expect(flags.enabled('fast_path')).toBe(true);
    expect(await flags.get('fast_path')).toMatchObject({ state: 'on', gates: null });
    expect((await flags.history('fast_path')).map((h) => h.action)).toEqual(['delete', 'enable_actors', 'disable']);
    await flags.close();
  });

  it('refuses bad writes with a typed error and writes nothing', async () => {
    const { flags, store } = setup();
    await expect(flags.set('no_such_flag', true)).rejects.toThrow(UndefinedFlagError);
    await expect(flags.set('new_ui', { percentageOfTime: 101 })).rejects.toThrow(InvalidFlagValueError);
    await expect(flags.set('new_ui', true, { env: 'staging' })).rejects.toThrow(UnknownEnvironmentError);
    expect(await store.flagNames()).toEqual([]);
  });

  it('writes one JSON-able log line per change with key, action and extra.*', async () => {
    const { flags, logger } = setup();
    await flags.set('new_ui', { percentageOfActors: 25 }, { by: 'bob', env: 'production' });
    expect(logger.lines).toEqual([
      expect.objectContaining({
        key: 'new_ui',
        action: 'percentage_of_actors',
        'extra.environment': 'production',
        'extra.by': 'bob',
        'extra.old_value': null,
        'extra.new_value': expect.stringContaining('"percentageOfActors":25'),
      }),
    ]);
  });

  it('throws for undefined flags in test, answers false with one log line in production', async () => {
    expect(() => setup().flags.enabled('typo_flag')).toThrow(UndefinedFlagError);
    const { flags, logger } = setup({ environment: 'production' });
    expect(flags.enabled('typo_flag')).toBe(false);
    expect(flags.enabled('typo_flag')).toBe(false);
    expect(logger.lines.filter((l) => l.key === 'typo_flag')).toHaveLength(1);
  });

  it('evaluates registered groups', async () => {
    const { flags } = setup();
    flags.registerGroup('staff', (actor) => typeof actor === 'object' && String(actor.flipperId).startsWith('Staff:'));
    await flags.set('new_ui', { groups: ['staff'], enabled: true });
    expect(flags.enabled('new_ui', { flipperId: 'Staff:1' })).toBe(true);
    expect(flags.enabled('new_ui', { flipperId: 'User:1' })).toBe(false);
    expect(() => flags.registerGroup('Not Snake', () => true)).toThrow(/snake_case/);
    await flags.close();
  });

  it('counts evaluations and changes on the given registry', async () => {
    const registry = new Registry();
    const { flags } = setup({ registry });
    await flags.ready();
    await flags.set('new_ui', true);
    flags.enabled('new_ui');
    flags.enabled('fast_path', 'User:1');
    const text = await registry.metrics();
    expect(text).toContain('lagless_feature_flag_evaluations_total{flag="new_ui",result="on"} 1');
    expect(text).toContain('lagless_feature_flag_changes_total{action="enable"} 1');
    expect(text).toMatch(/lagless_feature_flag_snapshot_age_seconds \d/);
    await flags.close();
  });
});
