import type { FlagCheck } from '../dedup/flags.js';
import type { Middleware } from '../middleware/chain.js';
import type { ExecutionContext } from '../server/execution-context.js';
import { effectiveDataConsistency } from './data-consistency.js';
import type { Databases } from './databases.js';

/** How long a `delayed` job whose replicas are behind waits before its second (and last) decision. */
export const RETRY_SNOOZE_MS = 1_000;

/**
 * Server side of load balancing (DESIGN §6): decide where the job runs from its data consistency and
 * `dedup_wal_locations ?? wal_locations`, then run the rest of the chain and `perform` with every
 * `ctx.db(name)` routed to the chosen host (the first write inside the job moves the rest to the primary).
 *
 * - `retry` re-queues the job with a snooze: not a failure, no error log. The payload is stored again with
 *   `load_balancing_strategy: 'retry'`, which is how the next attempt knows it was retried (a failed attempt
 *   counts too: it has a retry_count).
 * - An invalid LSN in the payload (an older or foreign producer) runs the job on the primary with a warning.
 */
export function loadBalancingServerMiddleware(deps: { databases: () => Databases | undefined; flags: () => FlagCheck; retrySnoozeMs?: number }): Middleware<ExecutionContext, unknown> {
  // Without databases the step is a plain pass-through: no async frame on every job.
  return (context, next) => {
    const databases = deps.databases();
    return databases ? balance(databases, context, next) : next();
  };

  async function balance(databases: Databases, context: ExecutionContext, next: () => Promise<unknown>): Promise<unknown> {
    const { worker, job, ctx } = context;
    const dataConsistency = effectiveDataConsistency(worker, deps.flags());
    const retried = job.load_balancing_strategy === 'retry' || (job.retry_count ?? 0) > 0;
    const decision = await databases.decide({ dataConsistency, retried, walLocations: job.dedup_wal_locations ?? job.wal_locations });
    job.load_balancing_strategy = decision.strategy;
    databases.metrics?.decisions.inc({ worker: worker.name, data_consistency: dataConsistency, strategy: decision.strategy });
    Object.assign(context.logFields, {
      wal_locations: job.wal_locations,
      wal_location_sources: job.wal_location_sources,
      dedup_wal_locations: job.dedup_wal_locations,
      worker_data_consistency: job.worker_data_consistency,
      load_balancing_strategy: decision.strategy,
    });
    if (decision.reason) {
      ctx.logger.warn({ wal_locations: job.wal_locations, dedup_wal_locations: job.dedup_wal_locations, load_balancing_strategy: decision.strategy, reason: decision.reason }, 'unusable WAL location in the job payload; running on the primary');
    }
    if (decision.strategy === 'retry') throw ctx.snooze(deps.retrySnoozeMs ?? RETRY_SNOOZE_MS);
    return databases.runJob(decision, next);
  }
}
