import { describe, expect, it } from 'vitest';
import { backtraceOf, backtracePolicy, DEFAULT_BACKTRACE_LINES, MAX_BACKTRACE_LINES } from '../../src/jobs/backtrace.js';

function thrownIn(depth: number, message = 'boom'): Error {
  if (depth === 0) return new TypeError(message);
  return thrownIn(depth - 1, message);
}

describe('backtraces', () => {
  it('keeps the stack frames without the header, trimmed and bounded', () => {
    const error = thrownIn(3, 'first line\nsecond line of the message');
    const lines = backtraceOf(error, 2);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^at thrownIn \(.*backtrace\.test\.ts:\d+:\d+\)$/);
    expect(lines.join('\n')).not.toMatch(/boom|second line/);
    expect(backtraceOf(error, 0)).toEqual([]);
  });

  it('keeps a stack that is not V8-shaped after its first line, and cuts very long lines', () => {
    const error = new Error('x');
    error.stack = `Error: x\nframe one\n\n${'f'.repeat(1000)}`;
    const lines = backtraceOf(error, 10);
    expect(lines[0]).toBe('frame one');
    expect(lines[1]).toHaveLength(300);
    expect(lines[1]!.endsWith('…')).toBe(true);
    error.stack = undefined;
    expect(backtraceOf(error, 10)).toEqual([]);
  });

  it('defaults to lines in the dead set and the log, none while a job waits for a retry', () => {
    expect(backtracePolicy(undefined)).toEqual({ retry: 0, dead: DEFAULT_BACKTRACE_LINES, log: DEFAULT_BACKTRACE_LINES });
    expect(backtracePolicy(5)).toEqual({ retry: 5, dead: 5, log: 5 });
    expect(backtracePolicy(true)).toEqual({ retry: MAX_BACKTRACE_LINES, dead: MAX_BACKTRACE_LINES, log: MAX_BACKTRACE_LINES });
    expect(backtracePolicy(false)).toEqual({ retry: 0, dead: 0, log: 0 });
  });
});
