import { sendJson } from '../http.js';
import type { Router } from '../router.js';
import { readLimits } from '../../store/limit-readings.js';
import type { ApiDeps } from './deps.js';

/** `GET /api/limits`: every limited worker class with its limits and usage (running, reserved, deferred, starts in the window). */
export function limitRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/limits', async ({ res }) => {
    const t = deps.now();
    sendJson(res, 200, { t, limits: await readLimits(deps.app.store, t) });
  });
}
