import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { QueueOrder } from '../../src/server/queue-order.js';

describe('QueueOrder', () => {
  it('rotates plain names fairly: each queue comes first in turn, the others follow in order', () => {
    const order = new QueueOrder(['a', 'b', 'c', 'a']);
    expect(order.mode).toBe('rotation');
    expect([order.next(), order.next(), order.next(), order.next()]).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
      ['c', 'a', 'b'],
      ['a', 'b', 'c'],
    ]);
  });

  it('strict: always the order given', () => {
    const order = new QueueOrder(['critical', 'default', 'low'], true);
    expect(order.mode).toBe('strict');
    for (let i = 0; i < 5; i++) expect(order.next()).toEqual(['critical', 'default', 'low']);
  });

  it('weighted: a queue comes first with a chance proportional to its weight, and every queue is in every order', () => {
    const order = new QueueOrder([['critical', 5], ['default', 2], 'low']);
    expect(order.mode).toBe('weighted');
    const first = { critical: 0, default: 0, low: 0 };
    const second = { critical: 0, default: 0, low: 0 };
    const draws = 40_000;
    for (let i = 0; i < draws; i++) {
      const next = order.next();
      if (i < 100) expect([...next].sort()).toEqual(['critical', 'default', 'low']);
      first[next[0] as keyof typeof first]++;
      second[next[1] as keyof typeof second]++;
    }
    expect(first.critical / draws).toBeCloseTo(5 / 8, 1);
    expect(first.default / draws).toBeCloseTo(2 / 8, 1);
    expect(first.low / draws).toBeCloseTo(1 / 8, 1);
    // Second place, drawn from what is left: P(default second) = 5/8 * 2/3 + 1/8 * 2/7.
    expect(second.default / draws).toBeCloseTo((5 / 8) * (2 / 3) + (1 / 8) * (2 / 7), 1);
  });

  it('follows its random source exactly at the boundaries', () => {
    const draws = [0, 0.9999, 0.7];
    const order = new QueueOrder([['a', 1], ['b', 3]], false, () => draws.shift()!);
    expect(order.next()).toEqual(['a', 'b']); // 0 * 4 falls in a's [0, 1)
    expect(order.next()).toEqual(['b', 'a']); // 0.9999 * 4 falls in b's [1, 4), then a is all that is left
  });

  it.each([
    [[], false, 'needs at least one queue'],
    [['bad name'], false, 'letters, digits'],
    [[['a', 0]], false, 'integers >= 1'],
    [[['a', 1.5]], false, 'integers >= 1'],
    [[['a', 2, 3]], false, 'integers >= 1'],
    [[['a', 2], ['a', 1]], false, 'names each weighted queue once'],
    [[['a', 2], 'b'], true, 'not both'],
  ])('refuses %j (strict %s) with a message that says what to write', (queues, strict, message) => {
    expect(() => new QueueOrder(queues as never, strict)).toThrow(InvalidOptionError);
    expect(() => new QueueOrder(queues as never, strict)).toThrow(message);
  });
});
