import type { DedupPushParams, JobPushParams, JobPushResult } from '../store/job-store.js';
import { newCookie } from './dedup-cookie.js';

/** push-4.lua's job arguments: payload, dedup key, the cookie if the key is new, now, options (see push-4.lua). */
export function pushJobArgs(p: JobPushParams): (string | number)[] {
  const d = p.dedup;
  if (!d) return [p.raw, '', '', p.nowMs, ''];
  return [p.raw, d.key, newCookie({ strategy: d.strategy, ownerJid: p.jid, expiresAtMs: p.nowMs + d.ttlMs, wal: d.wal }), p.nowMs, `${d.idempotent ? 1 : 0}${d.preserveLatestWal ? 1 : 0}`];
}

/** Where a job of a push-many call finds its answer: the reply at `at`; for a folded twin, its anchor's reply. */
export interface PushManyPlace {
  at: number;
  /** Set on a folded twin: the jid of the job it was folded into, whose reply is at `at`. */
  foldedInto?: string;
}

interface Anchor {
  job: JobPushParams;
  /** Index of its options argument, which gets the count of twins folded into it. */
  optionsAt: number;
  at: number;
  folded: number;
}

/**
 * push-many-4.lua's arguments for jobs with an idempotency key, due now, in order: each job's as push-4.lua's, with a
 * third option letter '1' on the jobs whose key comes more than once in the call (only those keys' cookies the
 * script keeps for folding).
 *
 * A quiet twin is not sent at all: an idempotent job whose key the call's previous job of that key (its anchor)
 * carries, with the same `nowMs`, adding no WAL position. Right after its anchor the cookie is live at that `now`
 * (the anchor claimed it with a positive TTL, or found it live), so the twin is certainly absorbed by the cookie's
 * owner, adds one to its counts and raises nothing: the anchor's options end with how many such twins it stands for
 * and the script counts them in one step; each twin's result comes from the anchor's reply (foldedResult). A burst
 * of identical enqueues then costs one job on the wire, not one per enqueue.
 */
export function pushManyArgs(jobs: JobPushParams[]): { args: (string | number)[]; places: PushManyPlace[] } {
  const perKey = new Map<string, number>();
  for (const { dedup } of jobs) perKey.set(dedup!.key, (perKey.get(dedup!.key) ?? 0) + 1);
  const args: (string | number)[] = [];
  const places: PushManyPlace[] = [];
  const anchors = new Map<string, Anchor>();
  const countFolded = (anchor: Anchor | undefined): void => {
    if (anchor?.folded) args[anchor.optionsAt] += String(anchor.folded);
  };
  let at = 0;
  for (const p of jobs) {
    const dedup = p.dedup!;
    const anchor = anchors.get(dedup.key);
    if (anchor && isQuietTwin(dedup, p.nowMs, anchor.job)) {
      anchor.folded++;
      places.push({ at: anchor.at, foldedInto: anchor.job.jid });
      continue;
    }
    countFolded(anchor);
    const own = pushJobArgs(p);
    if (perKey.get(dedup.key)! > 1) own[4] += '1';
    anchors.set(dedup.key, { job: p, optionsAt: args.length + 4, at, folded: 0 });
    for (const arg of own) args.push(arg);
    places.push({ at: at++ });
  }
  for (const anchor of anchors.values()) countFolded(anchor);
  return { args, places };
}

function isQuietTwin(dedup: DedupPushParams, nowMs: number, anchor: JobPushParams): boolean {
  return dedup.idempotent && nowMs === anchor.nowMs && !(dedup.preserveLatestWal && hasEntries(dedup.wal));
}

function hasEntries(wal: Record<string, string> | undefined): boolean {
  for (const _ in wal) return true;
  return false;
}

/** A push script's reply for one job: 1 pushed, "1|<owner>" pushed as a duplicate, "0|<owner>|<raised dbs>" absorbed. */
export function pushResult(reply: number | string, jid: string): JobPushResult {
  if (reply === 1) return { pushed: true, jid };
  const [pushed, owner = '', raised] = String(reply).split('|');
  if (pushed === '1') return { pushed: true, jid, duplicateOf: owner };
  return { pushed: false, jid, duplicateOf: owner, walRaised: raised ? raised.split(',') : [] };
}

/** A folded twin's result, from its anchor's (successful) reply: absorbed by the owner of the cookie the anchor left. */
export function foldedResult(anchorReply: number | string, anchorJid: string, jid: string): JobPushResult {
  const anchor = pushResult(anchorReply, anchorJid);
  return { pushed: false, jid, duplicateOf: anchor.duplicateOf ?? anchor.jid, walRaised: [] };
}
