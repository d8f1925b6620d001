import { InvalidArgsError } from '../errors.js';

/**
 * Job arguments must survive JSON.stringify → JSON.parse unchanged, or the job would run with different
 * arguments than it was given. Walk the value once and name the first offending path.
 */
export function assertJsonArgs(workerName: string, args: unknown): void {
  if (args === undefined) throw new InvalidArgsError(workerName, 'the arguments are undefined');
  const reason = findNonJson(args, '$', new Set());
  if (reason) throw new InvalidArgsError(workerName, reason);
}

function findNonJson(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}`;
    case 'bigint':
      return `${path} is a BigInt`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'undefined':
      return `${path} is undefined`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (ancestors.has(object)) return `${path} is a circular reference`;
  const proto = Object.getPrototypeOf(object);
  if (!Array.isArray(object) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${object.constructor?.name ?? 'non-plain object'} (only plain objects and arrays survive JSON)`;
  }
  ancestors.add(object);
  try {
    for (const [key, child] of Object.entries(object)) {
      const reason = findNonJson(child, Array.isArray(object) ? `${path}[${key}]` : `${path}.${key}`, ancestors);
      if (reason) return reason;
    }
  } finally {
    ancestors.delete(object);
  }
  return undefined;
}
