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

export function dedupPlan(worker: WorkerDefinition): DedupPlan | undefined {
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
