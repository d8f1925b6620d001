import { historyMinutes } from './job-record-codec.js';
import { HISTORY_RETENTION_MS, minuteOf, PROGRESS_TTL_MS, type JobEventMessage, type JobOutcomeRecord, type MinuteCounts } from './job-records.js';

interface RecordEntry {
  record?: JobOutcomeRecord;
  progress?: string;
  expiresAtMs: number;
}

/**
 * MemoryJobStore's results, progress, events and minute history, with the Redis store's bounds: a record expires
 * (read as absent, swept at most once a minute), minutes older than HISTORY_RETENTION_MS are dropped, events go to
 * the listeners of this process and are not kept.
 */
export class MemoryJobRecords {
  private readonly records = new Map<string, RecordEntry>();
  private readonly minutes = new Map<string, Map<number, MinuteCounts>>();
  private readonly listeners = new Set<(event: JobEventMessage) => void>();
  private nextSweepMs = 0;

  count(queue: string, field: 'processed' | 'failed', n: number, nowMs: number): void {
    let byMinute = this.minutes.get(queue);
    if (!byMinute) this.minutes.set(queue, (byMinute = new Map()));
    const minuteMs = minuteOf(nowMs);
    let counts = byMinute.get(minuteMs);
    if (!counts) {
      byMinute.set(minuteMs, (counts = { minuteMs, processed: 0, failed: 0 }));
      for (const old of byMinute.keys()) if (old <= minuteMs - HISTORY_RETENTION_MS) byMinute.delete(old);
    }
    counts[field] += n;
  }

  history(p: { queue: string; fromMs: number; toMs: number }): MinuteCounts[] {
    const byMinute = this.minutes.get(p.queue);
    return historyMinutes(p.fromMs, p.toMs).map((minuteMs) => ({ ...(byMinute?.get(minuteMs) ?? { minuteMs, processed: 0, failed: 0 }) }));
  }

  progress(p: { queue: string; jid: string; value: string; nowMs: number }): void {
    const entry = this.entry(p.queue, p.jid, p.nowMs);
    entry.progress = p.value;
    entry.expiresAtMs = p.nowMs + PROGRESS_TTL_MS;
  }

  finished(p: { queue: string; jid: string; nowMs: number; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): void {
    if (p.record) {
      const entry = this.entry(p.queue, p.jid, p.nowMs);
      entry.record = structuredClone(p.record.value);
      entry.expiresAtMs = p.nowMs + p.record.ttlMs;
    }
    const event = p.event;
    // Delivered after this call returns, as a message from Redis would be.
    if (event) for (const listener of this.listeners) queueMicrotask(() => listener(structuredClone(event)));
  }

  /** The live record of a job: its outcome (keepResult) and last progress. */
  get(queue: string, jid: string, nowMs: number): RecordEntry | undefined {
    const entry = this.records.get(recordKey(queue, jid));
    return entry && entry.expiresAtMs > nowMs ? entry : undefined;
  }

  subscribe(listener: (event: JobEventMessage) => void): () => Promise<void> {
    const own = (event: JobEventMessage): void => listener(event);
    this.listeners.add(own);
    return async () => void this.listeners.delete(own);
  }

  close(): void {
    this.listeners.clear();
  }

  private entry(queue: string, jid: string, nowMs: number): RecordEntry {
    this.sweep(nowMs);
    const key = recordKey(queue, jid);
    let entry = this.get(queue, jid, nowMs);
    if (!entry) this.records.set(key, (entry = { expiresAtMs: 0 }));
    return entry;
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepMs) return;
    this.nextSweepMs = nowMs + 60_000;
    for (const [key, entry] of this.records) if (entry.expiresAtMs <= nowMs) this.records.delete(key);
  }
}

function recordKey(queue: string, jid: string): string {
  return `${queue}\n${jid}`;
}
