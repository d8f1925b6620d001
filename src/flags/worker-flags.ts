import { InvalidOptionError } from '../errors.js';
import type { WorkerOptions } from '../jobs/worker.js';
import { UndefinedFlagError } from './errors.js';
import type { Flags } from './flags.js';

/**
 * At `defineWorker`: the flags a worker names must have definitions. Under the strict policy
 * (development/test) an undefined one fails here, naming the worker and the option, instead of at the first
 * enqueue or execution; in production it reads as off and `evaluate` logs it once.
 */
export function checkWorkerFlags(options: Pick<WorkerOptions<never>, 'name' | 'deduplicate' | 'dataConsistencyFlag'>, flags: Pick<Flags, 'definitions' | 'evaluate'>): void {
  const named: Array<[string, string | undefined]> = [
    ['deduplicate.featureFlag', options.deduplicate?.featureFlag],
    ['dataConsistencyFlag', options.dataConsistencyFlag],
  ];
  for (const [option, flag] of named) {
    if (flag === undefined || flags.definitions.has(flag)) continue;
    try {
      flags.evaluate(flag);
    } catch (err) {
      if (!(err instanceof UndefinedFlagError)) throw err;
      throw new InvalidOptionError(
        `Worker '${options.name}' option ${option} names feature flag '${flag}', which has no definition. ` +
          `Add config/feature_flags/worker/${flag}.yml (type: worker, default_enabled: false) or fix the name; in production an undefined flag reads as off.`,
      );
    }
  }
}
