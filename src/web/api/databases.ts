import { sendJson } from '../http.js';
import { readDecisionTotals, readHosts } from '../readings.js';
import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/** `GET /api/databases`: every host per database with health and lag, and the load-balancing decisions of every worker. */
export function databaseRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/databases', async ({ res }) => {
    const databases = deps.app.databases;
    if (!databases) {
      return sendJson(res, 200, { configured: false, hint: "No databases are configured: pass databases: { main: { primary: 'postgres://…', replicas: ['postgres://…'] } } to createLagless." });
    }
    const hosts = readHosts(databases);
    sendJson(res, 200, {
      configured: true,
      databases: databases.names.map((name) => ({ name, hosts: hosts.filter((host) => host.database === name) })),
      decisions: await readDecisionTotals(deps.app.store),
    });
  });
}
