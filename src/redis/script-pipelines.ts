import { ReplyError, type ChainableCommander } from 'ioredis';
import { EnqueueNotReplicatedError } from '../errors.js';
import { isCluster, type RedisClient } from './connection.js';
import { execPipeline } from './pipeline.js';
import { runScript } from './scripts.js';

/**
 * One script call of a round trip; `queue` says which slot (so which cluster node) it goes to, `jids` which jobs a
 * push carries (named by EnqueueNotReplicatedError).
 */
export interface ScriptCall {
  queue: string;
  script: 'push' | 'pushMany' | 'pushReady' | 'queued';
  keys: string[];
  args: (string | number)[];
  jids?: string[];
}

/** A call's own outcome: the error Redis answered it with, or its reply. */
export type CallReply = [error: Error | null, reply: unknown];

/** redis.durableEnqueue, with the host its errors name. */
export interface Replication {
  replicas: number;
  timeoutMs: number;
  host: string;
}

/**
 * A pipeline of writes followed by WAIT on the same connection, so on the node that ran them (WAIT counts the
 * replicas that have this connection's writes); rejects with EnqueueNotReplicatedError if too few confirm in time.
 */
export async function execReplicated(pipeline: ChainableCommander, replication: Replication, jids: string[]): Promise<unknown[]> {
  const { replicas, timeoutMs, host } = replication;
  const replies = await execPipeline(pipeline.wait(replicas, timeoutMs));
  const acknowledged = Number(replies.pop());
  if (acknowledged < replicas) throw new EnqueueNotReplicatedError(jids, host, replicas, acknowledged, timeoutMs);
  return replies;
}

/**
 * Indexes of `items` by the connection their commands must share: all of them on one Redis; one group per queue
 * (one slot, so one node) on a cluster, where a pipeline may touch one node only.
 */
export function groupBySlot<T>(redis: RedisClient, items: readonly T[], queueOf: (item: T) => string): number[][] {
  if (!isCluster(redis)) return items.length === 0 ? [] : [items.map((_, i) => i)];
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const indexes = groups.get(queueOf(item));
    if (indexes) indexes.push(i);
    else groups.set(queueOf(item), [i]);
  });
  return [...groups.values()];
}

/**
 * Script calls, each with its own outcome, in call order: one pipeline (one round trip) on one Redis; on a cluster
 * one pipeline per slot, all sent at once. Only Redis's own answer to a script (a ReplyError) is that call's; a lost
 * connection, an unsent pipeline or a slot that moved is the whole round trip's, for DeadlineCalls to wait, resend
 * or report. With `replication` (a push under durableEnqueue) each pipeline ends with WAIT on its connection, right
 * after the writes it covers; the calls of a pipeline whose WAIT confirmed too few replicas get an
 * EnqueueNotReplicatedError naming that pipeline's jobs.
 */
export async function execGrouped(redis: RedisClient, calls: ScriptCall[], replication?: Replication): Promise<CallReply[]> {
  const replies = new Array<CallReply>(calls.length);
  await Promise.all(
    groupBySlot(redis, calls, (call) => call.queue).map(async (indexes) => {
      if (indexes.length === 1 && !replication) return (replies[indexes[0]!] = await execAlone(redis, calls[indexes[0]!]!));
      const pipeline = redis.pipeline();
      for (const i of indexes) runScript(pipeline, calls[i]!.script, calls[i]!.keys, calls[i]!.args);
      if (replication) pipeline.wait(replication.replicas, replication.timeoutMs);
      const groupReplies = (await pipeline.exec()) ?? [];
      for (const [error] of groupReplies) if (error && !isCallsOwn(error)) throw error;
      let notReplicated: EnqueueNotReplicatedError | undefined;
      if (replication) {
        const [waitError, acknowledged] = groupReplies.pop() ?? [new Error('no reply to WAIT in the pipeline')];
        if (waitError) throw waitError;
        const { replicas, timeoutMs, host } = replication;
        const jids = indexes.flatMap((i) => calls[i]!.jids ?? []);
        if (Number(acknowledged) < replicas) notReplicated = new EnqueueNotReplicatedError(jids, host, replicas, Number(acknowledged), timeoutMs);
      }
      indexes.forEach((callIndex, j) => {
        const [error, reply] = groupReplies[j] ?? [new Error('no reply to this call in the pipeline'), null];
        replies[callIndex] = [error ?? notReplicated ?? null, reply];
      });
    }),
  );
  return replies;
}

/** One call on its own, without a pipeline's bookkeeping (the common case: the pushes of a tick for one queue). */
async function execAlone(redis: RedisClient, call: ScriptCall): Promise<CallReply> {
  try {
    return [null, await runScript(redis, call.script, call.keys, call.args)];
  } catch (error) {
    if (error instanceof Error && isCallsOwn(error)) return [error, null];
    throw error;
  }
}

/** Script calls' replies in call order (as execGrouped), or the first error of any: for reads such as `queued`. */
export async function execGroupedValues(redis: RedisClient, calls: ScriptCall[]): Promise<unknown[]> {
  return (await execGrouped(redis, calls)).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Redis refused this script call itself (not a redirect or a cluster in failover, which DeadlineCalls handles). */
function isCallsOwn(error: Error): boolean {
  return error instanceof (ReplyError as ErrorConstructor) && !/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.test(error.message);
}
