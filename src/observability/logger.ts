import { pino, type Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';

export type { Logger };

/**
 * `undefined` → JSON lines on stdout, or on stderr with LAGLESS_LOG_TO=stderr (`lagless` commands set it, so
 * their stdout carries only their result); `false` → silent; a pino logger → used as is.
 */
export function resolveLogger(option: Logger | false | undefined): Logger {
  if (option === false) return pino({ enabled: false });
  if (option) return option;
  const options = { base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  return defaultLogStream() === 'stderr' ? pino(options, pino.destination(2)) : pino(options);
}

function defaultLogStream(): 'stdout' | 'stderr' {
  const value = process.env.LAGLESS_LOG_TO;
  if (value === undefined || value === '' || value === 'stdout') return 'stdout';
  if (value === 'stderr') return 'stderr';
  throw new InvalidOptionError(`LAGLESS_LOG_TO must be stdout or stderr; got '${value}'.`);
}
