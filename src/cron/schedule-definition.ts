import { createHash } from 'node:crypto';
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import { assertJsonArgs } from '../jobs/args.js';
import { NAME_PATTERN } from '../jobs/worker-options.js';

/** `app.schedule(name, options)`: enqueue `worker` with `args` at every tick of `cron`. */
export interface ScheduleOptions<Args = unknown> {
  /** Five fields (minute hour day-of-month month day-of-week), or six with seconds first; `@hourly` and the like. */
  cron: string;
  /** IANA time zone the expression is read in, e.g. 'Europe/Berlin'. Default 'UTC', the same in every process. */
  timezone?: string;
  /** The worker handle from defineWorker, or its name. */
  worker: { name: string } | string;
  args?: Args;
  /** false keeps the schedule listed but never fires it; turning it back on does not fire the ticks missed meanwhile. */
  enabled?: boolean;
}

/** A schedule as the scheduler sees it: options resolved once. */
export interface ScheduleDefinition {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly worker: string;
  readonly args: unknown;
  readonly enabled: boolean;
  /**
   * Hash of everything that decides what fires and when: the store remembers ticks per definition, so a schedule
   * changed in code starts afresh on deploy (no tick of the old expression fires, none is replayed).
   */
  readonly definition: string;
  /** The latest tick at or before `nowMs` (epoch ms), or undefined if the expression has none. */
  latestTick(nowMs: number): number | undefined;
  /** The first tick after `nowMs`. */
  nextTick(nowMs: number): number | undefined;
}

const optionsSchema = z
  .object({
    cron: z.string().min(1),
    timezone: z.string().min(1).optional(),
    worker: z.union([z.string().min(1), z.object({ name: z.string() }).loose()]),
    args: z.unknown().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export function defineSchedule(name: string, options: ScheduleOptions): ScheduleDefinition {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new InvalidOptionError(`Schedule name ${JSON.stringify(name)} is not valid: use 1-120 letters, digits, _ . : or -.`);
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidOptionError(`Invalid schedule option ${issue.path.join('.') || '(options)'} for '${name}': ${issue.message}.`);
  }
  const timezone = options.timezone ?? 'UTC';
  if (!isTimeZone(timezone)) throw new InvalidOptionError(`Schedule '${name}': timezone '${timezone}' is not an IANA time zone; use a name such as 'UTC' or 'Europe/Berlin'.`);
  const fields = options.cron.trim().split(/\s+/);
  if (!options.cron.trim().startsWith('@') && (fields.length < 5 || fields.length > 6)) {
    throw new InvalidOptionError(`Schedule '${name}': cron '${options.cron}' has ${fields.length} fields; use 5 (minute hour day month weekday) or 6 (seconds first).`);
  }
  // The hash seed pins `H` fields to the schedule name, so every process reads the same ticks.
  const parse = (at: number): CronExpression => CronExpressionParser.parse(options.cron, { currentDate: at, tz: timezone, hashSeed: name });
  try {
    parse(Date.now()).next();
  } catch (error) {
    throw new InvalidOptionError(`Schedule '${name}': cron '${options.cron}' is not a valid expression (${(error as Error).message}).`);
  }
  const worker = typeof options.worker === 'string' ? options.worker : options.worker.name;
  const args = options.args ?? {};
  assertJsonArgs(worker, args);
  const enabled = options.enabled ?? true;
  const definition = createHash('sha1').update(JSON.stringify([options.cron.trim(), timezone, worker, args, enabled])).digest('hex').slice(0, 16);
  return {
    name,
    cron: options.cron.trim(),
    timezone,
    worker,
    args,
    enabled,
    definition,
    latestTick: (nowMs) => tickOf(() => parse(nowMs + 1).prev()),
    nextTick: (nowMs) => tickOf(() => parse(nowMs).next()),
  };
}

function tickOf(step: () => { getTime(): number }): number | undefined {
  try {
    return step().getTime();
  } catch {
    return undefined; // no tick in range (e.g. 30 February)
  }
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
