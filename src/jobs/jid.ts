import { randomFillSync } from 'node:crypto';

const JID_BYTES = 12;
// Random bytes drawn 1,024 jids at a time: one randomBytes call per jid costs more than pushing the job.
const pool = Buffer.alloc(JID_BYTES * 1024);
let offset = pool.length;

/** 96 random bits, URL-safe: short enough to keep payloads compact, long enough never to collide in practice. */
export function newJid(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += JID_BYTES;
  return pool.toString('base64url', offset - JID_BYTES, offset);
}
