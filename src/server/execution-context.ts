import type { JobPayload } from '../jobs/payload.js';
import type { JobContext, WorkerDefinition } from '../jobs/worker.js';
import type { MiddlewareChain } from '../middleware/chain.js';

/** What server middleware sees around `perform`. Middleware may set payload fields decided at execution. */
export interface ExecutionContext {
  readonly worker: WorkerDefinition;
  readonly job: JobPayload;
  readonly ctx: JobContext;
  /** Extra fields for the job's done/fail log line (e.g. the load-balancing decision). */
  readonly logFields: Record<string, unknown>;
}

export type ServerChain = MiddlewareChain<ExecutionContext, unknown>;
