import { randomBytes } from 'node:crypto';

/** 96 random bits, URL-safe: short enough to keep payloads compact, long enough never to collide in practice. */
export function newJid(): string {
  return randomBytes(12).toString('base64url');
}
