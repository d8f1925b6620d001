import { jobIdempotency, type JobIdempotency } from '../../dedup/job-idempotency.js';
import { dedupPlan } from '../../dedup/plan.js';
import { badRequest, notFound, sendJson } from '../http.js';
import { readQueues } from '../readings.js';
import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/**
 * `GET /api/dedup`: live dedup keys and absorbed/rescheduled totals per queue, and the workers that
 * deduplicate. `GET /api/dedup/key?worker=W&args={json}`: the key of one job and its cookie, as
 * `lagless dedup show` prints it.
 */
export function dedupRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/dedup', async ({ res }) => {
    const queues = await readQueues(deps.app.store, deps.now());
    const workers = deps.app.workers().flatMap((worker) => {
      const plan = dedupPlan(worker);
      return plan ? [{ worker: worker.name, queue: worker.queue, ...plan }] : [];
    });
    sendJson(res, 200, {
      queues: queues.map(({ queue, dedupKeys, deduplicated, rescheduled }) => ({ queue, dedupKeys, deduplicated, rescheduled })),
      workers,
    });
  });

  router.get('/api/dedup/key', async ({ res, query }) => {
    const name = query.get('worker') ?? '';
    const worker = deps.app.workers().find((w) => w.name === name);
    if (!worker) throw notFound(`No worker named '${name.slice(0, 100)}' is defined in this app; GET /api/dedup lists the workers that deduplicate.`);
    const plan = dedupPlan(worker);
    if (!plan) throw badRequest(`Worker '${worker.name}' does not deduplicate (set idempotent: true or deduplicate: { strategy }).`);
    let args: unknown;
    try {
      args = JSON.parse(query.get('args') ?? '');
    } catch (error) {
      throw badRequest(`args must be the job arguments as JSON, e.g. {"userId":7}: ${(error as Error).message}.`);
    }
    let idempotency: JobIdempotency;
    try {
      idempotency = jobIdempotency(worker, args);
    } catch (error) {
      throw badRequest(`idempotencyArgs of '${worker.name}' rejected these args: ${(error as Error).message}.`);
    }
    const { key } = idempotency;
    const cookie = await deps.app.store.dedupShow({ queue: worker.queue, key, nowMs: deps.now() });
    sendJson(res, 200, { worker: worker.name, queue: worker.queue, strategy: plan.strategy, idempotencyString: idempotency.string, key, held: Boolean(cookie), cookie: cookie ?? null });
  });
}
