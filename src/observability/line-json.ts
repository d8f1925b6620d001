/**
 * The members of a log line's fields as pino writes them (`,"key":value` each, in the object's key order), or
 * undefined when a field needs pino's own handling: an `err` (its serializer), a value JSON.stringify cannot take
 * (a bigint, a cycle). pino skips undefined, function and symbol values, writes non-finite numbers as null and
 * objects with JSON.stringify; so does this. One difference: a lone surrogate in a string is escaped here
 * (JSON.stringify's way) and written raw by pino.
 */
export function fieldsJson(fields: Record<string, unknown>): string | undefined {
  let json = '';
  for (const key of Object.keys(fields)) {
    const value = valueJson(fields[key]);
    if (value === undefined) continue;
    if (value === FOR_PINO || key === 'err') return undefined;
    json += `,${JSON.stringify(key)}:${value}`;
  }
  return json;
}

const FOR_PINO = Symbol('for pino');

function valueJson(value: unknown): string | undefined | typeof FOR_PINO {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? numberJson(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      try {
        return JSON.stringify(value);
      } catch {
        return FOR_PINO;
      }
    case 'bigint':
      return FOR_PINO;
    default:
      return undefined; // undefined, function, symbol: pino leaves them out
  }
}

/** Below this many microseconds a count has at most 15 digits, so its decimal is the shortest form of its double. */
const MAX_MICROS = 1e15;

/**
 * String(value) of a finite number. A whole number of microseconds (durations and latencies are rounded to them) is
 * written from its integer digits: formatting a fraction in shortest form cost a third of a job line.
 */
export function numberJson(value: number): string {
  const micros = Math.round(value * 1e6);
  if (micros % 1e6 === 0 || micros / 1e6 !== value || micros < 0 || micros >= MAX_MICROS) return String(value);
  const whole = Math.floor(micros / 1e6);
  let fraction = micros - whole * 1e6;
  let digits = 6;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  return `${whole}.${String(fraction).padStart(digits, '0')}`;
}
