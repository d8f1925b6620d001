import { InvalidArgsError } from '../errors.js';
import { assertJsonArgs } from '../jobs/args.js';
import type { WorkerDefinition } from '../jobs/worker.js';
import { hashIdempotencyString, idempotencyString } from './idempotency-key.js';

/** The readable string and the key a job of this worker with these args deduplicates on. */
export interface JobIdempotency {
  string: string;
  key: string;
}

/**
 * The one place a job's idempotency is derived (enqueue, `lagless dedup show`, the dashboard): the worker's
 * `idempotencyArgs` applied and checked, then the canonical string and its hash.
 */
export function jobIdempotency(worker: WorkerDefinition, args: unknown): Readonly<JobIdempotency> {
  const hashed = worker.options.idempotencyArgs ? pickIdempotencyArgs(worker, args) : args;
  const string = idempotencyString(worker.name, hashed);
  let last = lastOfWorker.get(worker);
  if (last?.string !== string) lastOfWorker.set(worker, (last = { string, key: hashIdempotencyString(string) }));
  return last;
}

/**
 * Each worker's last string and its hash. Deduplication is for bursts of identical enqueues: there, all but the
 * first skip the hash (SHA-256 and base64url, about a tenth of an absorbed enqueue's Node CPU) for one string
 * comparison, which is all a run of distinct args pays.
 */
const lastOfWorker = new WeakMap<WorkerDefinition, JobIdempotency>();

function pickIdempotencyArgs(worker: WorkerDefinition, args: unknown): unknown {
  const picked = worker.options.idempotencyArgs!(args as never);
  try {
    assertJsonArgs(worker.name, picked);
  } catch (error) {
    throw new InvalidArgsError(worker.name, `idempotencyArgs returned a value JSON cannot hold (${(error as InvalidArgsError).reason}); return plain JSON data`);
  }
  return picked;
}
