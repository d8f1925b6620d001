import type { RedisOptions } from 'ioredis';
import { isCluster, type RedisClient } from './connection.js';

/**
 * ioredis options for a connection whose commands go through DeadlineCalls. ioredis's defaults queue a command
 * while Redis is away and resend one whose reply was lost, both without a deadline: a caller that gave up and was
 * told "failed" could still see its push land minutes later (a ghost push). Here ioredis never holds or resends a
 * command; DeadlineCalls does, and only before the caller's deadline.
 */
export const DEADLINE_CONNECTION_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: null,
};

export interface DeadlineCallOptions {
  timeoutMs: number;
  /** The error when a command was written but its outcome is still unknown at the deadline (default: unavailable). */
  outcomeUnknown?: () => Error;
  /** The error when nothing was written before the deadline. */
  unavailable: (reason: string) => Error;
}

const SWEEP_MS = 25;
/**
 * The pause before a resend when the client still says "ready": a cluster stays ready while one of its masters is
 * gone, and its slots move to the promoted replica only after `cluster-node-timeout` and a refresh.
 */
const RETRY_PAUSE_MS = 50;

interface InFlight {
  deadline: number;
  end: (attempt: Attempt<unknown>) => void;
}

type Attempt<T> = { kind: 'reply'; value: T } | { kind: 'error'; error: unknown } | Failed;
type Failed = { kind: 'unsent'; reason: string } | { kind: 'lost' } | { kind: 'timeout' };

/** What the retry loop knows after a failed attempt: whether any attempt was written, why the last failed, and to pause. */
interface RetryState {
  written: boolean;
  reason: string;
  pause: boolean;
}

/** A failed attempt pauses the next one; one that was written (lost, timed out) may have run. */
function afterFailed(attempt: Failed, written = false): RetryState {
  if (attempt.kind === 'unsent') return { written, reason: attempt.reason, pause: true };
  return { written: true, reason: attempt.kind === 'lost' ? 'the connection closed before the reply' : 'no reply', pause: true };
}

/**
 * Every command with a deadline. Invariant: a command is written again only by this loop and only before its
 * deadline, so once a call has rejected nothing sends it any more. That is safe because every lagless command may be
 * resent: a push checks first whether its job is already queued, a fetch carries a fetch id, and the rest check
 * the lease token.
 */
export class DeadlineCalls {
  /** Calls written to the current connection and not yet answered; told when that connection closes. */
  private readonly inFlight = new Set<InFlight>();
  private sweeper?: NodeJS.Timeout;
  private connected?: Promise<void>;

  constructor(private readonly redis: RedisClient) {
    // With autoResendUnfulfilledCommands off, ioredis drops the commands of a closed connection without settling
    // them: this is how their callers learn that the reply is lost.
    redis.on('close', () => {
      for (const entry of [...this.inFlight]) entry.end({ kind: 'lost' });
    });
  }

  /**
   * `send` is told whether an earlier attempt was written (so may have run): a push then checks before it repeats.
   * The first attempt settles the returned promise itself when it is answered (no loop, no extra promise on the way
   * to a caller awaiting a reply); the loop takes over only when it is not.
   */
  call<T>(send: (resent: boolean) => Promise<T>, options: DeadlineCallOptions): Promise<T> {
    const deadline = performance.now() + options.timeoutMs;
    if (this.redis.status !== 'ready' || !(options.timeoutMs > 0)) return this.retry(send, options, deadline, { written: false, reason: 'not connected', pause: false });
    return new Promise<T>((resolve, reject) => {
      this.attempt(() => send(false), deadline, (attempt) => {
        if (attempt.kind === 'reply') resolve(attempt.value);
        else if (attempt.kind === 'error') reject(attempt.error);
        else this.retry(send, options, deadline, afterFailed(attempt)).then(resolve, reject);
      });
    });
  }

  private async retry<T>(send: (resent: boolean) => Promise<T>, options: DeadlineCallOptions, deadline: number, state: RetryState): Promise<T> {
    let { written, reason, pause } = state;
    for (;;) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) break;
      if (this.redis.status === 'end') throw options.unavailable('the connection was closed');
      // Still "ready" but refusing writes: the socket is closing and 'close' has not been handled yet. Wait for
      // the next connection rather than retry at once (a retry loop of rejected promises would starve the very
      // event loop that has to handle the close).
      if (this.redis.status !== 'ready') {
        await this.ready(remainingMs);
        continue;
      }
      if (pause) {
        pause = false;
        await this.ready(Math.min(remainingMs, RETRY_PAUSE_MS));
        continue;
      }
      const resent = written;
      const attempt = await new Promise<Attempt<T>>((resolve) => this.attempt(() => send(resent), deadline, resolve));
      if (attempt.kind === 'reply') return attempt.value;
      if (attempt.kind === 'error') throw attempt.error;
      ({ written, reason, pause } = afterFailed(attempt, written));
      if (attempt.kind === 'timeout') break;
    }
    throw written && options.outcomeUnknown ? options.outcomeUnknown() : options.unavailable(reason);
  }

  /** Send once; `end` is called exactly once: with the reply or error, or when the reply is lost or late. */
  private attempt<T>(send: () => Promise<T>, deadline: number, end: (attempt: Attempt<T>) => void): void {
    const entry: InFlight = {
      deadline,
      end: (attempt) => {
        if (this.inFlight.delete(entry)) end(attempt as Attempt<T>);
      },
    };
    this.inFlight.add(entry);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    let sent: Promise<T>;
    try {
      sent = send();
    } catch (error) {
      sent = Promise.reject(error); // a call that throws before sending (a bad key) fails like one Redis refused
    }
    sent.then(
      (value) => entry.end({ kind: 'reply', value }),
      (error: unknown) => {
        if (isRedirect(error) && isCluster(this.redis)) {
          // ioredis follows a redirect of a single command by itself, but not of a pipeline holding a command that
          // ran (a WAIT): learn the new slot owners before the resend.
          this.redis.refreshSlotsCache();
        }
        entry.end(isUnsent(error) ? { kind: 'unsent', reason: (error as Error).message } : isLost(error) ? { kind: 'lost' } : { kind: 'error', error });
      },
    );
  }

  /** One timer for every call in flight instead of one per call: a deadline is kept to within SWEEP_MS. */
  private sweep(): void {
    const now = performance.now();
    for (const entry of [...this.inFlight]) if (entry.deadline <= now) entry.end({ kind: 'timeout' });
    if (this.inFlight.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Resolves when the connection is ready or closed for good, or after `timeoutMs`. */
  private async ready(timeoutMs: number): Promise<void> {
    // One pair of listeners for every waiting call: an outage may hold thousands of them.
    this.connected ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.redis.off('ready', done);
        this.redis.off('end', done);
        this.connected = undefined;
        resolve();
      };
      this.redis.on('ready', done);
      this.redis.on('end', done);
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.connected, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}

/**
 * The command may have run but its reply is lost: the rest of a pipeline whose connection closed (AbortError), or,
 * on a cluster, a node connection that dropped ("Connection is closed.", also when ioredis gave up redirecting
 * after it). Conservative: such a command is treated as written, so a resent push checks first.
 */
function isLost(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.message.includes('Connection is closed.'));
}

/**
 * The command never ran: ioredis refused to write it (not connected, offline queue off), or a cluster node answered
 * CLUSTERDOWN / TRYAGAIN / MOVED / ASK (a failover in progress; the slot lives elsewhere), maybe until ioredis gave
 * up redirecting.
 */
function isUnsent(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.message.includes('enableOfflineQueue options is false')) return true;
  return /^(CLUSTERDOWN|TRYAGAIN)\b/.test(error.message) || isRedirect(error) || (error.message.startsWith('Too many Cluster redirections') && !error.message.includes('Connection is closed.'));
}

function isRedirect(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK) \d+ /.test(error.message);
}
