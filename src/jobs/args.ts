import { InvalidArgsError } from '../errors.js';

/**
 * Job arguments must survive JSON.stringify → JSON.parse unchanged, or the job would run with different
 * arguments than it was given. Walk the value once and name the first offending path.
 */
export function assertJsonArgs(workerName: string, args: unknown): void {
  if (args === undefined) throw new InvalidArgsError(workerName, 'the arguments are undefined');
  const found = findNonJson(args, []);
  if (found) throw new InvalidArgsError(workerName, `$${found.path} ${found.problem}`);
}

/*
 * The path is put together on the way back up, only for the value that fails: this runs on every enqueue. The
 * ancestors are a stack, not a Set: args are shallow, so a scan of a few entries costs less than a Set per enqueue.
 */
function findNonJson(value: unknown, ancestors: object[]): { path: string; problem: string } | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path: '', problem: `is ${value}` };
    case 'bigint':
      return { path: '', problem: 'is a BigInt' };
    case 'function':
      return { path: '', problem: 'is a function' };
    case 'symbol':
      return { path: '', problem: 'is a symbol' };
    case 'undefined':
      return { path: '', problem: 'is undefined' };
  }
  if (value === null) return undefined;
  const object = value as Record<string, unknown>;
  if (ancestors.includes(object)) return { path: '', problem: 'is a circular reference' };
  const isArray = Array.isArray(object);
  const proto = Object.getPrototypeOf(object);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    return { path: '', problem: `is a ${object.constructor?.name ?? 'non-plain object'} (only plain objects and arrays survive JSON)` };
  }
  ancestors.push(object);
  try {
    for (const key of Object.keys(object)) {
      const found = findNonJson(object[key], ancestors);
      if (found) return { path: (isArray ? `[${key}]` : `.${key}`) + found.path, problem: found.problem };
    }
  } finally {
    ancestors.pop();
  }
  return undefined;
}
