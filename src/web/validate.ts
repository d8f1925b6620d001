import { QUEUE_PATTERN } from '../jobs/worker-options.js';
import type { JobState } from '../store/job-store.js';
import { badRequest } from './http.js';

/** Input checks for the API: each names the parameter, what was sent and what would be accepted. */

const JID = /^[A-Za-z0-9_-]{1,64}$/;
const FLAG_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const PERSON = /^[\p{L}\p{N} ._@'+-]{1,64}$/u;
export const JOB_STATES = ['ready', 'scheduled', 'retry', 'dead', 'active'] as const;

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? 'nothing' : `'${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`;
}

export function queueName(value: string | null | undefined, what = 'queue'): string {
  if (value === null || value === undefined || value === '') throw badRequest(`${what} is required (a queue name such as 'default'); GET /api/queues lists them.`);
  if (!QUEUE_PATTERN.test(value)) throw badRequest(`${what} ${show(value)} is not a queue name: use 1-100 letters, digits, _ . or -.`);
  return value;
}

export function jobState(value: string | null | undefined, fallback?: JobState): JobState {
  if ((value === null || value === undefined || value === '') && fallback) return fallback;
  if (!(JOB_STATES as readonly string[]).includes(value ?? '')) throw badRequest(`state ${show(value)} is not one of ${JOB_STATES.join(', ')}.`);
  return value as JobState;
}

export function jid(value: string | undefined): string {
  if (value === undefined || !JID.test(value)) throw badRequest(`Job id ${show(value)} is not a jid: use 1-64 letters, digits, _ or -.`);
  return value;
}

export function flagName(value: string | undefined): string {
  if (value === undefined || value.length > 100 || !FLAG_NAME.test(value)) throw badRequest(`Flag name ${show(value)} is not a flag name: flags are snake_case, e.g. 'new_checkout'.`);
  return value;
}

export function limit(value: string | null, fallback: number, max: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw badRequest(`limit ${show(value)} must be a whole number from 1 to ${max}.`);
  return n;
}

/** The name recorded in the flag audit trail; the browser remembers it. */
export function person(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !PERSON.test(value.trim())) throw badRequest(`by ${show(value)} must be a name of 1-64 letters, digits, spaces or . _ @ ' + -.`);
  return value.trim();
}

export function environmentName(value: unknown, known: readonly string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !known.includes(value)) throw badRequest(`env ${show(value)} is not a configured environment (${known.join(', ')}).`);
  return value;
}
