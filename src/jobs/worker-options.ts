import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import { MAX_BACKTRACE_LINES } from './backtrace.js';

export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,120}$/;
export const QUEUE_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

const MAX_KEEP_RESULT_MS = 30 * 24 * 3600_000;
/** Node's longest timer: a longer setTimeout fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const deduplicateSchema = z
  .object({
    strategy: z.enum(['until_executing', 'until_executed', 'none']).optional(),
    includingScheduled: z.boolean().optional(),
    ifDeduplicated: z.literal('reschedule_once').optional(),
    ttlMs: z.number().int().positive().optional(),
    featureFlag: z.string().min(1).optional(),
  })
  .strict()
  .refine((d) => !(d.ifDeduplicated && d.strategy !== 'until_executed'), {
    message: "ifDeduplicated: 'reschedule_once' only works with strategy 'until_executed' (an until_executing job has released its key before it runs)",
    path: ['ifDeduplicated'],
  });

const optionsSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN, 'use 1-120 letters, digits, _ . : or -'),
    queue: z.string().regex(QUEUE_PATTERN, 'use 1-100 letters, digits, _ . or - (no braces or colons: they are part of Redis keys)').optional(),
    retry: z.union([z.literal(false), z.object({ max: z.number().int().min(0).optional(), backoffMs: fn.optional() }).strict()]).optional(),
    backtrace: z
      .custom<boolean | number>((v) => typeof v === 'boolean' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_BACKTRACE_LINES), `use true, false or a number of lines from 0 to ${MAX_BACKTRACE_LINES}`)
      .optional(),
    perform: fn,
    idempotent: z.boolean().optional(),
    deduplicate: deduplicateSchema.optional(),
    idempotencyArgs: fn.optional(),
    dataConsistency: z.enum(['always', 'sticky', 'delayed']).optional(),
    dataConsistencyFlag: z.string().min(1).optional(),
    concurrencyLimit: z.number().int('use a whole number of jobs').min(1).optional(),
    rateLimit: z
      .object({ max: z.number().int('use a whole number of starts').min(1), perMs: z.number().int('use a whole number of ms').min(1) })
      .strict()
      .optional(),
    keepResult: z.object({ ttlMs: z.number().int().positive().max(MAX_KEEP_RESULT_MS, 'keep results for at most 30 days') }).strict().optional(),
    // Checked in full by the schedule's own validation (cron/schedule-definition.ts).
    schedule: z.object({}).loose().optional(),
    timeoutMs: z.number().int('use a whole number of ms').positive('use a number of ms > 0').max(MAX_TIMER_MS, `use at most ${MAX_TIMER_MS} ms (about 24 days)`).optional(),
  })
  .strict();

/** Validate worker options once, at definition, with a message that names the option and how to fix it. */
export function validateWorkerOptions(options: unknown): void {
  const result = optionsSchema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const name = (options as { name?: unknown })?.name;
  throw new InvalidOptionError(`Invalid worker option ${issue.path.join('.') || '(options)'}${typeof name === 'string' ? ` for '${name}'` : ''}: ${issue.message}.`);
}
