import { beforeEach, describe, expect, it } from 'vitest';
import { featureDelete, featureGet, featureHistory, featureLint, featureList, featureSet, type FeatureCliContext } from '../../src/flags/cli-actions.js';
import { FlagError } from '../../src/flags/errors.js';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { definition, definitions, recordingLogger } from './flags-helpers.js';

const ENVS = ['development', 'staging', 'production'];
let store: MemoryFlagStore;
let flags: Flags;
let ctx: FeatureCliContext;

beforeEach(() => {
  store = new MemoryFlagStore();
  flags = createFlags({ store, logger: recordingLogger(), environment: 'production', environments: ENVS, definitions: definitions(definition('new_ui'), definition('fast_path', true)) });
  ctx = { environments: ENVS, defaultEnvironment: 'production', flagsFor: () => flags };
});

describe('feature CLI actions', () => {
  it('set N is a percentage of time; with --actors a percentage of actors', async () => {
    const result = await featureSet(ctx, { name: 'new_ui', value: '12.5', by: 'alice' });
    expect(result.text).toBe('new_ui [production]: default -> 12.5% of the time (percentage_of_time by alice)');
    await featureSet(ctx, { name: 'new_ui', value: '25', actors: true, by: 'alice' });
    expect(await store.flagGet({ environment: 'production', name: 'new_ui' })).toMatchObject({ percentageOfTime: 12.5, percentageOfActors: 25 });
  });

  it('true/false with ID options targets just those actors and groups', async () => {
    await featureSet(ctx, { name: 'new_ui', value: 'true', user: '1,2', project: ['7'], group: '3', namespace: '9', featureGroup: 'staff' });
    expect(await store.flagGet({ environment: 'production', name: 'new_ui' })).toMatchObject({
      actors: ['Group:3', 'Namespace:9', 'Project:7', 'User:1', 'User:2'],
      groups: ['staff'],
      boolean: false,
    });
    await featureSet(ctx, { name: 'new_ui', value: 'false', user: '2' });
    expect((await store.flagGet({ environment: 'production', name: 'new_ui' }))?.actors).not.toContain('User:2');
  });

  it('writes every requested environment (--env list and shorthands)', async () => {
    const result = await featureSet(ctx, { name: 'new_ui', value: 'true', env: 'staging', dev: true, production: true });
    expect((result.data as { changes: unknown[] }).changes).toHaveLength(3);
    for (const environment of ENVS) expect((await store.flagGet({ environment, name: 'new_ui' }))?.boolean).toBe(true);
  });

  const bad: Array<[string, Parameters<typeof featureSet>[1], RegExp]> = [
    ['unknown flag', { name: 'nope', value: 'true' }, /has no definition/],
    ['percentage above 100', { name: 'new_ui', value: '100.5' }, /between 0 and 100/],
    ['more than 3 decimals', { name: 'new_ui', value: '1.2345' }, /more than 3 decimals/],
    ['negative', { name: 'new_ui', value: '-1' }, /not true, false or a percentage/],
    ['not a number', { name: 'new_ui', value: '1e2' }, /not true, false or a percentage/],
    ['--actors with true', { name: 'new_ui', value: 'true', actors: true }, /--actors only goes with a percentage/],
    ['percentage with IDs', { name: 'new_ui', value: '5', user: '1' }, /cannot be combined/],
    ['unknown environment', { name: 'new_ui', value: 'true', env: 'production,moon' }, /Unknown environment 'moon'/],
    ['empty ID', { name: 'new_ui', value: 'true', user: '1,,2' }, /--user needs/],
  ];
  it.each(bad)('rejects %s and changes nothing', async (_label, args, message) => {
    await expect(featureSet(ctx, args)).rejects.toThrow(FlagError);
    await expect(featureSet(ctx, args)).rejects.toThrow(message);
    expect(await store.flagNames()).toEqual([]);
  });

  it('get, list, history and delete summarise in one line each', async () => {
    await featureSet(ctx, { name: 'fast_path', value: 'false', by: 'bob' });
    expect((await featureGet(ctx, { name: 'fast_path' })).text).toBe('fast_path [production]: off (off) — development, default_enabled true');
    expect((await featureList(ctx, { env: 'staging' })).text.split('\n')).toEqual([
      'fast_path [staging]: on (nothing stored, default applies) — development, default_enabled true',
      'new_ui [staging]: off (nothing stored, default applies) — development, default_enabled false',
    ]);
    expect((await featureHistory(ctx, { name: 'fast_path', limit: '5' })).text).toMatch(/^fast_path \[production\]:\n {2}\S+Z {2}bob {2}disable: default -> off$/);
    await expect(featureHistory(ctx, { name: 'fast_path', limit: '0' })).rejects.toThrow(/--limit/);
    expect((await featureDelete(ctx, { name: 'fast_path', by: 'bob' })).text).toContain('off -> default (delete by bob)');
    expect((await featureDelete(ctx, { name: 'fast_path' })).text).toContain('nothing stored');
    await expect(featureGet(ctx, { name: 'nope' })).rejects.toThrow(/has no definition/);
  });

  it('lint reports stored flags without a definition and fails', async () => {
    await store.flagSet({ environment: 'staging', name: 'ghost_flag', value: true, by: 'x' });
    const result = await featureLint(ctx);
    expect(result.ok).toBe(false);
    expect(result.text).toContain("database: flag 'ghost_flag' is stored but has no definition");
    await store.flagDelete({ environment: 'staging', name: 'ghost_flag', by: 'x' });
    expect(await featureLint(ctx)).toMatchObject({ ok: true, text: '1 flag definition OK' });
  });
});
