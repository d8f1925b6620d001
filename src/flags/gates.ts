import { BUCKETS, inPercentageOfActors, percentageThreshold } from './bucketing.js';
import type { FlagSubject } from './types.js';

/**
 * Pure gate functions over values fetched once (Flipper's shape): no I/O, no clock, randomness injected.
 * A gate that needs an actor is closed when there is none.
 */

/**
 * A group is a named predicate registered in code; it receives the subject exactly as the caller passed it.
 * Like Flipper, any truthy answer opens the gate (`'yes'`, `1`); a Promise is refused (see groupsGate).
 */
export type GroupPredicate = (subject: FlagSubject) => unknown;

/** The actor's id: the string itself, or `String(flipperId)`. Empty or missing ⇒ no actor. */
export function flipperIdOf(actor: FlagSubject | null | undefined): string | undefined {
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
 * Open when any enabled group's predicate accepts the subject (truthy, as in Flipper). A subject needs no
 * flipperId: a group may recognise it by other attributes. Closed without a subject (null, '' or {}).
 * Unregistered groups are closed (a process may not have registered every group another process did). A
 * throwing predicate propagates, and so does a Promise (it is truthy, and would open the gate for everyone); the
 * evaluator catches both so that evaluation never throws.
 */
export function groupsGate(
  groups: readonly string[],
  registry: ReadonlyMap<string, GroupPredicate>,
  subject: FlagSubject | null | undefined,
): boolean {
  if (!hasSubject(subject)) return false;
  return groups.some((group) => {
    const answer = registry.get(group)?.(subject);
    if (answer instanceof Promise) throw new TypeError(`group '${group}' returned a Promise; group predicates must answer synchronously`);
    return Boolean(answer);
  });
}

/** An actor (a flipperId, maybe from a getter) or an object with at least one attribute of its own. */
function hasSubject(subject: FlagSubject | null | undefined): subject is FlagSubject {
  if (flipperIdOf(subject) !== undefined) return true;
  return typeof subject === 'object' && subject !== null && Object.keys(subject).length > 0;
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
