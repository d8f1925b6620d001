/** Shared flag types. Kept apart from the logic so pure modules and the store can both import them without cycles. */

export const FLAG_TYPES = ['development', 'beta', 'ops', 'experiment', 'worker'] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

/** A validated definition file, in camelCase. `source` is the file it came from (for lint lines and errors). */
export interface FlagDefinition {
  readonly name: string;
  readonly type: FlagType;
  readonly defaultEnabled: boolean;
  readonly group: string | null;
  readonly milestone: string | null;
  readonly introducedByUrl: string | null;
  readonly rolloutIssueUrl: string | null;
  readonly logStateChanges: boolean;
  /** true for definitions shipped with lagless itself (not the application's). */
  readonly builtin: boolean;
  readonly source: string;
}

/** An actor is a 'Type:id' string or any object carrying a flipperId (Flipper's convention). */
export type FlagActor = string | { readonly flipperId: string | number };

/**
 * What an evaluation is for: an actor, or attributes without a flipperId (an OpenFeature context without
 * `targetingKey`). Group predicates see it whole; actor and percentage-of-actors gates need a flipperId.
 */
export type FlagSubject = FlagActor | Readonly<Record<string, unknown>>;

/**
 * The stored gates of one flag in one environment. Percentages are in percent with up to three decimals;
 * 0 means the gate is closed. A flag with a stored row but all gates closed is "off", not "default".
 */
export interface FlagGates {
  readonly boolean: boolean;
  readonly actors: readonly string[];
  readonly groups: readonly string[];
  readonly percentageOfActors: number;
  readonly percentageOfTime: number;
}

export const EMPTY_GATES: FlagGates = Object.freeze({
  boolean: false,
  actors: Object.freeze([]) as readonly string[],
  groups: Object.freeze([]) as readonly string[],
  percentageOfActors: 0,
  percentageOfTime: 0,
});

/** What `set` accepts. `true` / `false` replace every gate; the others change one gate and keep the rest. */
export type FlagValue =
  | boolean
  | { readonly percentageOfActors: number }
  | { readonly percentageOfTime: number }
  | { readonly actors: readonly string[]; readonly enabled: boolean }
  | { readonly groups: readonly string[]; readonly enabled: boolean };

export type FlagState = 'on' | 'off' | 'conditional';

/**
 * Reasons match OpenFeature's names so the provider can pass them through unchanged: STATIC on for everyone,
 * TARGETING_MATCH an actor or group matched, SPLIT a percentage decided, DEFAULT no gate applied (nothing stored,
 * or no gate matched), DISABLED explicitly off, ERROR see errorCode. The provider adds STALE.
 */
export type EvaluationReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'STALE' | 'ERROR';

export type GateName = 'boolean' | 'actors' | 'groups' | 'percentageOfActors' | 'percentageOfTime';
