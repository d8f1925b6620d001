import { beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { InvalidFlagValueError } from '../../src/flags/errors.js';
import type { FlagStore } from '../../src/flags/store/flag-store.js';
import { EMPTY_GATES, type FlagValue } from '../../src/flags/types.js';

/**
 * One contract, run against every FlagStore (MemoryFlagStore, PostgresFlagStore). Each test works in its own
 * random environment, so implementations can share one database across tests.
 */
export function flagStoreSuite(label: string, getStore: () => FlagStore): void {
  describe(`FlagStore conformance: ${label}`, () => {
    let store: FlagStore;
    let env: string;
    const by = 'alice';
    beforeEach(() => {
      store = getStore();
      env = `env_${randomUUID().slice(0, 8)}`;
    });

    it('stores nothing until a write', async () => {
      expect(await store.flagGet({ environment: env, name: 'f' })).toBeUndefined();
      expect((await store.flagLoadAll({ environment: env })).size).toBe(0);
    });

    it('combines gates; true replaces them all; false stores closed gates (not "nothing")', async () => {
      await store.flagSet({ environment: env, name: 'f', value: { percentageOfActors: 12.345 }, by });
      await store.flagSet({ environment: env, name: 'f', value: { actors: ['User:2', 'User:1'], enabled: true }, by });
      await store.flagSet({ environment: env, name: 'f', value: { groups: ['staff'], enabled: true }, by });
      await store.flagSet({ environment: env, name: 'f', value: { percentageOfTime: 0.001 }, by });
      await store.flagSet({ environment: env, name: 'f', value: { actors: ['User:2'], enabled: false }, by });
      expect(await store.flagGet({ environment: env, name: 'f' })).toEqual({
        boolean: false, actors: ['User:1'], groups: ['staff'], percentageOfActors: 12.345, percentageOfTime: 0.001,
      });
      await store.flagSet({ environment: env, name: 'f', value: true, by });
      expect(await store.flagGet({ environment: env, name: 'f' })).toEqual({ ...EMPTY_GATES, boolean: true });
      await store.flagSet({ environment: env, name: 'f', value: false, by });
      expect(await store.flagGet({ environment: env, name: 'f' })).toEqual(EMPTY_GATES);
      expect((await store.flagLoadAll({ environment: env })).get('f')).toEqual(EMPTY_GATES);
    });

    it('audits every change with who, environment, old and new value; newest first', async () => {
      const first = await store.flagSet({ environment: env, name: 'f', value: true, by });
      expect(first).toMatchObject({ environment: env, name: 'f', action: 'enable', by, oldGates: null, newGates: { boolean: true } });
      expect(first.at).toBeInstanceOf(Date);
      await store.flagSet({ environment: env, name: 'f', value: { percentageOfTime: 5 }, by: 'bob' });
      const history = await store.flagHistory({ environment: env, name: 'f' });
      expect(history.map((h) => [h.action, h.by])).toEqual([['percentage_of_time', 'bob'], ['enable', 'alice']]);
      expect(history[0]!.oldGates).toEqual({ ...EMPTY_GATES, boolean: true });
      expect(await store.flagHistory({ environment: env, name: 'f', limit: 1 })).toHaveLength(1);
    });

    it('delete restores "nothing stored", is audited, and is a no-op when nothing is stored', async () => {
      expect(await store.flagDelete({ environment: env, name: 'f', by })).toBeNull();
      await store.flagSet({ environment: env, name: 'f', value: { actors: ['User:1'], enabled: true }, by });
      const change = await store.flagDelete({ environment: env, name: 'f', by });
      expect(change).toMatchObject({ action: 'delete', newGates: null, oldGates: { actors: ['User:1'] } });
      expect(await store.flagGet({ environment: env, name: 'f' })).toBeUndefined();
      expect((await store.flagHistory({ environment: env, name: 'f' })).map((h) => h.action)).toEqual(['delete', 'enable_actors']);
    });

    it('keeps environments apart', async () => {
      const other = `${env}_other`;
      await store.flagSet({ environment: env, name: 'f', value: true, by });
      expect(await store.flagGet({ environment: other, name: 'f' })).toBeUndefined();
      expect(await store.flagHistory({ environment: other, name: 'f' })).toEqual([]);
      expect(await store.flagNames()).toContain('f');
    });

    const bad: Array<[string, unknown]> = [
      ['percentage above 100', { percentageOfActors: 100.5 }],
      ['negative percentage', { percentageOfTime: -1 }],
      ['more than 3 decimals', { percentageOfActors: 12.3456 }],
      ['actors with a percentage', { actors: ['User:1'], percentageOfActors: 5, enabled: true }],
      ['actors without enabled', { actors: ['User:1'] }],
      ['empty actor list', { actors: [], enabled: true }],
      ['not a value', 'yes'],
    ];
    it.each(bad)('rejects %s with a typed error and changes nothing', async (_label, value) => {
      await store.flagSet({ environment: env, name: 'f', value: { percentageOfTime: 1 }, by });
      await expect(store.flagSet({ environment: env, name: 'f', value: value as FlagValue, by })).rejects.toThrow(InvalidFlagValueError);
      expect(await store.flagGet({ environment: env, name: 'f' })).toEqual({ ...EMPTY_GATES, percentageOfTime: 1 });
      expect(await store.flagHistory({ environment: env, name: 'f' })).toHaveLength(1);
    });

    it('serialises concurrent writers to one flag (no lost actor)', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `User:${i}`);
      await Promise.all(ids.map((id) => store.flagSet({ environment: env, name: 'f', value: { actors: [id], enabled: true }, by })));
      expect((await store.flagGet({ environment: env, name: 'f' }))?.actors).toHaveLength(20);
      expect(await store.flagHistory({ environment: env, name: 'f' })).toHaveLength(20);
    });
  });
}
