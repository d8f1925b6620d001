import crypto from 'node:crypto';

/** JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` describe the same job. */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  // Plain loops and string appends: this runs on every idempotent enqueue.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const child = object[key];
    if (child !== undefined) out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(child);
  }
  return `${out}}`;
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

// crypto.hash (Node >= 20.12) skips the Hash object, which costs more than hashing a short string.
export const hashIdempotencyString: (string: string) => string =
  typeof crypto.hash === 'function' ? (string) => crypto.hash('sha256', string, 'base64url') : (string) => crypto.createHash('sha256').update(string).digest('base64url');
