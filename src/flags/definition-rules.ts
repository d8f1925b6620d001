import { z } from 'zod';
import { FLAG_TYPES, type FlagDefinition, type FlagType } from './types.js';

/**
 * The rules one definition file must satisfy, as a pure function of its parsed YAML and its location.
 * Each rule yields one readable sentence; callers prefix the file path (that prefix is the lint line).
 */

const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

const nullableText = z
  .union([z.string(), z.number()], { error: 'must be a string or null' })
  .transform(String)
  .nullish()
  .transform((v) => v ?? null);

const schema = z.object({
  name: z.string({ error: 'name is required and must be a string' }),
  type: z.string({ error: 'type is required and must be a string' }),
  default_enabled: z.boolean({ error: 'default_enabled is required and must be true or false' }),
  group: nullableText,
  milestone: nullableText,
  introduced_by_url: nullableText,
  rollout_issue_url: nullableText,
  log_state_changes: z.boolean({ error: 'log_state_changes must be true or false' }).nullish(),
});

function isFlagType(value: string): value is FlagType {
  return (FLAG_TYPES as readonly string[]).includes(value);
}

/** Types whose flags may ship enabled by default. An experiment compares arms, so "on for everyone" defeats it. */
export function defaultEnabledAllowed(type: FlagType): boolean {
  return type !== 'experiment';
}

export interface RuleInput {
  readonly raw: unknown;
  /** file name without `.yml` */
  readonly fileName: string;
  /** the folder the file sits in, which must be its type */
  readonly folder: string;
  readonly source: string;
  readonly builtin: boolean;
}

export type RuleResult = { ok: true; definition: FlagDefinition } | { ok: false; problems: string[] };

export function checkDefinition(input: RuleInput): RuleResult {
  const parsed = schema.safeParse(input.raw ?? {});
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => issue.message) };
  }
  const data = parsed.data;
  const problems: string[] = [];
  if (data.name !== input.fileName) problems.push(`name '${data.name}' does not match the file name '${input.fileName}.yml'`);
  if (!SNAKE_CASE.test(data.name)) problems.push(`name '${data.name}' is not snake_case (lowercase letters, digits and single underscores)`);
  if (!isFlagType(data.type)) {
    problems.push(`type '${data.type}' is not a known type (${FLAG_TYPES.join(', ')})`);
  } else if (data.type !== input.folder) {
    problems.push(`type '${data.type}' does not match its folder '${input.folder}/' (move the file or fix the type)`);
  } else if (data.default_enabled && !defaultEnabledAllowed(data.type)) {
    problems.push(`default_enabled: true is not allowed for type '${data.type}'`);
  }
  if (problems.length > 0 || !isFlagType(data.type)) return { ok: false, problems };
  return {
    ok: true,
    definition: Object.freeze({
      name: data.name,
      type: data.type,
      defaultEnabled: data.default_enabled,
      group: data.group,
      milestone: data.milestone,
      introducedByUrl: data.introduced_by_url,
      rolloutIssueUrl: data.rollout_issue_url,
      logStateChanges: data.log_state_changes ?? false,
      builtin: input.builtin,
      source: input.source,
    }),
  };
}

export function isSnakeCase(name: string): boolean {
  return SNAKE_CASE.test(name);
}
