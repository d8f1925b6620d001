import { userInfo } from 'node:os';
import type { FlagChangeBus } from './change-bus.js';
import { logFlagChange, type FlagLogger } from './change-log.js';
import type { FlagMetrics } from './flag-metrics.js';
import type { FlagChange } from './store/flag-store.js';

/** Everything that follows a committed change: metric, log line, and the notice to other processes. */

const PUBLISH_TIMEOUT_MS = 1000;

/** Who made a change when the caller does not say: the OS user, as the CLI documents. */
export function defaultChangedBy(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function announceChange(
  change: FlagChange,
  deps: { logger: FlagLogger; bus: FlagChangeBus | undefined; metrics: FlagMetrics | undefined },
): Promise<void> {
  deps.metrics?.changes.inc({ action: change.action });
  logFlagChange(deps.logger, change);
  if (!deps.bus) return;
  // The write is committed; a lost notice only delays other processes until their periodic reload. The wait
  // is bounded because a Redis client queues commands while disconnected, which would hang `set` for minutes.
  const outcome = await withTimeout(deps.bus.publish({ environment: change.environment, name: change.name, action: change.action }), PUBLISH_TIMEOUT_MS);
  if (outcome !== 'done') {
    deps.logger.warn({ err: outcome, key: change.name }, 'feature flag change notice not published; other processes catch up on their periodic reload');
  }
}

async function withTimeout(promise: Promise<void>, timeoutMs: number): Promise<'done' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  // Both outcomes handled in one chain: a rejection arriving after the timeout must not become unhandled.
  const settled = promise.then(
    () => 'done' as const,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
