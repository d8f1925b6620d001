import type { JobPushParams, JobPushResult } from '../store/job-store.js';
import { newCookie } from './dedup-cookie.js';

/** push-4.lua's job arguments: payload, dedup key, the cookie if the key is new, now, options (see push-4.lua). */
export function pushJobArgs(p: JobPushParams): (string | number)[] {
  const d = p.dedup;
  if (!d) return [p.raw, '', '', p.nowMs, ''];
  return [p.raw, d.key, newCookie({ strategy: d.strategy, ownerJid: p.jid, expiresAtMs: p.nowMs + d.ttlMs, wal: d.wal }), p.nowMs, `${d.idempotent ? 1 : 0}${d.preserveLatestWal ? 1 : 0}`];
}

/**
 * push-many-4.lua's arguments for jobs with an idempotency key, due now, in order: each job's as push-4.lua's, with a
 * third option letter '1' on the jobs whose key comes more than once in the call or that stand for folded twins
 * (only those keys' cookies the script keeps for folding), then the count of those twins (JobPushParams.twins).
 */
export function pushManyArgs(jobs: JobPushParams[]): (string | number)[] {
  const perKey = new Map<string, number>();
  for (const { dedup } of jobs) perKey.set(dedup!.key, (perKey.get(dedup!.key) ?? 0) + 1);
  const args: (string | number)[] = [];
  for (const p of jobs) {
    const own = pushJobArgs(p);
    if (p.twins) own[4] += `1${p.twins}`;
    else if (perKey.get(p.dedup!.key)! > 1) own[4] += '1';
    for (const arg of own) args.push(arg);
  }
  return args;
}

/** A push script's reply for one job: 1 pushed, "1|<owner>" pushed as a duplicate, "0|<owner>|<raised dbs>" absorbed. */
export function pushResult(reply: number | string, jid: string): JobPushResult {
  if (reply === 1) return { pushed: true, jid };
  const [pushed, owner = '', raised] = String(reply).split('|');
  if (pushed === '1') return { pushed: true, jid, duplicateOf: owner };
  return { pushed: false, jid, duplicateOf: owner, walRaised: raised ? raised.split(',') : [] };
}
