import { describe, expect, it } from 'vitest';
import { UndefinedFlagError } from '../../src/flags/errors.js';
import { evaluateFlag, type EvaluationPolicy } from '../../src/flags/evaluator.js';
import type { GroupPredicate } from '../../src/flags/gates.js';
import { EMPTY_GATES, type FlagDefinition, type FlagGates } from '../../src/flags/types.js';

function def(name: string, defaultEnabled = false): FlagDefinition {
  return { name, type: 'development', defaultEnabled, group: null, milestone: null, introducedByUrl: null, rolloutIssueUrl: null, logStateChanges: false, builtin: false, source: `${name}.yml` };
}

const groups = new Map<string, GroupPredicate>([
  ['staff', (a) => typeof a === 'object' && a.flipperId === 'User:1'],
  ['broken', () => { throw new Error('boom'); }],
]);
const policy: EvaluationPolicy = { undefinedFlag: 'throw', groups, random: () => 0.5 };
const gates = (g: Partial<FlagGates>): FlagGates => ({ ...EMPTY_GATES, ...g });

describe('evaluateFlag', () => {
  it('uses default_enabled only while nothing is stored', () => {
    expect(evaluateFlag({ name: 'f', definition: def('f', true), gates: undefined }, policy)).toEqual({ value: true, reason: 'DEFAULT' });
    // `set false` stores closed gates: off, even though the default is on
    expect(evaluateFlag({ name: 'f', definition: def('f', true), gates: EMPTY_GATES }, policy)).toEqual({ value: false, reason: 'DISABLED' });
  });

  it('is on when any gate is open, and says which', () => {
    const d = def('f');
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ boolean: true }) }, policy)).toMatchObject({ value: true, reason: 'STATIC', gate: 'boolean' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ actors: ['User:9'] }), actor: 'User:9' }, policy)).toMatchObject({ value: true, reason: 'TARGETING_MATCH', gate: 'actors' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ groups: ['staff'] }), actor: { flipperId: 'User:1' } }, policy)).toMatchObject({ value: true, gate: 'groups' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ percentageOfActors: 100 }), actor: 'User:5' }, policy)).toMatchObject({ value: true, reason: 'SPLIT' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ percentageOfTime: 60 }) }, policy)).toMatchObject({ value: true, gate: 'percentageOfTime' });
  });

  it('reports why a conditional flag is off', () => {
    const d = def('f');
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ actors: ['User:9'] }), actor: 'User:8' }, policy)).toEqual({ value: false, reason: 'DEFAULT' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ percentageOfTime: 40 }) }, policy)).toEqual({ value: false, reason: 'SPLIT' });
    expect(evaluateFlag({ name: 'f', definition: d, gates: gates({ percentageOfActors: 100 }) }, policy)).toEqual({ value: false, reason: 'DEFAULT' });
  });

  it('throws for an undefined flag in development/test, answers false with ERROR otherwise', () => {
    expect(() => evaluateFlag({ name: 'nope', definition: undefined, gates: undefined }, policy)).toThrow(UndefinedFlagError);
    expect(evaluateFlag({ name: 'nope', definition: undefined, gates: gates({ boolean: true }) }, { ...policy, undefinedFlag: 'off' })).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('never throws for a failing group predicate', () => {
    const result = evaluateFlag({ name: 'f', definition: def('f'), gates: gates({ groups: ['broken'] }), actor: 'User:1' }, policy);
    expect(result).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(result.errorMessage).toContain('boom');
  });
});
