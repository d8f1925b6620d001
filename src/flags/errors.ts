import { LaglessError } from '../errors.js';

/**
 * Flag errors carry a stable `code` and a message that says how to fix the problem. Every write validates
 * before it touches the database, so one of these errors always means "nothing was changed".
 */
export class FlagError extends LaglessError {}

export class UndefinedFlagError extends FlagError {
  constructor(readonly flag: string) {
    super(
      'FLAG_UNDEFINED',
      `Feature flag '${flag}' has no definition. Add config/feature_flags/<type>/${flag}.yml (see \`lagless feature lint\`).`,
    );
  }
}

export class InvalidFlagValueError extends FlagError {
  constructor(
    readonly flag: string,
    readonly reason: string,
  ) {
    super('FLAG_INVALID_VALUE', `Cannot set feature flag '${flag}': ${reason}.`);
  }
}

export class UnknownEnvironmentError extends FlagError {
  constructor(
    readonly environment: string,
    readonly known: readonly string[],
  ) {
    super(
      'FLAG_UNKNOWN_ENVIRONMENT',
      `Unknown environment '${environment}'. Known environments: ${known.length ? known.join(', ') : '(none configured)'}.`,
    );
  }
}

/** One or more definition files are invalid; `problems` holds one line per problem (what `feature lint` prints). */
export class FlagDefinitionError extends FlagError {
  constructor(readonly problems: readonly string[]) {
    super(
      'FLAG_DEFINITION_INVALID',
      `Invalid feature flag definitions (${problems.length}):\n${problems.join('\n')}\nRun \`lagless feature lint\` for the full list.`,
    );
  }
}

/** The flag store cannot be reached; writes fail loudly, evaluation keeps the last snapshot. */
export class FlagStoreUnavailableError extends FlagError {
  constructor(readonly reason: string) {
    super('FLAG_STORE_UNAVAILABLE', `Feature flag storage is unreachable: ${reason}. Check the flags database URL and that it is up.`);
  }
}
