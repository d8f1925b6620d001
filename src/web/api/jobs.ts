import type { JobState, QueueSizes, StoredJob } from '../../store/job-store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { badRequest, notFound, sendJson } from '../http.js';
import type { RouteContext, Router } from '../router.js';
import { jid as checkJid, jobState, limit as checkLimit, queueName } from '../validate.js';
import { jobInfoOf } from '../../results/job-info.js';
import { LOOKUP_READY_SCAN } from '../../store/job-records.js';
import type { ApiDeps } from './deps.js';
import { isFiltered, jobFilter, scanJobs, SCAN_MAX, type JobFilter } from './job-filter.js';

const SIZE_OF: Record<JobState, keyof QueueSizes> = { ready: 'ready', scheduled: 'scheduled', retry: 'retry', dead: 'dead', active: 'inFlight' };
const RETRY_FROM = ['dead', 'retry'] as const;
const DELETE_FROM = ['dead', 'retry', 'scheduled'] as const;

/**
 * Jobs of one queue and state, a page at a time, and the two job actions. A job is named by queue + jid
 * (the store keeps no global jid index): `?queue=` is required on the actions, `?state=` narrows where to
 * look (without it: dead, then retry, then, for delete, scheduled).
 */
export function jobRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/jobs', async ({ res, query }) => {
    const queue = queueName(query.get('queue') ?? 'default');
    const state = jobState(query.get('state'), 'ready');
    const offset = decodeCursor(query.get('cursor'));
    const limit = checkLimit(query.get('limit'), 25, 100);
    const filter = jobFilter({ class: query.get('class'), text: query.get('q') });
    await knownQueue(deps, queue);
    if (query.get('jid')) return sendJson(res, 200, await findByJid(deps, queue, checkJid(query.get('jid') ?? undefined)));
    if (isFiltered(filter)) return sendJson(res, 200, await search(deps, { queue, state, offset, limit, filter }));
    const [sizes, jobs] = await Promise.all([deps.app.store.queueSizes(queue), deps.app.store.jobList({ queue, state, offset, limit })]);
    const total = sizes[SIZE_OF[state]];
    const more = jobs.length === limit && offset + limit < total;
    sendJson(res, 200, { queue, state, total, offset, limit, jobs: jobs.map(present), nextCursor: more ? encodeCursor(offset + limit) : null });
  });

  router.get('/api/jobs/:jid', async ({ res, params, query }) => {
    const jid = checkJid(params.jid);
    const queue = queueName(query.get('queue'), 'queue (query parameter)');
    await knownQueue(deps, queue);
    const lookup = await deps.app.store.jobLookup({ queue, jid, nowMs: deps.now() });
    if (!lookup) throw notFound(`No job '${jid}' in queue '${queue}' (finished, deleted, or deeper than the first ${LOOKUP_READY_SCAN} ready jobs).`);
    sendJson(res, 200, jobInfoOf(queue, jid, lookup));
  });

  router.post('/api/jobs/:jid/retry', async (ctx) => {
    const { queue, jid, states } = target(ctx, RETRY_FROM);
    await knownQueue(deps, queue);
    for (const from of states) {
      if (await deps.app.store.jobRetryNow({ queue, jid, from, nowMs: deps.now() })) {
        deps.audit('dashboard_job_retry', { queue, jid, from, via: ctx.caller?.via, by: ctx.caller?.user });
        return sendJson(ctx.res, 200, { retried: true, queue, jid, from });
      }
    }
    throw notFound(`No ${states.join(' or ')} job '${jid}' in queue '${queue}' (already retried or deleted?).`);
  });

  router.delete('/api/jobs/:jid', async (ctx) => {
    const { queue, jid, states } = target(ctx, DELETE_FROM);
    await knownQueue(deps, queue);
    for (const from of states) {
      if (await deps.app.store.jobDelete({ queue, jid, from })) {
        deps.audit('dashboard_job_delete', { queue, jid, from, via: ctx.caller?.via, by: ctx.caller?.user });
        return sendJson(ctx.res, 200, { deleted: true, queue, jid, from });
      }
    }
    throw notFound(`No ${states.join(' or ')} job '${jid}' in queue '${queue}' (already retried or deleted?).`);
  });
}

/** One job by jid, in whatever state it is (the state in the answer says which). */
async function findByJid(deps: ApiDeps, queue: string, jid: string): Promise<Record<string, unknown>> {
  const lookup = await deps.app.store.jobLookup({ queue, jid, nowMs: deps.now() });
  const listed = lookup && lookup.state !== 'completed' ? [present({ jid, raw: lookup.raw ?? '', score: lookup.score })] : [];
  return { queue, state: lookup?.state ?? null, total: listed.length, offset: 0, limit: 1, jobs: listed, nextCursor: null, search: { jid, found: lookup !== undefined } };
}

/** A filtered page: at most SCAN_MAX entries read per request; the cursor continues the scan where it stopped. */
async function search(deps: ApiDeps, p: { queue: string; state: JobState; offset: number; limit: number; filter: JobFilter }): Promise<Record<string, unknown>> {
  const [sizes, found] = await Promise.all([deps.app.store.queueSizes(p.queue), scanJobs(deps.app.store, { queue: p.queue, state: p.state, from: p.offset, filter: p.filter, want: p.limit, max: SCAN_MAX })]);
  const total = sizes[SIZE_OF[p.state]];
  const next = found.next !== null && found.next < total ? found.next : null;
  return { queue: p.queue, state: p.state, total, offset: p.offset, limit: p.limit, jobs: found.jobs.map(present), nextCursor: next === null ? null : encodeCursor(next), scan: { from: p.offset, scanned: found.scanned, bound: SCAN_MAX, ...p.filter } };
}

/** A queue the store has seen; asking a store about any other name could create it (the memory store does). */
export async function knownQueue(deps: ApiDeps, queue: string): Promise<void> {
  const queues = await deps.app.store.queueList();
  if (!queues.includes(queue)) throw notFound(`No queue '${queue}'. Known queues: ${queues.join(', ') || '(none yet)'}.`);
}

function target<S extends string>(ctx: RouteContext, allowed: readonly S[]): { queue: string; jid: string; states: S[] } {
  const jid = checkJid(ctx.params.jid);
  const queue = queueName(ctx.query.get('queue'), 'queue (query parameter)');
  const state = ctx.query.get('state');
  if (state === null || state === '') return { queue, jid, states: [...allowed] };
  if (!(allowed as readonly string[]).includes(state)) throw badRequest(`state '${state.slice(0, 40)}' is not one of ${allowed.join(', ')} for this action.`);
  return { queue, jid, states: [state as S] };
}

/** The payload parsed for the page; a payload that is not JSON (a malformed job in the dead set) stays raw. */
export function present(job: StoredJob): { jid: string; score: number | null; payload: unknown; raw: string | null } {
  try {
    return { jid: job.jid, score: job.score ?? null, payload: JSON.parse(job.raw) as unknown, raw: null };
  } catch {
    return { jid: job.jid, score: job.score ?? null, payload: null, raw: job.raw };
  }
}
