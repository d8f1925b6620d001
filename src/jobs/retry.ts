/** Retry policy of a worker; `max` attempts after the first failure, then the dead set. */
export interface RetryPolicy {
  max: number;
  /** Delay before retry number `count` (1-based), in ms. */
  backoffMs(count: number): number;
}

/** Sidekiq's default: (count^4) + 15 + rand(10) * (count + 1) seconds, so retries spread out and never stampede. */
export function sidekiqBackoffMs(count: number, random: () => number = Math.random): number {
  return (count ** 4 + 15 + Math.floor(random() * 10) * (count + 1)) * 1000;
}

export function retryPolicy(option: false | { max?: number; backoffMs?: (count: number) => number } | undefined): RetryPolicy {
  if (option === false) return { max: 0, backoffMs: sidekiqBackoffMs };
  return { max: option?.max ?? 25, backoffMs: option?.backoffMs ?? ((count) => sidekiqBackoffMs(count)) };
}
