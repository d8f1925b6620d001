import { describe, expect, it } from 'vitest';
import {
  actorsGate,
  flipperIdOf,
  groupsGate,
  percentageOfActorsGate,
  percentageOfTimeGate,
  type GroupPredicate,
} from '../../src/flags/gates.js';

describe('flag gates', () => {
  it('reads the actor id from a string or a flipperId object', () => {
    expect(flipperIdOf('User:42')).toBe('User:42');
    expect(flipperIdOf({ flipperId: 'Project:7' })).toBe('Project:7');
    expect(flipperIdOf({ flipperId: 9 })).toBe('9');
    expect(flipperIdOf('')).toBeUndefined();
    expect(flipperIdOf(undefined)).toBeUndefined();
    expect(flipperIdOf(null)).toBeUndefined();
  });

  it('actors gate matches listed actors only', () => {
    expect(actorsGate(['User:1', 'User:2'], 'User:2')).toBe(true);
    expect(actorsGate(new Set(['User:1']), 'User:1')).toBe(true);
    expect(actorsGate(['User:1'], 'User:3')).toBe(false);
  });

  it('groups gate asks registered predicates; unregistered groups stay closed', () => {
    const registry = new Map<string, GroupPredicate>([['staff', (a) => typeof a === 'object' && a.flipperId === 'User:1']]);
    expect(groupsGate(['staff'], registry, { flipperId: 'User:1' })).toBe(true);
    expect(groupsGate(['staff'], registry, { flipperId: 'User:2' })).toBe(false);
    expect(groupsGate(['nobody_registered_this'], registry, { flipperId: 'User:1' })).toBe(false);
  });

  it('closes every actor-based gate when there is no actor', () => {
    const everyone = new Map<string, GroupPredicate>([['all', () => true]]);
    expect(actorsGate(['User:1'], undefined)).toBe(false);
    expect(groupsGate(['all'], everyone, undefined)).toBe(false);
    expect(percentageOfActorsGate('f', 100, undefined)).toBe(false);
  });

  it('percentage of time follows the injected random source', () => {
    expect(percentageOfTimeGate(10, () => 0.0999)).toBe(true);
    expect(percentageOfTimeGate(10, () => 0.1)).toBe(false);
    expect(percentageOfTimeGate(0, () => 0)).toBe(false);
    expect(percentageOfTimeGate(100, () => 0.99999)).toBe(true);
  });
});
