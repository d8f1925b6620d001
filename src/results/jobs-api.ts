import { InvalidOptionError, JobNotFoundError, JobWaitTimeoutError } from '../errors.js';
import type { WorkerDefinition } from '../jobs/worker.js';
import type { JobStore } from '../store/job-store.js';
import { jobInfoOf, type JobInfo } from './job-info.js';
import type { JobEvents } from './job-events.js';

export interface JobLookupOptions {
  /** The job's queue. Without it every known queue is asked (one lookup each): pass it when you know it. */
  queue?: string;
}

export interface JobWaitOptions extends JobLookupOptions {
  /** Give up after this long with JobWaitTimeoutError. Default 30 s. */
  timeoutMs?: number;
}

/** `app.jobs`: a job's state, result and progress, and waiting for it to finish. */
export interface JobsApi {
  /** Where a job is and what it did; undefined when no queue holds it (see JobStore.jobLookup for the bounds). */
  get(jid: string, options?: JobLookupOptions): Promise<JobInfo | undefined>;
  /**
   * Resolves with the job's info once it completed (its worker needs keepResult) or died (state 'dead'); a
   * failure that will be retried keeps waiting. Listens to the store's events: no polling.
   */
  wait(jid: string, options?: JobWaitOptions): Promise<JobInfo>;
}

export interface JobsApiDeps {
  store: JobStore;
  events: JobEvents;
  findWorker: (name: string) => WorkerDefinition | undefined;
  workers: () => WorkerDefinition[];
  now: () => number;
}

const DEFAULT_WAIT_MS = 30_000;

export function createJobsApi(deps: JobsApiDeps): JobsApi {
  /** The queues to ask: the one given, else every registered queue and every defined worker's. */
  const queuesFor = async (options: JobLookupOptions): Promise<string[]> => {
    if (options.queue !== undefined) return [options.queue];
    return [...new Set([...(await deps.store.queueList()), ...deps.workers().map((w) => w.queue)])];
  };

  const get = async (jid: string, options: JobLookupOptions = {}): Promise<JobInfo | undefined> => {
    checkJid(jid);
    const queues = await queuesFor(options);
    const found = await Promise.all(queues.map((queue) => deps.store.jobLookup({ queue, jid, nowMs: deps.now() })));
    const index = found.findIndex((lookup) => lookup !== undefined);
    return index < 0 ? undefined : jobInfoOf(queues[index]!, jid, found[index]!);
  };

  const wait = async (jid: string, options: JobWaitOptions = {}): Promise<JobInfo> => {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new InvalidOptionError(`app.jobs.wait timeoutMs must be a number of ms >= 0; got ${timeoutMs}.`);
    checkJid(jid);
    // Listen before looking, so a finish between the look and the wait is not missed.
    let settle: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    const stops = (['completed', 'dead'] as const).map((name) => deps.events.on(name, (event) => event.jid === jid && settle()));
    let timer: NodeJS.Timeout | undefined;
    try {
      await deps.events.ready();
      const info = await get(jid, options);
      if (!info) throw new JobNotFoundError(jid, await queuesFor(options));
      if (info.state === 'completed' || info.state === 'dead') return info;
      const worker = info.class === undefined ? undefined : deps.findWorker(info.class);
      if (worker && !worker.options.keepResult) {
        throw new InvalidOptionError(`Worker '${worker.name}' does not keep results, so its jobs cannot be waited for: add keepResult: { ttlMs: 3_600_000 } to its defineWorker options.`);
      }
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      if ((await Promise.race([finished, timedOut])) === 'timeout') throw new JobWaitTimeoutError(jid, timeoutMs, info.state);
      const done = await get(jid, { queue: info.queue });
      if (!done) throw new JobNotFoundError(jid, [info.queue]); // its record expired at once (a tiny ttlMs)
      return done;
    } finally {
      clearTimeout(timer);
      for (const stop of stops) stop();
    }
  };

  return { get, wait };
}

function checkJid(jid: unknown): void {
  if (typeof jid !== 'string' || jid === '') throw new InvalidOptionError(`A job id must be a non-empty string (the jid an enqueue returned); got ${JSON.stringify(jid)}.`);
}
