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

function fieldsOf(raw: unknown): { name?: unknown; type?: unknown; default_enabled?: unknown } {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

/** Every problem of the file at once (a schema error does not hide a wrong name or folder). */
export function checkDefinition(input: RuleInput): RuleResult {
  if (typeof input.raw !== 'object' || input.raw === null || Array.isArray(input.raw)) {
    return { ok: false, problems: ['must be a YAML mapping with name, type and default_enabled'] };
  }
  const parsed = schema.safeParse(input.raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  const { name, type, default_enabled: defaultEnabled } = fieldsOf(input.raw);
  if (typeof name === 'string') {
    if (name !== input.fileName) problems.push(`name '${name}' does not match the file name '${input.fileName}.yml'`);
    if (!SNAKE_CASE.test(name)) problems.push(`name '${name}' is not snake_case (lowercase letters, digits and single underscores)`);
  }
  if (typeof type === 'string') {
    if (!isFlagType(type)) problems.push(`type '${type}' is not a known type (${FLAG_TYPES.join(', ')})`);
    else if (type !== input.folder) problems.push(`type '${type}' does not match its folder '${input.folder}/' (move the file or fix the type)`);
    else if (defaultEnabled === true && !defaultEnabledAllowed(type)) problems.push(`default_enabled: true is not allowed for type '${type}'`);
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const data = parsed.data;
  return {
    ok: true,
    definition: Object.freeze({
      name: data.name,
      type: data.type as FlagType,
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
