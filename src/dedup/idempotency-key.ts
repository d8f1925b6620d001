import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` describe the same job. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The readable string the key is a hash of; tests and `lagless dedup show` speak in terms of it. */
export function idempotencyString(workerName: string, args: unknown): string {
  return `${workerName}:${canonicalJson(args)}`;
}

/**
 * SHA-256 of idempotencyString, base64url (43 characters: the key is stored in the payload and the cookie hash,
 * so hex would cost 21 more bytes in each). Scoped by queue because each queue has its own cookie hash.
 */
export function idempotencyKey(workerName: string, args: unknown): string {
  return hashIdempotencyString(idempotencyString(workerName, args));
}

export function hashIdempotencyString(string: string): string {
  return createHash('sha256').update(string).digest('base64url');
}
