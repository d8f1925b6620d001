import type { RedisClient } from './connection.js';
import { historyMinutes, lookupOf, parseEvent } from '../store/job-record-codec.js';
import { LOOKUP_READY_SCAN, PROGRESS_TTL_MS, type JobEventMessage, type JobLookup, type JobOutcomeRecord, type MinuteCounts } from '../store/job-records.js';
import type { RedisKeys } from './keys.js';
import { execPipeline } from './pipeline.js';
import { runScript } from './scripts.js';

export interface RedisJobRecordsDeps {
  redis: RedisClient;
  keys: RedisKeys;
  /** Runs a command under the store's deadline. */
  call: <T>(send: () => Promise<T>) => Promise<T>;
  /** A new connection for a subscriber (a subscribed connection can send nothing else). */
  connect: () => RedisClient;
}

/**
 * RedisJobStore's results, progress, events and minute history. One hash per job record (PEXPIRE), one hash per
 * queue minute (PEXPIRE, written by the ack and later scripts), and a pub/sub channel per queue: every key in the
 * queue's `{queue}` slot, and nothing that grows without a bound.
 */
export class RedisJobRecords {
  private readonly subscribers = new Set<RedisClient>();

  constructor(private readonly deps: RedisJobRecordsDeps) {}

  async history(p: { queue: string; fromMs: number; toMs: number }): Promise<MinuteCounts[]> {
    const minutes = historyMinutes(p.fromMs, p.toMs);
    if (minutes.length === 0) return [];
    const pipeline = this.deps.redis.pipeline();
    for (const minuteMs of minutes) pipeline.hmget(this.deps.keys.minuteStats(p.queue, minuteMs), 'processed', 'failed');
    const replies = (await this.deps.call(() => execPipeline(pipeline))) as (string | null)[][];
    return minutes.map((minuteMs, i) => ({ minuteMs, processed: Number(replies[i]![0] ?? 0), failed: Number(replies[i]![1] ?? 0) }));
  }

  async progress(p: { queue: string; jid: string; value: string }): Promise<void> {
    const key = this.deps.keys.jobRecord(p.queue, p.jid);
    await this.deps.call(() => execPipeline(this.deps.redis.multi().hset(key, 'progress', p.value).pexpire(key, PROGRESS_TTL_MS)));
  }

  async finished(p: { queue: string; jid: string; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): Promise<void> {
    if (!p.record && !p.event) return;
    const key = this.deps.keys.jobRecord(p.queue, p.jid);
    const multi = this.deps.redis.multi();
    if (p.record) multi.hset(key, 'record', JSON.stringify(p.record.value)).pexpire(key, p.record.ttlMs);
    if (p.event) multi.publish(this.deps.keys.events(p.queue), JSON.stringify(p.event));
    await this.deps.call(() => execPipeline(multi));
  }

  async lookup(p: { queue: string; jid: string }): Promise<JobLookup | undefined> {
    const k = this.deps.keys.queue(p.queue);
    const keys = [this.deps.keys.jobRecord(p.queue, p.jid), k.active, k.jobs, k.schedule, k.retry, k.dead, k.ready];
    return lookupOf(await this.deps.call(() => runScript<string[]>(this.deps.redis, 'lookup', keys, [p.jid, LOOKUP_READY_SCAN])));
  }

  async subscribe(listener: (event: JobEventMessage) => void): Promise<() => Promise<void>> {
    const subscriber = this.deps.connect();
    this.subscribers.add(subscriber);
    let open = true;
    subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
      const event = open ? parseEvent(message) : undefined;
      if (event) listener(event);
    });
    // Messages already read from the socket are dropped too: nothing reaches the listener after this resolves.
    const unsubscribe = async (): Promise<void> => {
      open = false;
      this.subscribers.delete(subscriber);
      subscriber.disconnect();
    };
    try {
      // ioredis subscribes again by itself after a reconnect.
      await this.deps.call(() => subscriber.psubscribe(this.deps.keys.eventsPattern()));
    } catch (error) {
      await unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  close(): void {
    for (const subscriber of this.subscribers) subscriber.disconnect();
    this.subscribers.clear();
  }
}
