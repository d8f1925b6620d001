import type { JobPayload } from '../jobs/payload.js';
import type { EnqueueResult, WorkerDefinition } from '../jobs/worker.js';
import type { MiddlewareChain } from '../middleware/chain.js';
import type { DedupPushParams, JobPushResult } from '../store/job-store.js';

/** What client middleware sees and may change before the push. */
export interface EnqueueContext {
  readonly worker: WorkerDefinition;
  readonly job: JobPayload;
  /** Epoch ms when the job becomes due, always in the future when set; undefined = now (ready). */
  readonly runAtMs?: number;
  dedup?: DedupPushParams;
  /** The store's answer, once pushed (middleware after `next()` reads it). */
  pushResult?: JobPushResult;
}

export type ClientChain = MiddlewareChain<EnqueueContext, EnqueueResult>;
