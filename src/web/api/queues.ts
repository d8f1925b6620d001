import { sendJson } from '../http.js';
import { readQueues } from '../readings.js';
import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/** `GET /api/queues`: sizes, running totals and latency of every queue, read now from the store. */
export function queueRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/queues', async ({ res }) => {
    const t = deps.now();
    sendJson(res, 200, { t, queues: await readQueues(deps.app.store, t) });
  });
}
