import { HISTORY_RETENTION_MS, MINUTE_MS } from '../../store/job-records.js';
import { sendJson } from '../http.js';
import type { Router } from '../router.js';
import { limit as checkLimit } from '../validate.js';
import type { ApiDeps } from './deps.js';

/**
 * `GET /api/history?minutes=60`: processed and failed jobs per minute, summed over queues, as the ack and later
 * scripts counted them in the store. Survives dashboard and worker restarts; kept for HISTORY_RETENTION_MS.
 */
export function historyRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/history', async ({ res, query }) => {
    const minutes = checkLimit(query.get('minutes'), 60, HISTORY_RETENTION_MS / MINUTE_MS);
    const toMs = deps.now();
    const fromMs = toMs - (minutes - 1) * MINUTE_MS;
    const queues = await deps.app.store.queueList();
    const perQueue = await Promise.all(queues.map((queue) => deps.app.store.queueHistory({ queue, fromMs, toMs })));
    const summed = (perQueue[0] ?? []).map((m) => ({ t: m.minuteMs, processed: 0, failed: 0 }));
    if (summed.length === 0) for (let t = fromMs - (fromMs % MINUTE_MS); t <= toMs; t += MINUTE_MS) summed.push({ t, processed: 0, failed: 0 });
    for (const history of perQueue) history.forEach((m, i) => Object.assign(summed[i]!, { processed: summed[i]!.processed + m.processed, failed: summed[i]!.failed + m.failed }));
    sendJson(res, 200, { minutes: summed, retentionMinutes: HISTORY_RETENTION_MS / MINUTE_MS });
  });
}
