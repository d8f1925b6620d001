import { QueueControl } from '../../client/queue-control.js';
import { notFound, sendJson } from '../http.js';
import { readQueues, readQueuesByPartition } from '../readings.js';
import type { RouteContext, Router } from '../router.js';
import { queueName } from '../validate.js';
import type { ApiDeps } from './deps.js';

/**
 * `GET /api/queues`: sizes, running totals, latency and pause of every queue (a partitioned queue's summed over its
 * partitions), read now from the store.
 * `GET /api/queues/paused`: just the paused ones (every page shows them). `POST /api/queues/:queue/pause|resume`:
 * the same change as `app.queues` and `lagless queues pause|resume`, audited like every dashboard change.
 */
export function queueRoutes(router: Router, deps: ApiDeps): void {
  // The dashboard's audit line says who paused; the control itself stays quiet so the change is logged once.
  const control = new QueueControl(deps.app.store, undefined, deps.now);
  // `?partitions=1`: a partitioned queue also lists its physical queues (`q`, `q#0`, …), each with its own figures.
  router.get('/api/queues', async ({ res, query }) => {
    const t = deps.now();
    sendJson(res, 200, { t, queues: query.get('partitions') === '1' ? await readQueuesByPartition(deps.app.store, t) : await readQueues(deps.app.store, t) });
  });

  router.get('/api/queues/paused', async ({ res }) => sendJson(res, 200, { paused: await control.paused() }));

  const change = (verb: 'pause' | 'resume') => async (ctx: RouteContext) => {
    const queue = queueName(ctx.params.queue);
    const known = await deps.app.store.queueList();
    if (!known.includes(queue)) throw notFound(`No queue '${queue}'. Known queues: ${known.join(', ') || '(none yet)'}.`);
    const changed = verb === 'pause' ? await control.pause(queue) : await control.resume(queue);
    if (changed) deps.audit(`dashboard_queue_${verb}`, { queue, via: ctx.caller?.via, by: ctx.caller?.user });
    sendJson(ctx.res, 200, { queue, paused: verb === 'pause', changed });
  };
  router.post('/api/queues/:queue/pause', change('pause'));
  router.post('/api/queues/:queue/resume', change('resume'));
}
