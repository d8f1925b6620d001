import { pino, type Logger } from 'pino';

export type { Logger };

/** `undefined` → JSON lines on stdout; `false` → silent; a pino logger → used as is. */
export function resolveLogger(option: Logger | false | undefined): Logger {
  if (option === false) return pino({ enabled: false });
  return option ?? pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
