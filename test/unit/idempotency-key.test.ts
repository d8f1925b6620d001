import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, idempotencyKey, idempotencyString } from '../../src/dedup/idempotency-key.js';

describe('idempotency key', () => {
  it('is built from "<class>:<canonical JSON>" with object keys sorted at every depth', () => {
    expect(idempotencyString('W', { b: 2, a: 1 })).toBe('W:{"a":1,"b":2}');
    expect(idempotencyString('W', { z: { y: [3, { d: 1, c: 2 }], x: null }, a: 'é"' })).toBe('W:{"a":"é\\"","z":{"x":null,"y":[3,{"c":2,"d":1}]}}');
    expect(idempotencyString('W', [2, 1])).toBe('W:[2,1]');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('is the SHA-256 (base64url) of that string, equal for reordered keys and different for other workers or args', () => {
    expect(idempotencyKey('W', { a: 1, b: 2 })).toBe(createHash('sha256').update('W:{"a":1,"b":2}').digest('base64url'));
    expect(idempotencyKey('W', { a: 1, b: 2 })).toBe(idempotencyKey('W', { b: 2, a: 1 }));
    expect(idempotencyKey('W', { a: 1 })).not.toBe(idempotencyKey('V', { a: 1 }));
    expect(idempotencyKey('W', { a: 1 })).not.toBe(idempotencyKey('W', { a: '1' }));
  });
});
