import type { WorkerDefinition } from '../jobs/worker.js';
import type { DedupStrategy } from '../store/job-store.js';

export const DEFAULT_DEDUP_TTL_MS = 6 * 60 * 60 * 1000;

/** A worker's deduplication settings with defaults applied; undefined when it does not deduplicate. */
export interface DedupPlan {
  strategy: DedupStrategy;
  idempotent: boolean;
  includingScheduled: boolean;
  rescheduleOnce: boolean;
  ttlMs: number;
  featureFlag?: string;
}

// Worker options are fixed at definition, so a plan is worked out once per worker, not on every enqueue and ack.
const plans = new WeakMap<WorkerDefinition, DedupPlan | null>();

export function dedupPlan(worker: WorkerDefinition): DedupPlan | undefined {
  let plan = plans.get(worker);
  if (plan === undefined) plans.set(worker, (plan = resolvePlan(worker) ?? null));
  return plan ?? undefined;
}

function resolvePlan(worker: WorkerDefinition): DedupPlan | undefined {
  const { idempotent = false, deduplicate } = worker.options;
  if (!deduplicate && !idempotent) return undefined;
  const strategy = deduplicate?.strategy ?? 'until_executing';
  if (strategy === 'none') return undefined;
  return {
    strategy,
    idempotent,
    includingScheduled: deduplicate?.includingScheduled ?? false,
    rescheduleOnce: deduplicate?.ifDeduplicated === 'reschedule_once',
    ttlMs: deduplicate?.ttlMs ?? DEFAULT_DEDUP_TTL_MS,
    ...(deduplicate?.featureFlag ? { featureFlag: deduplicate.featureFlag } : {}),
  };
}
