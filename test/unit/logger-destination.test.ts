import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveLogger } from '../../src/observability/logger.js';

describe('the default logger destination (LAGLESS_LOG_TO)', () => {
  const before = process.env.LAGLESS_LOG_TO;
  afterEach(() => {
    if (before === undefined) delete process.env.LAGLESS_LOG_TO;
    else process.env.LAGLESS_LOG_TO = before;
  });

  it('accepts stdout, stderr or nothing, and names the variable for anything else', () => {
    for (const value of ['stdout', 'stderr', '']) {
      process.env.LAGLESS_LOG_TO = value;
      expect(resolveLogger(undefined).info).toBeTypeOf('function');
    }
    process.env.LAGLESS_LOG_TO = 'file';
    expect(() => resolveLogger(undefined)).toThrow(InvalidOptionError);
    expect(() => resolveLogger(undefined)).toThrow("LAGLESS_LOG_TO must be stdout or stderr; got 'file'.");
  });
});
