import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, idempotencyKey, idempotencyString } from '../../src/dedup/idempotency-key.js';
import { jobIdempotency } from '../../src/dedup/job-idempotency.js';
import type { WorkerDefinition } from '../../src/jobs/worker.js';

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

  it("derives each job's key afresh when args change between enqueues of one worker, and between workers", () => {
    const worker = (name: string, options: Partial<WorkerDefinition['options']> = {}) => ({ name, options }) as WorkerDefinition;
    const [w, v] = [worker('W'), worker('V', { idempotencyArgs: (args: unknown) => ({ id: (args as { id: number }).id }) })];
    const sequence: [WorkerDefinition, { id: number; at?: number }][] = [[w, { id: 1 }], [w, { id: 1 }], [w, { id: 2 }], [v, { id: 2, at: 1 }], [v, { id: 2, at: 2 }], [w, { id: 1 }], [v, { id: 3 }]];
    for (const [definition, args] of sequence) {
      const hashed = definition.name === 'V' ? { id: args.id } : args;
      expect(jobIdempotency(definition, args)).toEqual({ string: idempotencyString(definition.name, hashed), key: idempotencyKey(definition.name, hashed) });
    }
  });
});
