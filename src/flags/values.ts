import { InvalidFlagValueError } from './errors.js';
import { hasAnyGate } from './evaluator.js';
import { EMPTY_GATES, type FlagGates, type FlagState, type FlagValue } from './types.js';

/**
 * Validation of what `set` accepts and the pure state transition it causes. Both stores and the CLI run
 * the same code, so a value is rejected before anything is written, with a message naming the problem.
 */

const ID = /^\S+$/;
const VALUE_KEYS = ['percentageOfActors', 'percentageOfTime', 'actors', 'groups'] as const;

export function checkPercentage(flag: string, what: string, pct: unknown): number {
  if (typeof pct !== 'number' || !Number.isFinite(pct)) throw new InvalidFlagValueError(flag, `${what} must be a number, got ${JSON.stringify(pct)}`);
  if (pct < 0 || pct > 100) throw new InvalidFlagValueError(flag, `${what} must be between 0 and 100, got ${pct}`);
  // Buckets are thousandths of a percent (see bucketing.ts): more precision would be silently dropped.
  if (Math.abs(pct * 1000 - Math.round(pct * 1000)) > 1e-6) throw new InvalidFlagValueError(flag, `${what} ${pct} has more than 3 decimals`);
  return Math.round(pct * 1000) / 1000;
}

function checkIds(flag: string, what: string, ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0) throw new InvalidFlagValueError(flag, `${what} must be a non-empty list`);
  for (const id of ids) {
    if (typeof id !== 'string' || !ID.test(id)) throw new InvalidFlagValueError(flag, `${what} entry ${JSON.stringify(id)} must be a non-empty string without spaces (e.g. 'User:42')`);
  }
  return [...new Set(ids as string[])];
}

/** Returns a normalised copy of `value` or throws InvalidFlagValueError. */
export function checkFlagValue(flag: string, value: unknown): FlagValue {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidFlagValueError(flag, `value must be true, false, { percentageOfActors }, { percentageOfTime }, { actors, enabled } or { groups, enabled }; got ${JSON.stringify(value)}`);
  }
  const record = value as Record<string, unknown>;
  const kinds = VALUE_KEYS.filter((key) => key in record);
  const extra = Object.keys(record).filter((key) => !(VALUE_KEYS as readonly string[]).includes(key) && key !== 'enabled');
  if (kinds.length !== 1 || extra.length > 0) {
    const found = Object.keys(record).join(', ') || 'no keys';
    throw new InvalidFlagValueError(flag, `a value sets exactly one gate (percentageOfActors, percentageOfTime, actors or groups), got ${found}`);
  }
  const kind = kinds[0]!;
  if (kind === 'percentageOfActors' || kind === 'percentageOfTime') {
    if ('enabled' in record) throw new InvalidFlagValueError(flag, `'enabled' is only for actors and groups`);
    const pct = checkPercentage(flag, kind === 'percentageOfActors' ? 'percentage of actors' : 'percentage of time', record[kind]);
    return kind === 'percentageOfActors' ? { percentageOfActors: pct } : { percentageOfTime: pct };
  }
  if (typeof record.enabled !== 'boolean') throw new InvalidFlagValueError(flag, `${kind} needs enabled: true or false`);
  const ids = checkIds(flag, kind, record[kind]);
  return kind === 'actors' ? { actors: ids, enabled: record.enabled } : { groups: ids, enabled: record.enabled };
}

function toggle(list: readonly string[], ids: readonly string[], enabled: boolean): string[] {
  const set = new Set(list);
  for (const id of ids) {
    if (enabled) set.add(id);
    else set.delete(id);
  }
  return [...set].sort();
}

/** `true` and `false` replace every gate (Flipper: enabling the boolean gate clears the others). */
export function applyFlagValue(current: FlagGates | undefined, value: FlagValue): FlagGates {
  const gates = current ?? EMPTY_GATES;
  if (value === true) return { ...EMPTY_GATES, boolean: true };
  if (value === false) return EMPTY_GATES;
  if ('percentageOfActors' in value) return { ...gates, percentageOfActors: value.percentageOfActors };
  if ('percentageOfTime' in value) return { ...gates, percentageOfTime: value.percentageOfTime };
  if ('actors' in value) return { ...gates, actors: toggle(gates.actors, value.actors, value.enabled) };
  return { ...gates, groups: toggle(gates.groups, value.groups, value.enabled) };
}

/** The audit `action` for a value: a short verb phrase, stable for queries. */
export function actionFor(value: FlagValue): string {
  if (typeof value === 'boolean') return value ? 'enable' : 'disable';
  if ('percentageOfActors' in value) return 'percentage_of_actors';
  if ('percentageOfTime' in value) return 'percentage_of_time';
  if ('actors' in value) return value.enabled ? 'enable_actors' : 'disable_actors';
  return value.enabled ? 'enable_groups' : 'disable_groups';
}

/** on = on for everyone (boolean, or 100 % of the time); off = no gate open; else conditional. */
export function stateOf(gates: FlagGates | undefined, defaultEnabled: boolean): FlagState {
  if (!gates) return defaultEnabled ? 'on' : 'off';
  // As Flipper: 100 % of actors or of the time is on (for every actor, resp. every call), not conditional.
  if (gates.boolean || gates.percentageOfTime >= 100 || gates.percentageOfActors >= 100) return 'on';
  return hasAnyGate(gates) ? 'conditional' : 'off';
}
