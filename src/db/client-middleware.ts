import type { EnqueueContext } from '../client/enqueue-context.js';
import type { FlagCheck } from '../dedup/flags.js';
import type { EnqueueResult } from '../jobs/worker.js';
import type { Middleware } from '../middleware/chain.js';
import { effectiveDataConsistency } from './data-consistency.js';
import type { Databases } from './databases.js';
import type { OpenTransaction } from './session.js';
import type { WalStamp } from './wal-stamp.js';

/**
 * Client side of load balancing (DESIGN §6), placed before deduplication so the dedup cookie sees this
 * enqueue's WAL positions.
 *
 * - Inside an open `db(..).transaction()` the rest of the chain (dedup, push) is held until COMMIT and
 *   dropped on ROLLBACK: a job must not run before the rows that caused it are visible. The caller gets
 *   `{ jid, deduplicated: false, heldUntilCommit: true }` at once (awaiting the push would deadlock the
 *   transaction); a failed push after COMMIT surfaces as AfterCommitError from `transaction()`.
 * - Workers that are load balanced right now (sticky/delayed, flag on) get `wal_locations`,
 *   `wal_location_sources` and `worker_data_consistency`, read after COMMIT. An unreachable primary throws
 *   DatabaseUnavailableError and nothing is pushed.
 */
export function loadBalancingClientMiddleware(deps: { databases: () => Databases | undefined; flags: () => FlagCheck }): Middleware<EnqueueContext, EnqueueResult> {
  // Every enqueue held by one transaction runs after its COMMIT in the same context, so one stamp covers them all.
  const stampsAfterCommit = new WeakMap<OpenTransaction, Promise<WalStamp>>();
  return (context, next) => {
    const databases = deps.databases();
    return databases ? balance(databases, context, next) : next();
  };

  async function balance(databases: Databases, context: EnqueueContext, next: () => Promise<EnqueueResult>): Promise<EnqueueResult> {
    const consistency = effectiveDataConsistency(context.worker, deps.flags());
    const open = databases.sessions.openTransaction();
    const proceed = async (): Promise<EnqueueResult> => {
      if (consistency !== 'always') {
        const stamp = open ? sharedStamp(open) : databases.stamp();
        const { walLocations, walLocationSources } = await stamp;
        Object.assign(context.job, { wal_locations: { ...walLocations }, wal_location_sources: { ...walLocationSources }, worker_data_consistency: consistency });
      }
      return next();
    };
    const sharedStamp = (transaction: OpenTransaction): Promise<WalStamp> => {
      let stamp = stampsAfterCommit.get(transaction);
      if (!stamp) stampsAfterCommit.set(transaction, (stamp = databases.stamp()));
      return stamp;
    };
    if (databases.sessions.afterCommit(proceed)) return { jid: context.job.jid, deduplicated: false, heldUntilCommit: true };
    return proceed();
  }
}
