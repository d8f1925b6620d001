import { Queue, type JobsOptions } from 'bullmq';
import type { BenchContext } from '../context.js';

export const BULL_QUEUE = 'bench';
export const BULL_JOB = 'noop';

/** Completed jobs are removed, as lagless removes a job on ack, so memory and work per job are comparable. */
export const BULL_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };

export interface BullSetup {
  connection: { host: string; port: number; maxRetriesPerRequest: null };
  prefix: string;
}

/** Connection options (BullMQ opens its own connections from them) and a key prefix of our own. */
export function bullSetup(ctx: BenchContext, label: string): BullSetup {
  return { connection: { host: '127.0.0.1', port: ctx.port, maxRetriesPerRequest: null }, prefix: ctx.prefix(`bull-${label}`) };
}

export async function bullQueue(setup: BullSetup): Promise<Queue> {
  const queue = new Queue(BULL_QUEUE, { connection: setup.connection, prefix: setup.prefix });
  await queue.waitUntilReady();
  return queue;
}

export function bulkJobs(args: { n: number }[]): { name: string; data: { n: number }; opts: JobsOptions }[] {
  return args.map((data) => ({ name: BULL_JOB, data, opts: BULL_JOB_OPTIONS }));
}
