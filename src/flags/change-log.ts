import type { FlagChange } from './store/flag-store.js';

/** The part of a pino logger the flag code uses (a pino Logger fits). */
export interface FlagLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * One JSON line per change, GitLab's feature-flag log shape: `key`, `action`, and details under `extra.*`
 * (flat keys, so log pipelines can index them without parsing nested objects).
 */
export function logFlagChange(logger: FlagLogger, change: FlagChange): void {
  logger.info(
    {
      key: change.name,
      action: change.action,
      'extra.environment': change.environment,
      'extra.by': change.by,
      'extra.at': change.at.toISOString(),
      'extra.old_value': change.oldGates === null ? null : JSON.stringify(change.oldGates),
      'extra.new_value': change.newGates === null ? null : JSON.stringify(change.newGates),
    },
    'feature flag changed',
  );
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08006']);

/** True for errors that mean "the database cannot be reached" rather than "the query was wrong". */
export function isUnavailableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect/i.test(message);
}
