import { randomFillSync } from 'node:crypto';

const JID_BYTES = 12;
// Random bytes drawn 1,024 jids at a time: one randomBytes call per jid costs more than pushing the job.
const pool = Buffer.alloc(JID_BYTES * 1024);
let offset = pool.length;

/**
 * 96 random bits, URL-safe: short enough to keep payloads compact, long enough never to collide in practice. Never
 * starts with '-' (or '_'): a command line reads an argument that starts with '-' as an option (`lagless dead retry
 * <jid>`). The first character is the first byte's top 6 bits; when they would be 62 or 63, the top bit is cleared.
 */
export function newJid(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  if (pool[offset]! >= 62 << 2) pool[offset] = pool[offset]! & 0x7f;
  offset += JID_BYTES;
  return pool.toString('base64url', offset - JID_BYTES, offset);
}
