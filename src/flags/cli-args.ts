import { FlagError, InvalidFlagValueError, UnknownEnvironmentError } from './errors.js';
import type { FlagValue } from './types.js';
import { checkPercentage } from './values.js';

/**
 * Turning `lagless feature set` arguments into FlagValues, pure and before any I/O, so that bad input
 * exits with one clear line and nothing written.
 */
export type IdList = string | readonly string[] | undefined;

export interface ActorOptions {
  readonly user?: IdList;
  readonly project?: IdList;
  readonly group?: IdList;
  readonly namespace?: IdList;
}

export interface SetArgs extends ActorOptions {
  readonly name: string;
  /** `true`, `false` or a percentage `N` (0–100, at most 3 decimals) */
  readonly value: string;
  /** `N` is a percentage of actors instead of a percentage of time */
  readonly actors?: boolean;
  readonly featureGroup?: IdList;
}

const ACTOR_TYPES: ReadonlyArray<[keyof ActorOptions, string]> = [
  ['user', 'User'],
  ['project', 'Project'],
  ['group', 'Group'],
  ['namespace', 'Namespace'],
];

/** `"1,2"` or `["1", "2,3"]` → `["1", "2", "3"]`; empty entries are an error, not silently dropped. */
export function splitIds(option: string, list: IdList): string[] {
  if (list === undefined) return [];
  const parts = (typeof list === 'string' ? [list] : list).flatMap((item) => item.split(',')).map((id) => id.trim());
  if (parts.some((id) => id === '' || /\s/.test(id))) {
    throw new FlagError('FLAG_INVALID_ARGUMENT', `--${option} needs a comma-separated list without empty entries or spaces, got '${String(list)}'.`);
  }
  return parts;
}

/** `--user=1,2 --project=7` → `['User:1', 'User:2', 'Project:7']` */
export function actorIds(options: ActorOptions): string[] {
  return ACTOR_TYPES.flatMap(([option, type]) => splitIds(option, options[option]).map((id) => `${type}:${id}`));
}

/** Strictly `\d+(\.\d+)?` (no sign, exponent or hex), then the shared 0–100 / 3-decimal check. */
export function parsePercentage(flag: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new InvalidFlagValueError(flag, `'${text}' is not true, false or a percentage between 0 and 100`);
  return checkPercentage(flag, 'percentage', Number(text));
}

/** The writes one `feature set` performs, in order (actor IDs and a feature group may be combined). */
export function parseSetValues(args: SetArgs): FlagValue[] {
  const actors = actorIds(args);
  const groups = splitIds('feature-group', args.featureGroup);
  if (args.value === 'true' || args.value === 'false') {
    if (args.actors) throw new InvalidFlagValueError(args.name, `--actors only goes with a percentage (e.g. \`set ${args.name} 25 --actors\`); to target actors use --user/--project/--group/--namespace`);
    const enabled = args.value === 'true';
    if (actors.length === 0 && groups.length === 0) return [enabled];
    const values: FlagValue[] = [];
    if (actors.length > 0) values.push({ actors, enabled });
    if (groups.length > 0) values.push({ groups, enabled });
    return values;
  }
  const pct = parsePercentage(args.name, args.value);
  if (actors.length > 0 || groups.length > 0) {
    throw new InvalidFlagValueError(args.name, 'a percentage cannot be combined with --user/--project/--group/--namespace/--feature-group');
  }
  return [args.actors ? { percentageOfActors: pct } : { percentageOfTime: pct }];
}

export interface EnvArgs {
  readonly env?: IdList;
  readonly dev?: boolean;
  readonly staging?: boolean;
  readonly production?: boolean;
}

/**
 * `--env=a,b` plus the shorthands, deduplicated, each checked against the configured environments.
 * `--dev` means whichever of `development` / `dev` the config defines. No option ⇒ the default environment.
 */
export function resolveEnvironments(args: EnvArgs, known: readonly string[], defaultEnvironment: string): string[] {
  const wanted = splitIds('env', args.env);
  if (args.dev) wanted.push(known.find((env) => env === 'development' || env === 'dev') ?? 'development');
  if (args.staging) wanted.push('staging');
  if (args.production) wanted.push('production');
  const envs = [...new Set(wanted.length > 0 ? wanted : [defaultEnvironment])];
  for (const env of envs) if (!known.includes(env)) throw new UnknownEnvironmentError(env, known);
  return envs;
}
