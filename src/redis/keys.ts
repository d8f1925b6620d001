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
  signal: string;
  lock: string;
  /** Exists while the queue is paused (value: epoch ms of the pause); fetch passes over a paused queue. */
  paused: string;
}

export class RedisKeys {
  constructor(readonly prefix: string) {}

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
      signal: `${base}signal`,
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

  /** Set of known queue names; outside any queue's slot, so only written outside scripts. */
  queues(): string {
    return `${this.prefix}:queues`;
  }
}
