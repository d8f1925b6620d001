import { describe, expect, it } from 'vitest';
import { MiddlewareChain } from '../../src/middleware/chain.js';

describe('MiddlewareChain', () => {
  const tracer = (name: string) => async (trace: string[], next: () => Promise<string>) => {
    trace.push(`>${name}`);
    const result = await next();
    trace.push(`<${name}`);
    return `${name}(${result})`;
  };

  it('runs entries in order around the last step, with add, insertBefore, insertAfter and remove', async () => {
    const chain = new MiddlewareChain<string[], string>().add('a', tracer('a')).add('c', tracer('c'));
    chain.insertBefore('c', 'b', tracer('b')).insertAfter('c', 'd', tracer('d')).remove('d');
    const trace: string[] = [];
    expect(await chain.run(trace, async () => (trace.push('perform'), 'x'))).toBe('a(b(c(x)))');
    expect(trace).toEqual(['>a', '>b', '>c', 'perform', '<c', '<b', '<a']);
    expect(chain.names()).toEqual(['a', 'b', 'c']);
  });

  it('lets an entry stop the chain by not calling next', async () => {
    const chain = new MiddlewareChain<string[], string>().add('gate', async () => 'stopped').add('never', tracer('never'));
    expect(await chain.run([], async () => 'x')).toBe('stopped');
  });

  it('turns an entry that throws synchronously, before or after next, into a rejected run', async () => {
    const boom = (): Promise<string> => {
      throw new Error('boom');
    };
    const chain = new MiddlewareChain<string[], string>().add('pass', (_trace, next) => next()).add('boom', boom);
    const run = chain.run([], async () => 'x');
    expect(run).toBeInstanceOf(Promise);
    await expect(run).rejects.toThrow('boom');
    await expect(new MiddlewareChain<string[], string>().run([], boom)).rejects.toThrow('boom');
  });

  it('explains unknown and duplicate names', () => {
    const chain = new MiddlewareChain<string[], string>().add('a', tracer('a'));
    expect(() => chain.insertBefore('zz', 'b', tracer('b'))).toThrow("No middleware named 'zz'; the chain has: a");
    expect(() => chain.add('a', tracer('a'))).toThrow(/already in the chain/);
  });
});
