import type { FlagLogger } from '../../src/flags/change-log.js';
import type { FlagDefinition } from '../../src/flags/types.js';

export function definition(name: string, defaultEnabled = false): FlagDefinition {
  return { name, type: 'development', defaultEnabled, group: null, milestone: null, introducedByUrl: null, rolloutIssueUrl: null, logStateChanges: false, builtin: false, source: `${name}.yml` };
}

export function definitions(...defs: FlagDefinition[]): ReadonlyMap<string, FlagDefinition> {
  return new Map(defs.map((d) => [d.name, d]));
}

/** A logger that records every line as the object pino would serialise, plus the message. */
export function recordingLogger(): FlagLogger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', ...obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', ...obj, msg }),
  };
}
