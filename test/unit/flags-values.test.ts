import { describe, expect, it } from 'vitest';
import { applyFlagValue, checkFlagValue, stateOf } from '../../src/flags/values.js';
import { EMPTY_GATES } from '../../src/flags/types.js';

describe('flag values', () => {
  it('normalises percentages and deduplicates IDs', () => {
    expect(checkFlagValue('f', { percentageOfActors: 0.1 + 0.2 })).toEqual({ percentageOfActors: 0.3 });
    expect(checkFlagValue('f', { actors: ['User:1', 'User:1'], enabled: true })).toEqual({ actors: ['User:1'], enabled: true });
  });

  it('names the flag and the problem in the error', () => {
    expect(() => checkFlagValue('f', { percentageOfTime: 5, enabled: true })).toThrow("Cannot set feature flag 'f': 'enabled' is only for actors and groups.");
    expect(() => checkFlagValue('f', { actors: ['User 1'], enabled: true })).toThrow(/without spaces/);
    expect(() => checkFlagValue('f', {})).toThrow(/exactly one gate/);
  });

  it('true clears every other gate; a percentage of 0 closes just that gate', () => {
    const mixed = applyFlagValue(applyFlagValue(undefined, { percentageOfTime: 5 }), { actors: ['User:1'], enabled: true });
    expect(applyFlagValue(mixed, true)).toEqual({ ...EMPTY_GATES, boolean: true });
    expect(applyFlagValue(mixed, { percentageOfTime: 0 })).toEqual({ ...EMPTY_GATES, actors: ['User:1'] });
  });

  it('state: on for everyone, off with no open gate, otherwise conditional', () => {
    expect(stateOf(undefined, true)).toBe('on');
    expect(stateOf(undefined, false)).toBe('off');
    expect(stateOf(EMPTY_GATES, true)).toBe('off');
    expect(stateOf({ ...EMPTY_GATES, percentageOfTime: 100 }, false)).toBe('on');
    expect(stateOf({ ...EMPTY_GATES, percentageOfActors: 99.999 }, false)).toBe('conditional');
    expect(stateOf({ ...EMPTY_GATES, percentageOfActors: 100 }, false)).toBe('on');
  });
});
