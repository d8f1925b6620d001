import type { DedupCookie, DedupStrategy } from '../store/job-store.js';
import type { WalLocations } from '../jobs/payload.js';
import { decodeWal, encodeWal } from './wal-codec.js';

/*
 * A dedup cookie is one field of a queue's dedup hash, the same string the scripts read and rewrite (lib.lua):
 *   "<strategy E|D>|<owner jid>|<absorbed>|<executing 0|1>|<absorbed while executing>|<expires at ms>|<wal>"
 * The WAL comes last: the push script reads an enqueue's own WAL as the new cookie's last field.
 */
const COOKIE = /^([ED])\|([^|]*)\|(\d+)\|([01])\|(\d+)\|(\d+)\|(.*)$/;

/** The cookie a job owns when its push claims a new key (built here, so the script formats no numbers). */
export function newCookie(p: { strategy: DedupStrategy; ownerJid: string; expiresAtMs: number; wal: WalLocations | undefined }): string {
  return `${p.strategy === 'until_executed' ? 'D' : 'E'}|${p.ownerJid}|0|0|0|${p.expiresAtMs}|${encodeWal(p.wal)}`;
}

/** The live cookie stored under `key`, or undefined when there is none, it cannot be read, or it has expired. */
export function parseCookie(key: string, value: string | null, nowMs: number): DedupCookie | undefined {
  const match = value === null ? null : COOKIE.exec(value);
  if (!match || Number(match[6]) <= nowMs) return undefined;
  return {
    key,
    strategy: match[1] === 'D' ? 'until_executed' : 'until_executing',
    ownerJid: match[2]!,
    absorbed: Number(match[3]),
    executing: match[4] === '1',
    absorbedWhileExecuting: Number(match[5]),
    wal: decodeWal(match[7]!) ?? {},
    ttlMs: Number(match[6]) - nowMs,
  };
}
