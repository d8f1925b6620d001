import type { WalLocations } from '../jobs/payload.js';

/** WAL maps travel to Lua as "db=lsn,db=lsn"; database names are validated identifiers, LSNs HEX/HEX. */
export function encodeWal(wal: WalLocations | undefined): string {
  if (!wal) return '';
  return Object.entries(wal)
    .map(([db, lsn]) => `${db}=${lsn}`)
    .join(',');
}

export function decodeWal(text: string): WalLocations | undefined {
  if (text === '') return undefined;
  const wal: WalLocations = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) wal[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return wal;
}
