import { HISTORY_RETENTION_MS, MINUTE_MS, minuteOf, type JobEventMessage, type JobLookup, type JobLookupState, type JobOutcomeRecord } from './job-records.js';

const STATES = new Set<JobLookupState>(['ready', 'scheduled', 'retry', 'dead', 'active', 'completed']);
const EVENTS = new Set(['completed', 'failed', 'dead']);

/** Start of every minute from `fromMs` to `toMs`, no further back than HISTORY_RETENTION_MS before `toMs`. */
export function historyMinutes(fromMs: number, toMs: number): number[] {
  const last = minuteOf(toMs);
  const first = Math.max(minuteOf(fromMs), last - HISTORY_RETENTION_MS + MINUTE_MS);
  const minutes: number[] = [];
  for (let m = first; m <= last; m += MINUTE_MS) minutes.push(m);
  return minutes;
}

/** The lookup script's reply {state, payload, score, record, progress} ({} = not found). */
export function lookupOf(reply: string[]): JobLookup | undefined {
  const [state, raw, score, record, progress] = reply;
  if (!state || !STATES.has(state as JobLookupState)) return undefined;
  const lookup: JobLookup = { state: state as JobLookupState };
  if (raw) lookup.raw = raw;
  if (score) lookup.score = Number(score);
  if (record) {
    const parsed = parseJson(record);
    if (parsed && typeof parsed === 'object') lookup.record = parsed as JobOutcomeRecord;
  }
  if (progress) lookup.progress = progress;
  return lookup;
}

/** A message from a queue's events channel; anything else published there (another version, a typo) is ignored. */
export function parseEvent(message: string): JobEventMessage | undefined {
  const value = parseJson(message) as Partial<JobEventMessage> | undefined;
  if (!value || typeof value !== 'object' || !EVENTS.has(value.event as string) || typeof value.jid !== 'string' || typeof value.queue !== 'string') return undefined;
  return value as JobEventMessage;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
