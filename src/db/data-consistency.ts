import type { FlagCheck } from '../dedup/flags.js';
import type { DataConsistency } from '../jobs/payload.js';
import type { WorkerDefinition } from '../jobs/worker.js';

/**
 * The data consistency a worker has right now: its `dataConsistency` (default 'always'), or 'always' while
 * its `dataConsistencyFlag` is off. Evaluated at enqueue (what to stamp) and again at execution (where to
 * run), so turning the flag off sends already queued jobs to the primary.
 */
export function effectiveDataConsistency(worker: WorkerDefinition, flags: FlagCheck): DataConsistency {
  const configured = worker.options.dataConsistency ?? 'always';
  if (configured === 'always') return configured;
  const flag = worker.options.dataConsistencyFlag;
  return flag && !flags.enabled(flag) ? 'always' : configured;
}
