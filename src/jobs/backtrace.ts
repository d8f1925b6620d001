/**
 * How much of an error's stack a failure keeps (the worker option `backtrace`, after Sidekiq's). Lines are stored
 * in the job's payload as `error_backtrace`, so they cost Redis memory for as long as the job waits.
 *
 * Default: the dead set keeps them (it is capped by size and age, and a dead job is read by a person who needs
 * the frame that threw) and the fail log line carries them; a job waiting for a retry does not (the retry set
 * is not capped, a failing worker can fill it with thousands of jobs, and each attempt's trace is in its log line).
 */
export type BacktraceOption = boolean | number;

export interface BacktracePolicy {
  /** Lines kept in a retrying job's payload, the dead set's payload and the fail log line; 0 = none. */
  retry: number;
  dead: number;
  log: number;
}

export const DEFAULT_BACKTRACE_LINES = 20;
/** `backtrace: true` keeps every line up to this many (V8 records 10 frames unless Error.stackTraceLimit says more). */
export const MAX_BACKTRACE_LINES = 100;
/** A longer line (minified code) is cut: one line must not cost kilobytes in every payload. */
const MAX_LINE_CHARS = 300;

export function backtracePolicy(option: BacktraceOption | undefined): BacktracePolicy {
  if (option === undefined) return { retry: 0, dead: DEFAULT_BACKTRACE_LINES, log: DEFAULT_BACKTRACE_LINES };
  const lines = option === true ? MAX_BACKTRACE_LINES : option === false ? 0 : option;
  return { retry: lines, dead: lines, log: lines };
}

/**
 * The first `limit` stack frames of an error, trimmed ("at perform (/app/jobs.js:12:9)"). The stack's header
 * ("TypeError: message", which may span lines) is left out: the payload already has error_class and error_message.
 */
export function backtraceOf(error: Error, limit: number): string[] {
  if (limit <= 0 || typeof error.stack !== 'string') return [];
  const lines = error.stack.split('\n');
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  return lines
    .slice(firstFrame === -1 ? 1 : firstFrame)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, limit)
    .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line));
}
