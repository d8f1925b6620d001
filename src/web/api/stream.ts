import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/** `GET /api/stream`: server-sent events; `history` (the chart window) first, then a `sample` every interval. */
export function streamRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/stream', async ({ req, res }) => {
    await deps.sampler.start();
    deps.hub.open(req, res, [{ event: 'history', data: deps.sampler.history() }]);
  });
}
