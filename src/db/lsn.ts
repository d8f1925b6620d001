import { InvalidLsnError } from '../errors.js';

/**
 * A PostgreSQL WAL position: a 64-bit byte offset, written `HI/LO` in hex. Held as a bigint so values above
 * 2^53 stay exact and `<` / `>` compare positions; never compare the strings (`1/0` > `0/FFFFFFFF`). The brand
 * keeps raw bigints (row counts, byte diffs) from being passed where a position is expected.
 */
export type Lsn = bigint & { readonly __brand: 'Lsn' };

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const LOW_MASK = 0xffff_ffffn;

/** Parse strictly (1–8 hex digits, `/`, 1–8 hex digits); `source` names where the value came from, for the error. */
export function parseLsn(value: unknown, source = 'input'): Lsn {
  const match = typeof value === 'string' ? LSN_TEXT.exec(value) : null;
  if (!match) throw new InvalidLsnError(typeof value === 'string' ? value : String(value), source);
  return ((BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)) as Lsn;
}

/** Like parseLsn, but undefined instead of an error (for callers that decide what invalid means). */
export function tryParseLsn(value: unknown): Lsn | undefined {
  if (typeof value !== 'string' || !LSN_TEXT.test(value)) return undefined;
  return parseLsn(value);
}

/** Format as PostgreSQL does (`%X/%X`: upper-case hex, no padding), so a round trip through text is stable. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & LOW_MASK).toString(16).toUpperCase()}`;
}

/** -1, 0 or 1, for sorting. */
export function compareLsn(a: Lsn, b: Lsn): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxLsn(first: Lsn, ...rest: Lsn[]): Lsn {
  let max = first;
  for (const lsn of rest) if (lsn > max) max = lsn;
  return max;
}

/** Bytes of WAL from `older` to `newer` (negative when `newer` is behind), computed locally: no `pg_wal_lsn_diff` round trip. */
export function lsnDiffBytes(newer: Lsn, older: Lsn): bigint {
  return newer - older;
}

/** Build from a bigint byte position (0 ≤ n < 2^64). */
export function lsnFromBigInt(position: bigint): Lsn {
  if (position < 0n || position > 0xffff_ffff_ffff_ffffn) throw new RangeError(`WAL position ${position} is outside 0..2^64-1.`);
  return position as Lsn;
}

/**
 * The two 32-bit halves, for Redis Lua scripts: Lua numbers are doubles, so scripts compare `hi` first and
 * then `lo` instead of one 64-bit value.
 */
export function lsnToParts(lsn: Lsn): { hi: number; lo: number } {
  return { hi: Number(lsn >> 32n), lo: Number(lsn & LOW_MASK) };
}

export function lsnFromParts(hi: number, lo: number): Lsn {
  if (!isUint32(hi) || !isUint32(lo)) throw new RangeError(`LSN halves must be 32-bit unsigned integers, got ${hi} and ${lo}.`);
  return ((BigInt(hi) << 32n) | BigInt(lo)) as Lsn;
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}
