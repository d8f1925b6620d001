import { badRequest } from './http.js';

/**
 * Job list cursors are opaque to clients and hold a rank: a page is one ZRANGE by rank or one LRANGE, which
 * costs O(log N + page) in a sorted set, so the millionth job is as quick to reach as the first. Ranks shift
 * as jobs come and go, so a page may repeat or skip a job that moved meanwhile; no job is shown twice on one page.
 */
const PREFIX = 'r';

export function encodeCursor(offset: number): string {
  return Buffer.from(`${PREFIX}${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | null): number {
  if (cursor === null || cursor === '') return 0;
  const text = /^[A-Za-z0-9_-]{1,24}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = /^r(\d{1,15})$/.exec(text);
  if (!match) throw badRequest(`cursor '${cursor.slice(0, 40)}' is not one this API handed out; start again without a cursor.`);
  return Number(match[1]);
}
