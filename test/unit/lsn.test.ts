import { describe, expect, it } from 'vitest';
import { InvalidLsnError, LaglessError } from '../../src/errors.js';
import {
  compareLsn,
  formatLsn,
  lsnDiffBytes,
  lsnFromBigInt,
  lsnFromParts,
  lsnToParts,
  maxLsn,
  parseLsn,
  tryParseLsn,
  type Lsn,
} from '../../src/db/lsn.js';

// Deterministic generator (mulberry32) so a failing case reproduces.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Random positions concentrated where bugs live: around 2^32, around 2^53, and at the ends. */
function samples(count: number, seed = 42): Lsn[] {
  const next = rng(seed);
  const anchors = [0n, 1n << 32n, 1n << 53n, (1n << 64n) - 1n];
  const out: Lsn[] = [];
  for (let i = 0; i < count; i++) {
    const anchor = anchors[next() % anchors.length]!;
    const offset = BigInt(next() % 2048) - 1024n;
    const random = (BigInt(next()) << 32n) | BigInt(next());
    const value = i % 3 === 0 ? random : anchor + offset;
    out.push(lsnFromBigInt(value < 0n ? 0n : value > (1n << 64n) - 1n ? (1n << 64n) - 1n : value));
  }
  return out;
}

describe('parseLsn', () => {
  it('parses HI/LO into a 64-bit position', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(parseLsn('16/b374d848')).toBe(0x16b374d848n);
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe((1n << 64n) - 1n);
    expect(parseLsn('0/00000010')).toBe(16n);
  });

  it.each(['', '0', '/', '0/', '/0', '1/2/3', 'zz', '0x1/0', '123456789/0', '0/123456789', ' 0/1', '0/1 ', '-1/0', '1.5/0', '0/+1'])(
    'rejects %j with a typed error naming the value and its source',
    (text) => {
      const error = (() => {
        try {
          parseLsn(text, 'payload wal_locations.main');
        } catch (caught) {
          return caught;
        }
        throw new Error('expected a throw');
      })();
      expect(error).toBeInstanceOf(InvalidLsnError);
      expect(error).toBeInstanceOf(LaglessError);
      expect((error as InvalidLsnError).code).toBe('INVALID_LSN');
      expect((error as InvalidLsnError).message).toBe(
        `"${text}" from payload wal_locations.main is not a PostgreSQL LSN (expected HEX/HEX such as 16/B374D848).`,
      );
    },
  );

  it('rejects non-strings, naming them too', () => {
    expect(() => parseLsn(42, 'x')).toThrow('"42" from x');
    expect(() => parseLsn(null)).toThrow(InvalidLsnError);
    expect(tryParseLsn(undefined)).toBeUndefined();
    expect(tryParseLsn('zz')).toBeUndefined();
    expect(tryParseLsn('1/0')).toBe(1n << 32n);
  });
});

describe('LSN arithmetic', () => {
  it('orders across the 32-bit boundary as 64-bit integers, not strings', () => {
    expect(compareLsn(parseLsn('1/0'), parseLsn('0/FFFFFFFF'))).toBe(1);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    // As strings '10/0' < '9/0' and '0/10' < '0/9'; as positions both are greater.
    expect(compareLsn(parseLsn('10/0'), parseLsn('9/0'))).toBe(1);
    expect(compareLsn(parseLsn('0/10'), parseLsn('0/9'))).toBe(1);
    expect(lsnDiffBytes(parseLsn('1/0'), parseLsn('0/FFFFFFFF'))).toBe(1n);
    expect(maxLsn(parseLsn('0/FFFFFFFF'), parseLsn('1/0'), parseLsn('0/1'))).toBe(parseLsn('1/0'));
  });

  it('stays exact above 2^53', () => {
    const a = parseLsn('200000/1'); // 2^53 + 1
    const b = parseLsn('200000/0');
    expect(Number(a) === Number(b)).toBe(true); // what a float would get wrong
    expect(compareLsn(a, b)).toBe(1);
    expect(lsnDiffBytes(a, b)).toBe(1n);
    expect(formatLsn(a)).toBe('200000/1');
  });

  it('formats as PostgreSQL does (upper case, no padding)', () => {
    expect(formatLsn(parseLsn('0/016b3748'))).toBe('0/16B3748');
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(formatLsn(parseLsn('1/0'))).toBe('1/0');
  });

  it('property: format/parse round trip, order, diff and Lua halves agree with bigint arithmetic', () => {
    const values = samples(600);
    for (let i = 0; i < values.length; i++) {
      const a = values[i]!;
      const b = values[(i * 7 + 3) % values.length]!;
      expect(parseLsn(formatLsn(a))).toBe(a);
      expect(compareLsn(a, b)).toBe(a < b ? -1 : a > b ? 1 : 0);
      expect(compareLsn(b, a)).toBe(-compareLsn(a, b) || 0);
      expect(lsnDiffBytes(a, b) + b).toBe(a);
      expect(maxLsn(a, b)).toBe(a > b ? a : b);
      const pa = lsnToParts(a);
      const pb = lsnToParts(b);
      expect(lsnFromParts(pa.hi, pa.lo)).toBe(a);
      // The comparison the Lua scripts make: hi first, then lo, each a double-safe 32-bit number.
      const luaCompare = pa.hi !== pb.hi ? (pa.hi < pb.hi ? -1 : 1) : pa.lo !== pb.lo ? (pa.lo < pb.lo ? -1 : 1) : 0;
      expect(luaCompare).toBe(compareLsn(a, b));
    }
  });

  it('rejects out-of-range construction', () => {
    expect(() => lsnFromBigInt(-1n)).toThrow(RangeError);
    expect(() => lsnFromBigInt(1n << 64n)).toThrow(RangeError);
    expect(() => lsnFromParts(2 ** 32, 0)).toThrow(RangeError);
    expect(() => lsnFromParts(0, 1.5)).toThrow(RangeError);
  });
});
