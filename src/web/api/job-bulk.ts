import type { JobStore } from '../../store/job-store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { badRequest, readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { jid as checkJid, queueName } from '../validate.js';
import type { ApiDeps } from './deps.js';
import { jobFilter, scanJobs, SCAN_MAX } from './job-filter.js';
import { knownQueue } from './jobs.js';

/** Most jids one request may name. */
export const BULK_MAX_JIDS = 1000;
/** Actions sent to the store at once (each is one script call; they share the connection's pipeline). */
const PARALLEL = 100;
const BODY_KEYS = new Set(['queue', 'state', 'action', 'jids', 'all']);

type From = 'dead' | 'retry';
type Action = 'retry' | 'delete';

/**
 * `POST /api/jobs/bulk`: retry or delete many dead or retrying jobs, named (`jids`) or every one matching a filter
 * (`all: { q?, class?, cursor? }`). "All matching" reads at most SCAN_MAX jobs per request and answers with a
 * cursor while there is more: the page calls again until it is null, so no request holds Redis or the server long.
 */
export function jobBulkRoutes(router: Router, deps: ApiDeps): void {
  router.post('/api/jobs/bulk', async ({ req, res, caller }) => {
    const body = await readJsonBody(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(USAGE);
    const record = body as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !BODY_KEYS.has(key));
    if (unknown.length > 0) throw badRequest(`Unknown field ${unknown.map((k) => `'${k.slice(0, 40)}'`).join(', ')}; ${USAGE}`);
    const queue = queueName(typeof record.queue === 'string' ? record.queue : undefined);
    const state = oneOf<From>(record.state, ['dead', 'retry'], 'state');
    const action = oneOf<Action>(record.action, ['retry', 'delete'], 'action');
    if ((record.jids === undefined) === (record.all === undefined)) throw badRequest(`Send either jids (a list) or all (a filter), not ${record.jids === undefined ? 'neither' : 'both'}; ${USAGE}`);
    await knownQueue(deps, queue);
    const act = (jid: string): Promise<boolean> => settle(deps.app.store, { queue, state, action, jid, nowMs: deps.now() });
    const who = { via: caller?.via, by: caller?.user };

    if (record.jids !== undefined) {
      if (!Array.isArray(record.jids) || record.jids.length === 0 || record.jids.length > BULK_MAX_JIDS) throw badRequest(`jids must be a list of 1 to ${BULK_MAX_JIDS} job ids.`);
      const jids = [...new Set(record.jids.map((j) => checkJid(typeof j === 'string' ? j : undefined)))];
      const done = await inParallel(jids, act);
      const missing = jids.filter((_, i) => !done[i]);
      deps.audit('dashboard_jobs_bulk', { queue, state, action, count: jids.length - missing.length, ...who });
      return sendJson(res, 200, { queue, state, action, done: jids.length - missing.length, missing });
    }

    if (typeof record.all !== 'object' || record.all === null || Array.isArray(record.all)) throw badRequest(`all must be an object: { "q"?: text in the arguments, "class"?: worker name, "cursor"?: from the previous answer }.`);
    const all = record.all as Record<string, unknown>;
    const filter = jobFilter({ class: all.class, text: all.q });
    const from = decodeCursor(typeof all.cursor === 'string' ? all.cursor : null);
    const found = await scanJobs(deps.app.store, { queue, state, from, filter, want: SCAN_MAX, max: SCAN_MAX });
    const done = (await inParallel(found.jobs.map((j) => j.jid), act)).filter(Boolean).length;
    // The jobs acted on left the set: the rest moved up by that many ranks.
    const next = found.next === null ? null : found.next - done;
    deps.audit('dashboard_jobs_bulk', { queue, state, action, count: done, filter, ...who });
    sendJson(res, 200, { queue, state, action, done, scanned: found.scanned, bound: SCAN_MAX, nextCursor: next === null ? null : encodeCursor(next) });
  });
}

const USAGE = 'send { "queue": "mail", "state": "dead" | "retry", "action": "retry" | "delete", "jids": ["…"] } or { …, "all": { "q"?: "text", "class"?: "Worker", "cursor"?: "…" } }.';

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw badRequest(`${what} must be one of ${allowed.join(', ')}; ${USAGE}`);
  return value as T;
}

function settle(store: JobStore, p: { queue: string; state: From; action: Action; jid: string; nowMs: number }): Promise<boolean> {
  return p.action === 'retry' ? store.jobRetryNow({ queue: p.queue, jid: p.jid, from: p.state, nowMs: p.nowMs }) : store.jobDelete({ queue: p.queue, jid: p.jid, from: p.state });
}

async function inParallel(jids: string[], act: (jid: string) => Promise<boolean>): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < jids.length; i += PARALLEL) results.push(...(await Promise.all(jids.slice(i, i + PARALLEL).map(act))));
  return results;
}
