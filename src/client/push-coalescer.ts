import { EnqueueNotReplicatedError, EnqueueOutcomeUnknownError, PushRefusedError } from '../errors.js';
import { encodePayload, type JobPayload } from '../jobs/payload.js';
import { isDueNow, type JobPushParams, type JobPushResult, type JobStore } from '../store/job-store.js';

/** Most jobs in one coalesced store call: bounds its reply, and how long its scripts hold Redis. */
const MAX_BATCH = 1000;

interface Pending {
  params: JobPushParams;
  job: JobPayload;
  resolve: (result: JobPushResult) => void;
  reject: (error: unknown) => void;
}

/**
 * While none of this process's push calls is in flight, the first EARLY_BATCH enqueues of a tick go out at once
 * instead of at the tick's end: Redis runs them while Node builds the rest. The callers then wake in two groups,
 * one per reply, and each group's next enqueues make one call per tick while the other group's call is in flight,
 * so Node and Redis work at the same time instead of in turns (20 concurrent callers: 1.5–1.8× the jobs per second
 * of one call per tick, with about 10 jobs per call instead of 20).
 */
const EARLY_BATCH = 8;

/**
 * Single enqueues issued in the same tick go to the store as one call: one round trip for all of them (or two, see
 * EARLY_BATCH). "The same tick" is everything that runs before the event loop next waits (process.nextTick fires
 * once the promise jobs queued so far, and those they queue, have run): the callers woken by one reply from Redis,
 * or a loop of calls not awaited one by one. Nothing waits for a timer, so an enqueue alone in its tick goes out as
 * it always did, through jobPush, at no cost. Each caller gets its own job's outcome, exactly as if pushed alone in
 * this order: calls leave in order on the queue's one connection, and jobPushEach pushes in order, so a twin of a
 * job pushed earlier in the batch or in an earlier call is absorbed by it (or, not idempotent, pushed as its
 * duplicate), and raises the cookie's WAL positions to the highest of both.
 *
 * A burst of identical enqueues costs one job on the wire: a quiet twin is not sent at all (see fold). A job is
 * encoded when its call is built, so a folded twin is never encoded either: its payload is the job as it was when
 * its enqueue reached the store, before the end of that tick.
 */
export class PushCoalescer {
  private waiting: Pending[] = [];
  private inFlight = 0;

  constructor(private readonly store: JobStore) {}

  /** `params.raw` is left empty by the caller: `job` is encoded into it here, if it is sent. */
  push(params: JobPushParams, job: JobPayload): Promise<JobPushResult> {
    return new Promise((resolve, reject) => {
      const waiting = this.waiting.push({ params, job, resolve, reject });
      if (waiting === 1) process.nextTick(() => this.flush());
      else if (waiting === EARLY_BATCH && this.inFlight === 0) this.flush();
    });
  }

  private flush(): void {
    if (this.waiting.length === 0) return; // sent early, nothing came after
    const batch = this.waiting.splice(0, MAX_BATCH);
    if (this.waiting.length > 0) process.nextTick(() => this.flush());
    this.send(batch);
  }

  /** The one place where single enqueues reach the store. A call stops counting as in flight before its callers wake. */
  private send(batch: Pending[]): void {
    this.inFlight++;
    void (batch.length === 1 ? this.sendOne(batch[0]!) : this.sendMany(batch));
  }

  private async sendOne(only: Pending): Promise<void> {
    let result: JobPushResult;
    try {
      only.params.raw = encodePayload(only.job);
      result = await this.store.jobPush(only.params);
    } catch (error) {
      this.inFlight--;
      return only.reject(error);
    }
    this.inFlight--;
    only.resolve(result);
  }

  private async sendMany(batch: Pending[]): Promise<void> {
    const { sent, answeredBy } = fold(batch);
    let replies: (JobPushResult | Error)[];
    try {
      for (const entry of sent) entry.params.raw = encodePayload(entry.job);
      replies = await this.store.jobPushEach(sent.map((entry) => entry.params));
    } catch (error) {
      this.inFlight--;
      for (const entry of batch) entry.reject(ownError(error, entry.params.jid));
      return;
    }
    this.inFlight--;
    batch.forEach((entry, i) => {
      const outcome = replies[answeredBy[i]!]!;
      if (outcome instanceof Error) entry.reject(ownError(outcome, entry.params.jid));
      else if (sent[answeredBy[i]!] === entry) entry.resolve(outcome);
      // A folded twin is absorbed right after its anchor, by the owner of the cookie the anchor claimed or met.
      else entry.resolve({ pushed: false, jid: entry.params.jid, duplicateOf: outcome.duplicateOf ?? outcome.jid, walRaised: [] });
    });
  }
}

/**
 * Quiet twins, folded into the push before them: an idempotent job due now whose key the batch's previous job of
 * that key (its anchor) carries, due now at the same `nowMs`, adding no WAL position. Right after its anchor the
 * cookie is live at that `now` (the anchor claimed it with a positive TTL, or found it live), so the twin is
 * certainly absorbed by the cookie's owner, adds one to its counts and raises nothing: the anchor carries how many
 * such twins it stands for (JobPushParams.twins) and the store counts them in one step.
 */
function fold(batch: Pending[]): { sent: Pending[]; answeredBy: number[] } {
  const sent: Pending[] = [];
  /** For each job of the batch, the index in `sent` of the push that answers it: its own, or its anchor's. */
  const answeredBy: number[] = [];
  let anchors: Map<string, number> | undefined; // key → index in `sent`, made for the first job with a key
  for (const entry of batch) {
    const { dedup, nowMs } = entry.params;
    if (dedup && isDueNow(entry.params)) {
      const anchor = (anchors ??= new Map()).get(dedup.key);
      if (anchor !== undefined && sent[anchor]!.params.nowMs === nowMs && dedup.idempotent && !(dedup.preserveLatestWal && hasEntries(dedup.wal))) {
        const anchorParams = sent[anchor]!.params;
        anchorParams.twins = (anchorParams.twins ?? 0) + 1;
        answeredBy.push(anchor);
        continue;
      }
      anchors.set(dedup.key, sent.length);
    }
    answeredBy.push(sent.length);
    sent.push(entry);
  }
  return { sent, answeredBy };
}

function hasEntries(wal: Record<string, string> | undefined): boolean {
  for (const _ in wal) return true;
  return false;
}

/**
 * A lost reply is about every job of the call, a WAIT too few replicas confirmed about every job of its pipeline, a
 * refused push about its folded twins too; each caller is told about its own job (the jid it can look up).
 */
function ownError(error: unknown, jid: string): unknown {
  if (error instanceof PushRefusedError && error.jid !== jid) return new PushRefusedError(jid, error.reason);
  const aboutOthers = (jids: readonly string[]): boolean => jids.length !== 1 || jids[0] !== jid;
  if (error instanceof EnqueueOutcomeUnknownError && aboutOthers(error.jids)) return new EnqueueOutcomeUnknownError([jid], error.host, error.timeoutMs);
  if (error instanceof EnqueueNotReplicatedError && aboutOthers(error.jids)) return new EnqueueNotReplicatedError([jid], error.host, error.replicas, error.acknowledged, error.timeoutMs);
  return error;
}
