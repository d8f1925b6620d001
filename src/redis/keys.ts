/**
 * The only place Redis keys are spelled. Every key of one queue carries the hash tag `{<queue>}` so a queue's
 * keys live in one Redis Cluster slot and a script may touch them together.
 */
export interface QueueKeys {
  ready: string;
  schedule: string;
  retry: string;
  dead: string;
  /** Payloads of scheduled, retrying and dead jobs, by jid (the sorted sets hold only jids). */
  jobs: string;
  leases: string;
  /** In-flight payloads: jid → "<token>|<payload>". */
  active: string;
  /** Dedup cookies: idempotency key → cookie string (see scripts/lib.lua). */
  dedup: string;
  stats: string;
  /** The wake-up signal: a list holding one token (single Redis), or a pub/sub channel (Redis Cluster). */
  signal: string;
  lock: string;
  /** Exists while the queue is paused (value: epoch ms of the pause); fetch passes over a paused queue. */
  paused: string;
}

/**
 * The physical queue of partition `index` of a partitioned queue: a full set of the queue's keys under the hash tag
 * `{<queue>#<index>}`, a slot of its own (README, Partitioned queues). Queue names never hold '#' (QUEUE_PATTERN), so
 * a physical name maps back to exactly one queue.
 */
export function partitionName(queue: string, index: number): string {
  return `${queue}#${index}`;
}

/** The queue a physical queue name belongs to, and its partition index (undefined: the queue's own keys). */
export function partitionOf(name: string): { queue: string; index?: number } {
  const at = name.lastIndexOf('#');
  return at < 0 ? { queue: name } : { queue: name.slice(0, at), index: Number(name.slice(at + 1)) };
}

/**
 * On Redis Cluster a queue's `signal` is a sharded pub/sub channel in the queue's slot, not a list: its name ends
 * with this suffix, which scripts/lib.lua's wake_empty recognises (it SPUBLISHes instead of pushing a token), and the
 * worker process holds one subscriber connection per master instead of one BLPOP connection per slot
 * (redis/signal-waiter.ts).
 */
export const PUBLISHED_SIGNAL_SUFFIX = ':pub';

export class RedisKeys {
  /** `publishWakeUps`: signals are sharded pub/sub channels (on Redis Cluster), see PUBLISHED_SIGNAL_SUFFIX. */
  constructor(
    readonly prefix: string,
    private readonly publishWakeUps = false,
  ) {}

  queue(queue: string): QueueKeys {
    const base = `${this.prefix}:{${queue}}:`;
    return {
      ready: `${base}ready`,
      schedule: `${base}schedule`,
      retry: `${base}retry`,
      dead: `${base}dead`,
      jobs: `${base}jobs`,
      leases: `${base}leases`,
      active: `${base}active`,
      dedup: `${base}dedup`,
      stats: `${base}stats`,
      signal: this.publishWakeUps ? `${base}signal${PUBLISHED_SIGNAL_SUFFIX}` : `${base}signal`,
      lock: `${base}lock`,
      paused: `${base}paused`,
    };
  }

  /**
   * A worker's last fetch whose first queue was this one (fetch id and the jobs it leased from every queue of the
   * fetch), so a resent fetch leases nothing twice.
   */
  lastFetch(queue: string, token: string): string {
    return `${this.prefix}:{${queue}}:fetch:${token}`;
  }

  /**
   * Cron ticks pushed to a queue: schedule name → "<tick ms>|<jid>" of the latest (scripts/schedule-push-5.lua).
   * In the queue's slot, so the mark and the push are one atomic step.
   */
  cronTicks(queue: string): string {
    return `${this.prefix}:{${queue}}:cron-ticks`;
  }

  /** Limited worker classes of a queue: class → "<concurrency>|<max>|<perMs>" (store/limits.ts). */
  limits(queue: string): string {
    return `${this.prefix}:{${queue}}:limits`;
  }

  /**
   * Jobs parked by a limit, jid → worker class, from the moment they are parked until a worker checks them again
   * (through their promotion back to the ready list): the dedup reaper counts their cookies' owners alive.
   */
  parked(queue: string): string {
    return `${this.prefix}:{${queue}}:parked`;
  }

  /** One limited worker class's state, in its queue's slot (worker names never hold braces). */
  limit(queue: string, workerClass: string): LimitKeys {
    const base = `${this.prefix}:{${queue}}:limit:${workerClass}:`;
    return { running: `${base}running`, reserved: `${base}reserved`, deferred: `${base}deferred`, starts: `${base}starts`, state: `${base}state` };
  }

  /**
   * One job's record (hash): `progress` while it runs, `record` once it finished under keepResult. Expires (PEXPIRE),
   * so finished jobs cost memory for their TTL only. In the queue's slot: written next to the queue's other keys.
   */
  jobRecord(queue: string, jid: string): string {
    return `${this.prefix}:{${queue}}:job:${jid}`;
  }

  /** Processed/failed counts of one minute (hash), kept for a bounded period (see store/history.ts). */
  minuteStats(queue: string, minuteMs: number): string {
    return `${this.prefix}:{${queue}}:minute:${minuteMs}`;
  }

  /** Pub/sub channel of a queue's job events (completed, failed, dead): nothing is stored, so nothing grows. */
  events(queue: string): string {
    return `${this.prefix}:{${queue}}:events`;
  }

  /** Pattern matching every queue's events channel (one subscription serves `app.events` and `app.jobs.wait`). */
  eventsPattern(): string {
    return `${this.prefix}:{*}:events`;
  }

  /**
   * One cron schedule's state (hash: pause, last run, latest tick claimed per definition), by schedule name.
   * Its own hash tag: a schedule's claim script touches this key alone.
   */
  cronSchedule(name: string): string {
    return `${this.prefix}:cron:{${name}}`;
  }

  /** Set of known queue names; outside any queue's slot, so only written outside scripts. */
  queues(): string {
    return `${this.prefix}:queues`;
  }
}

export interface LimitKeys {
  /** Jids granted a slot → grant time ms; a member counts while its job is in the queue's active hash. */
  running: string;
  /** Jids promoted from `deferred` with a slot and a start reserved → promotion time ms. */
  reserved: string;
  /** Parked payloads, oldest first (RPUSH, LPOP). */
  deferred: string;
  /** Rate window: "<jid>@<ms>" → start time ms. */
  starts: string;
  /** wake (claimed wake-up ms), scan (last stale-slot scan ms), deferred (total parked). */
  state: string;
}
