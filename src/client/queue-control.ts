import type { Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';
import { QUEUE_PATTERN } from '../jobs/worker-options.js';
import type { JobStore } from '../store/job-store.js';

export interface PausedQueue {
  queue: string;
  /** Epoch ms of the pause. */
  pausedAt: number;
}

/**
 * `app.queues`: pause and resume a queue for every worker process at once (the flag lives in the store; a fetch
 * passes over a paused queue from the next fetch on). Used alike by the API, `lagless queues pause|resume` and
 * the dashboard, so all three validate and log the same way.
 */
export class QueueControl {
  constructor(
    private readonly store: JobStore,
    private readonly logger: Logger | undefined,
    private readonly now: () => number,
  ) {}

  /**
   * Stop every worker from fetching this queue's jobs; jobs already fetched finish, enqueues are still accepted.
   * Resolves false when it was paused already. A queue may be paused before its first job (pausing registers it).
   */
  async pause(queue: string, by?: string): Promise<boolean> {
    const paused = await this.store.queuePause({ queue: checkQueue(queue), nowMs: this.now() });
    if (paused) this.logger?.info({ event: 'queue_paused', queue, by }, `queue ${queue} paused`);
    return paused;
  }

  /** Let workers fetch this queue's jobs again. Resolves false when it was not paused. */
  async resume(queue: string, by?: string): Promise<boolean> {
    const resumed = await this.store.queueResume(checkQueue(queue));
    if (resumed) this.logger?.info({ event: 'queue_resumed', queue, by }, `queue ${queue} resumed`);
    return resumed;
  }

  /** The paused queues among the known ones (`queueList`), by name. */
  async paused(): Promise<PausedQueue[]> {
    const queues = await this.store.queueList();
    const pausedAt = await this.store.queuePausedAt(queues);
    return queues.flatMap((queue, i) => (pausedAt[i] === undefined ? [] : [{ queue, pausedAt: pausedAt[i] }]));
  }
}

function checkQueue(queue: string): string {
  if (typeof queue !== 'string' || !QUEUE_PATTERN.test(queue)) throw new InvalidOptionError(`Queue name must be 1-100 letters, digits, _ . or -; got ${JSON.stringify(queue)}.`);
  return queue;
}
