import { UndefinedFlagError } from './errors.js';
import {
  actorsGate,
  booleanGate,
  flipperIdOf,
  groupsGate,
  percentageOfActorsGate,
  percentageOfTimeGate,
  type GroupPredicate,
} from './gates.js';
import type { EvaluationReason, FlagDefinition, FlagGates, FlagSubject, GateName } from './types.js';

/**
 * Evaluate one flag from values already in memory. Invariants:
 * - any open gate ⇒ on; `set false` stores all-closed gates, which is "off", not "default";
 * - `default_enabled` applies only when the flag has no stored state at all;
 * - the only throw is for an undefined flag under `undefinedFlag: 'throw'` (development/test);
 *   everything else, including a group predicate that throws, becomes a value plus a reason.
 */
export interface EvaluationPolicy {
  readonly undefinedFlag: 'throw' | 'off';
  readonly groups: ReadonlyMap<string, GroupPredicate>;
  readonly random: () => number;
}

export interface EvaluateInput {
  readonly name: string;
  readonly definition: FlagDefinition | undefined;
  /** undefined = nothing stored for this flag in this environment */
  readonly gates: FlagGates | undefined;
  /** An actor, or (OpenFeature without targetingKey) attributes only group predicates can use. */
  readonly actor?: FlagSubject | null;
}

export interface Evaluation {
  readonly value: boolean;
  readonly reason: EvaluationReason;
  /** the gate that opened the flag, when one did */
  readonly gate?: GateName;
  readonly errorCode?: 'FLAG_NOT_FOUND' | 'GENERAL';
  readonly errorMessage?: string;
}

export function hasAnyGate(gates: FlagGates): boolean {
  return gates.boolean || gates.actors.length > 0 || gates.groups.length > 0 || gates.percentageOfActors > 0 || gates.percentageOfTime > 0;
}

export function evaluateFlag(input: EvaluateInput, policy: EvaluationPolicy): Evaluation {
  const { name, definition, gates } = input;
  if (!definition) {
    const error = new UndefinedFlagError(name);
    if (policy.undefinedFlag === 'throw') throw error;
    return { value: false, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorMessage: error.message };
  }
  if (!gates) return { value: definition.defaultEnabled, reason: 'DEFAULT' };
  if (booleanGate(gates.boolean)) return { value: true, reason: 'STATIC', gate: 'boolean' };

  const flipperId = flipperIdOf(input.actor);
  if (actorsGate(gates.actors, flipperId)) return { value: true, reason: 'TARGETING_MATCH', gate: 'actors' };
  if (percentageOfActorsGate(name, gates.percentageOfActors, flipperId)) return { value: true, reason: 'SPLIT', gate: 'percentageOfActors' };
  if (percentageOfTimeGate(gates.percentageOfTime, policy.random)) return { value: true, reason: 'SPLIT', gate: 'percentageOfTime' };
  // Groups last: they run application code, which is the only thing here that can fail.
  try {
    if (groupsGate(gates.groups, policy.groups, input.actor)) return { value: true, reason: 'TARGETING_MATCH', gate: 'groups' };
  } catch (err) {
    return { value: false, reason: 'ERROR', errorCode: 'GENERAL', errorMessage: `group predicate for '${name}' threw: ${(err as Error)?.message ?? String(err)}` };
  }

  // Off: DISABLED when set off, SPLIT when a percentage decided against this subject (the actor was bucketed or
  // the time gate rolled), DEFAULT when no gate applied to it (no matching actor or group, or no actor to bucket).
  if (!hasAnyGate(gates)) return { value: false, reason: 'DISABLED' };
  const split = (gates.percentageOfActors > 0 && flipperId !== undefined) || gates.percentageOfTime > 0;
  return { value: false, reason: split ? 'SPLIT' : 'DEFAULT' };
}
