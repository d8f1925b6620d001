import { compareLsn, tryParseLsn } from '../db/lsn.js';
import type { WalLocations } from '../jobs/payload.js';
import type { DedupStrategy } from './job-store.js';

/** The memory store's dedup cookie; same fields and rules as the Lua cookie in redis/scripts/lib.lua. */
export interface MemoryCookie {
  strategy: DedupStrategy;
  owner: string;
  absorbed: number;
  executing: boolean;
  absorbedWhileExecuting: number;
  wal: WalLocations;
  expiresAtMs: number;
}

/** Later of two LSNs by 64-bit value; a malformed side yields "invalid" so the job falls back to the primary. */
function laterLsn(stored: string, incoming: string): string {
  const a = tryParseLsn(stored);
  const b = tryParseLsn(incoming);
  if (a === undefined || b === undefined) return 'invalid';
  return compareLsn(b, a) > 0 ? incoming : stored;
}

/** Raise each database's stored WAL to the max with the incoming one; returns the databases raised. */
export function raiseWal(cookie: MemoryCookie, incoming: WalLocations): string[] {
  const raised: string[] = [];
  for (const [db, lsn] of Object.entries(incoming)) {
    const old = cookie.wal[db];
    const next = old === undefined ? lsn : laterLsn(old, lsn);
    if (next !== old) {
      cookie.wal[db] = next;
      raised.push(db);
    }
  }
  return raised;
}

/** Expired cookies vanish on sight, exactly like the Lua cookie_get. */
export class CookieJar {
  private readonly cookies = new Map<string, MemoryCookie>();

  get(key: string, nowMs: number): MemoryCookie | undefined {
    const cookie = this.cookies.get(key);
    if (cookie && cookie.expiresAtMs <= nowMs) {
      this.cookies.delete(key);
      return undefined;
    }
    return cookie;
  }

  /** The cookie as stored, expired or not. */
  peek(key: string): MemoryCookie | undefined {
    return this.cookies.get(key);
  }

  set(key: string, cookie: MemoryCookie): void {
    this.cookies.set(key, cookie);
  }

  delete(key: string): void {
    this.cookies.delete(key);
  }

  get size(): number {
    return this.cookies.size;
  }

  entries(): IterableIterator<[string, MemoryCookie]> {
    return this.cookies.entries();
  }
}
