import { fstatSync, statSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';
import { fieldsJson } from './line-json.js';
import { TickLines } from './tick-lines.js';

export type { Logger };

/** How long a line may wait in the buffer when few are written: a quiet worker's lines still show up promptly. */
const FLUSH_EVERY_MS = 200;
/**
 * Lines are written in chunks of at least this many bytes (about 300 job lines) while the worker is busy: a write
 * system call cost a busy worker 2.3 µs a job in chunks of 4 KB, 0.7 µs in chunks of 64 KB.
 */
const BUFFER_BYTES = 64 * 1024;

export interface LaglessLoggerOptions {
  /** A file path or a file descriptor; by default stdout, or stderr with LAGLESS_LOG_TO=stderr. */
  destination?: string | number;
}

/**
 * The logger lagless uses when `logger` is left out: JSON lines at info level, written in chunks, so a busy worker
 * does not make a write system call per line (and hands them on once per tick: see TickLines). Nothing is lost on a
 * graceful stop (`worker.stop()` and `app.close()` flush), on `process.exit()` or an uncaught exception (written out
 * on exit), or on SIGTERM / SIGINT / SIGHUP (written out before the signal takes its course). A SIGKILL can lose the
 * last unwritten lines (at most BUFFER_BYTES, or FLUSH_EVERY_MS of them).
 * A chunk goes to a regular file in one synchronous write (no write is ever in flight, so the lines written on the
 * way out land after the others), and to a pipe or a terminal asynchronously: a slow reader must not block the
 * worker's event loop, and on exit a chunk still in flight there may land after the last lines.
 */
export function laglessLogger(options: LaglessLoggerOptions = {}): Logger {
  const dest = options.destination ?? (defaultLogStream() === 'stderr' ? 2 : 1);
  const sync = isRegularFile(dest);
  const destination = new TickLines(pino.destination({ dest, sync, minLength: BUFFER_BYTES, maxWrite: 4 * BUFFER_BYTES, periodicFlush: FLUSH_EVERY_MS, contentMode: 'buffer' }));
  writeOutOnSignalsAndExit(destination);
  const logger = pino({ base: undefined, timestamp: isoTime }, destination);
  ownDestinations.set(logger, destination);
  return logger;
}

/** The destination of each logger laglessLogger built: their options are ours, so their lines are known. */
const ownDestinations = new WeakMap<Logger, TickLines>();

export type InfoWriter = (fields: Record<string, unknown>, msg: string) => void;

/**
 * `logger.info(fields, msg)`; for a logger laglessLogger built, the same line written straight to its destination.
 * pino's generic serialization (per key: serializers and stringifiers looked up, the key escaped again) cost more
 * than the rest of a no-op job's line. The line is pino's, byte for byte (see fieldsJson for the one exception),
 * bindings added later with `setBindings` included; fields that need pino's handling go through pino. The caller
 * checks the level, as it would before building the fields.
 */
export function infoWriter(logger: Logger): InfoWriter {
  const destination = ownDestinations.get(logger);
  if (!destination) return (fields, msg) => logger.info(fields, msg);
  const bindings = logger as unknown as Record<symbol, string>;
  return (fields, msg) => {
    const json = fieldsJson(fields);
    if (json === undefined) logger.info(fields, msg);
    else destination.write(`{"level":30${isoTime()}${bindings[pino.symbols.chindingsSym]}${json},"msg":${JSON.stringify(msg)}}\n`);
  };
}

/** A path that does not exist yet becomes a regular file (sonic-boom creates it). */
function isRegularFile(dest: string | number): boolean {
  try {
    return (typeof dest === 'number' ? fstatSync(dest) : statSync(dest, { throwIfNoEntry: false }))?.isFile() ?? true;
  } catch {
    return false;
  }
}

let lastMs = Number.NaN;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond: a busy worker writes many lines within one. */
function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

/**
 * `undefined` → laglessLogger(): JSON lines on stdout, or on stderr with LAGLESS_LOG_TO=stderr (`lagless` commands
 * set it, so their stdout carries only their result); `false` → silent; a pino logger → used as is.
 */
export function resolveLogger(option: Logger | false | undefined): Logger {
  if (option === false) return pino({ enabled: false });
  return option ?? laglessLogger();
}

function defaultLogStream(): 'stdout' | 'stderr' {
  const value = process.env.LAGLESS_LOG_TO;
  if (value === undefined || value === '' || value === 'stdout') return 'stdout';
  if (value === 'stderr') return 'stderr';
  throw new InvalidOptionError(`LAGLESS_LOG_TO must be stdout or stderr; got '${value}'.`);
}

/**
 * Resolves once the lines logged so far are written to the logger's destination, or after `withinMs` (a
 * destination that cannot take them, such as a full pipe, must not hold a stop). Buffered destinations (lagless's
 * own, pino.destination({ sync: false })) are flushed; one without buffering resolves at once.
 */
export function flushLogger(logger: Logger, withinMs = 2000): Promise<void> {
  return flushedWithin((done) => logger.flush(done), withinMs);
}

/** Resolves when `flush` calls back (an error still means the lines were handed over) or after `withinMs`. */
function flushedWithin(flush: (done: () => void) => void, withinMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, withinMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      flush(done); // an error (fsync of a pipe) still means the lines were written
    } catch {
      done(); // a destination without flush, not open yet, or already closed: nothing of ours to wait for
    }
  });
}

const live = new Set<TickLines>();
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * On a signal, write every live lagless destination out. When nothing else listens for the signal, re-raise it
 * without our listener once they are written, so the process ends as it would have without lagless (Node's
 * default). The flush is asynchronous on purpose: a chunk already handed to an asynchronous write (to a pipe) is
 * finished by that write, and a synchronous flush would neither wait for it nor keep the lines in order.
 * On exit (process.exit(), an uncaught exception, the end of the event loop) only a synchronous write can run.
 */
function writeOutOnSignalsAndExit(destination: TickLines): void {
  if (live.size === 0) {
    for (const signal of SIGNALS) process.on(signal, onSignal);
    process.on('exit', onExit);
  }
  live.add(destination);
  (destination.sonic as DestinationStream & NodeJS.EventEmitter).once('close', () => {
    live.delete(destination);
    if (live.size > 0) return;
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.off('exit', onExit);
  });
}

function onExit(): void {
  for (const destination of live) {
    try {
      destination.flushSync();
    } catch {
      // not open yet, or a pipe that cannot take more: nothing more can be done on the way out
    }
  }
}

/** How long a signal waits for the buffered lines before the process ends anyway (a full pipe must not hold it). */
const SIGNAL_FLUSH_MS = 2000;

function onSignal(signal: NodeJS.Signals): void {
  const ours = process.listenerCount(signal) === 1;
  void Promise.all([...live].map((destination) => flushedWithin((done) => destination.flush(done), SIGNAL_FLUSH_MS))).then(() => {
    if (!ours || process.listenerCount(signal) !== 1) return;
    for (const s of SIGNALS) process.off(s, onSignal);
    process.kill(process.pid, signal);
  });
}
