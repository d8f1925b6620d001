import { HttpError, sendJson } from '../http.js';
import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/**
 * `GET /api/cron`: the app's schedules with next run, last run, last jid and pause state (as `lagless cron list
 * --json`); `POST /api/cron/:name/pause|resume` pauses or resumes one in the store, for every process.
 */
export function cronRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/cron', async ({ res }) => {
    sendJson(res, 200, { t: deps.now(), schedules: deps.app.schedules ? await deps.app.schedules() : [] });
  });
  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    router.post(`/api/cron/:name/${verb}`, async (ctx) => {
      const { app } = deps;
      if (!app.pauseSchedule || !app.resumeSchedule) throw new HttpError(404, 'UNKNOWN_SCHEDULE', 'This app defines no schedules.');
      const name = ctx.params.name!;
      await (paused ? app.pauseSchedule(name) : app.resumeSchedule(name));
      deps.audit(paused ? 'dashboard_cron_pause' : 'dashboard_cron_resume', { schedule: name, via: ctx.caller?.via, by: ctx.caller?.user });
      sendJson(ctx.res, 200, { schedule: name, paused });
    });
  }
}
