import { BUCKETS, inPercentageOfActors, percentageThreshold } from './bucketing.js';
import type { FlagActor } from './types.js';

/**
 * Pure gate functions over values fetched once (Flipper's shape): no I/O, no clock, randomness injected.
 * A gate that needs an actor is closed when there is none.
 */

/** A group is a named predicate registered in code; it receives the actor exactly as the caller passed it. */
export type GroupPredicate = (actor: FlagActor) => boolean;

/** The actor's id: the string itself, or `String(flipperId)`. Empty or missing ⇒ no actor. */
export function flipperIdOf(actor: FlagActor | null | undefined): string | undefined {
  if (actor === null || actor === undefined) return undefined;
  if (typeof actor === 'string') return actor.length > 0 ? actor : undefined;
  if (typeof actor === 'object' && 'flipperId' in actor && actor.flipperId !== undefined && actor.flipperId !== null) {
    const id = String(actor.flipperId);
    return id.length > 0 ? id : undefined;
  }
  return undefined;
}

export function booleanGate(enabled: boolean): boolean {
  return enabled;
}

export function actorsGate(actors: readonly string[] | ReadonlySet<string>, flipperId: string | undefined): boolean {
  if (flipperId === undefined) return false;
  return Array.isArray(actors) ? actors.includes(flipperId) : (actors as ReadonlySet<string>).has(flipperId);
}

/**
 * Open when any enabled group's predicate accepts the actor. Unregistered groups are closed (a process may
 * not have registered every group another process did). A throwing predicate propagates; the evaluator
 * catches it so that evaluation never throws.
 */
export function groupsGate(
  groups: readonly string[],
  registry: ReadonlyMap<string, GroupPredicate>,
  actor: FlagActor | null | undefined,
): boolean {
  if (flipperIdOf(actor) === undefined || actor === null || actor === undefined) return false;
  return groups.some((group) => registry.get(group)?.(actor) === true);
}

export function percentageOfActorsGate(flagName: string, pct: number, flipperId: string | undefined): boolean {
  if (flipperId === undefined || pct <= 0) return false;
  return inPercentageOfActors(flagName, flipperId, pct);
}

/** `random` returns [0, 1) like Math.random; injected so tests are deterministic. */
export function percentageOfTimeGate(pct: number, random: () => number): boolean {
  if (pct <= 0) return false;
  return Math.floor(random() * BUCKETS) < percentageThreshold(pct);
}
