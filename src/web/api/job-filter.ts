import type { JobState, JobStore, StoredJob } from '../../store/job-store.js';
import { badRequest } from '../http.js';

/** Most jobs one request reads while filtering (search, bulk "all matching"): the bound that keeps pages fast. */
export const SCAN_MAX = 2000;
const PAGE = 500;

export interface JobFilter {
  /** Exact worker name (`class` in the payload). */
  class?: string;
  /** Substring of the job's arguments as JSON (or of the raw text of a payload that is not JSON). */
  text?: string;
}

export function jobFilter(query: { class?: unknown; text?: unknown }): JobFilter {
  const filter: JobFilter = {};
  for (const key of ['class', 'text'] as const) {
    const value = query[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' || value.length > 200) throw badRequest(`${key === 'text' ? 'q' : 'class'} must be text of at most 200 characters.`);
    filter[key] = value;
  }
  return filter;
}

export function isFiltered(filter: JobFilter): boolean {
  return filter.class !== undefined || filter.text !== undefined;
}

export function matches(job: StoredJob, filter: JobFilter): boolean {
  let payload: { class?: unknown; args?: unknown } | undefined;
  try {
    payload = JSON.parse(job.raw) as { class?: unknown; args?: unknown };
  } catch {
    payload = undefined;
  }
  if (filter.class !== undefined && payload?.class !== filter.class) return false;
  if (filter.text !== undefined) {
    const haystack = payload && typeof payload === 'object' ? (JSON.stringify(payload.args) ?? '') : job.raw;
    if (!haystack.includes(filter.text)) return false;
  }
  return true;
}

export interface ScanResult {
  jobs: StoredJob[];
  /** Entries read, from rank `from`. */
  scanned: number;
  /** Rank to continue from, or null when the end of the set was reached. */
  next: number | null;
}

/**
 * Read jobs of one state from rank `from`, a page at a time, keeping those that match, until `want` matched or
 * `max` entries were read. Each page is one ranged read (O(log N + page)), so a million jobs cost a request no
 * more than `max` entries.
 */
export async function scanJobs(store: JobStore, p: { queue: string; state: JobState; from: number; filter: JobFilter; want: number; max: number }): Promise<ScanResult> {
  const jobs: StoredJob[] = [];
  let scanned = 0;
  while (scanned < p.max && jobs.length < p.want) {
    const limit = Math.min(PAGE, p.max - scanned);
    const page = await store.jobList({ queue: p.queue, state: p.state, offset: p.from + scanned, limit });
    for (const [i, job] of page.entries()) {
      if (!matches(job, p.filter)) continue;
      jobs.push(job);
      if (jobs.length === p.want) return { jobs, scanned: scanned + i + 1, next: p.from + scanned + i + 1 };
    }
    scanned += page.length;
    if (page.length < limit) return { jobs, scanned, next: null };
  }
  return { jobs, scanned, next: p.from + scanned };
}
