import type { Logger } from 'pino';
import type { JobEventName } from '../store/job-records.js';
import type { JobStore } from '../store/job-store.js';
import { jobEventOf, type JobEvent } from './job-info.js';

export type JobEventListener = (event: JobEvent) => void;

/**
 * `app.events`: completed, failed and dead jobs of every process on the store. One store subscription per app,
 * opened with the first listener (or `ready()`) and closed with the app. Events are messages: a process that is
 * not subscribed when one is published never sees it (a job's state stays readable with `app.jobs.get`).
 * 'completed' is published for workers with keepResult only; 'failed' for a failure that will be retried;
 * 'dead' for one that moved the job to the dead set.
 */
export class JobEvents {
  private readonly listeners = new Map<JobEventName, Set<JobEventListener>>();
  private subscription: Promise<() => Promise<void>> | undefined;
  private closed = false;

  constructor(
    private readonly store: JobStore,
    private readonly logger: Logger,
  ) {}

  /** Call `listener` for each event of this kind from now on; returns a function that stops it. */
  on(event: JobEventName, listener: JobEventListener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const own: JobEventListener = (e) => listener(e);
    set.add(own);
    void this.ready().catch((error: unknown) => this.logger.error({ err: error, event: 'job_events_subscribe_failed' }, `could not subscribe to job events: ${(error as Error).message}`));
    return () => void set.delete(own);
  }

  /** Resolves once this process receives events (so an event published after it is not missed). */
  ready(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.subscription ??= this.store.eventsSubscribe((message) => this.dispatch(jobEventOf(message)));
    const subscription = this.subscription;
    return subscription.then(
      () => undefined,
      (error: unknown) => {
        if (this.subscription === subscription) this.subscription = undefined; // the next call tries again
        throw error;
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) await (await subscription.catch(() => async () => undefined))();
  }

  private dispatch(event: JobEvent): void {
    for (const listener of this.listeners.get(event.event) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: 'job_event_listener_failed', jid: event.jid }, `a job event listener threw: ${(error as Error).message}`);
      }
    }
  }
}
