import type { Logger } from 'pino';
import type { EnqueueContext } from '../client/enqueue-context.js';
import type { EnqueueResult } from '../jobs/worker.js';
import type { Middleware } from '../middleware/chain.js';
import type { JobMetrics } from '../observability/metrics.js';
import { PRESERVE_LATEST_WAL_FLAG, type FlagCheck } from './flags.js';
import { jobIdempotency } from './job-idempotency.js';
import { dedupPlan, type DedupPlan } from './plan.js';

/**
 * Client side of deduplication: compute the idempotency key and let the store's push step check and push
 * atomically. Runs after WAL stamping so the cookie sees this enqueue's WAL locations.
 */
export function dedupClientMiddleware(deps: { logger: Logger; metrics: JobMetrics; flags: () => FlagCheck; now: () => number }): Middleware<EnqueueContext, EnqueueResult> {
  return (context, next) => {
    const plan = dedupPlan(context.worker);
    if (!plan || (context.runAtMs !== undefined && !plan.includingScheduled)) return next();
    const flags = deps.flags();
    if (plan.featureFlag && !flags.enabled(plan.featureFlag)) return next();
    return deduplicate(context, next, plan, flags);
  };

  async function deduplicate(context: EnqueueContext, next: () => Promise<EnqueueResult>, plan: DedupPlan, flags: FlagCheck): Promise<EnqueueResult> {
    const { worker, job } = context;

    job.idempotency_key = jobIdempotency(worker, job.args).key;
    const delayMs = Math.max(0, (context.runAtMs ?? 0) - deps.now());
    const wal = job.wal_locations;
    context.dedup = {
      key: job.idempotency_key,
      strategy: plan.strategy,
      idempotent: plan.idempotent,
      ttlMs: plan.ttlMs + delayMs,
      // The flag only decides what happens to this enqueue's WAL positions: with none, there is nothing to ask it.
      preserveLatestWal: wal !== undefined && flags.enabled(PRESERVE_LATEST_WAL_FLAG),
      rescheduleOnce: plan.rescheduleOnce,
    };
    if (wal) context.dedup.wal = wal;

    const result = await next();
    const pushed = context.pushResult;
    if (result.deduplicated && pushed && !pushed.pushed) {
      deps.metrics.deduplicated.inc({ queue: job.queue, worker: worker.name, strategy: plan.strategy });
      for (const database of pushed.walRaised) deps.metrics.dedupWalUpdates.inc({ database });
      if (deps.logger.isLevelEnabled('info')) deps.logger.info(
        { class: worker.name, jid: job.jid, queue: job.queue, job_status: 'deduplicated', 'deduplication.type': 'dropped', ...optionFields(plan), 'duplicate-of': result.duplicateOf, idempotency_key: job.idempotency_key, wal_locations: job.wal_locations },
        'deduplicated',
      );
    }
    return result;
  }
}

/**
 * The worker's deduplication options as GitLab logs them: flat `deduplication.options.*` fields (no nested object,
 * so log indexes get one column each), `ttl` in seconds, `if_deduplicated` only when set.
 */
function optionFields(plan: DedupPlan): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {
    'deduplication.options.strategy': plan.strategy,
    'deduplication.options.including_scheduled': plan.includingScheduled,
    'deduplication.options.ttl': plan.ttlMs / 1000,
  };
  if (plan.rescheduleOnce) fields['deduplication.options.if_deduplicated'] = 'reschedule_once';
  return fields;
}
