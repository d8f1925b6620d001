import { LaglessError } from '../errors.js';
import { HttpError } from './http.js';

const STATUS_BY_CODE: Record<string, number> = {
  FLAG_UNDEFINED: 404,
  UNKNOWN_WORKER: 404,
  UNKNOWN_SCHEDULE: 404,
  FLAG_STORE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
};

/**
 * Errors as answers: lagless's own errors (bad flag values, unknown environments, …) already say what was
 * wrong and how to fix it, so their message goes out as is with a 4xx; anything else is a 500.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof LaglessError) return new HttpError(STATUS_BY_CODE[error.code] ?? 400, error.code, error.message);
  return new HttpError(500, 'INTERNAL', `The dashboard could not answer: ${(error as Error)?.message ?? String(error)}.`);
}
