import { UndefinedFlagError } from './errors.js';
import type { Flags } from './flags.js';
import { ProviderEventEmitter } from './openfeature-events.js';
import type { EvaluationReason } from './types.js';

/**
 * `lagless/openfeature`: an OpenFeature provider for `@openfeature/server-sdk` (peer dependency; typed here
 * structurally). Booleans resolve through the same in-memory evaluator as `flags.enabled`; `targetingKey` is
 * the actor. On any error OpenFeature's convention applies: the caller's default value plus an error code.
 */
export interface EvaluationContextLike {
  readonly targetingKey?: string;
  readonly [key: string]: unknown;
}

export interface ResolutionDetailsLike<T> {
  readonly value: T;
  readonly reason?: EvaluationReason;
  readonly variant?: string;
  readonly errorCode?: 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'GENERAL' | 'PROVIDER_NOT_READY';
  readonly errorMessage?: string;
  readonly flagMetadata?: Record<string, string | number | boolean>;
}

export class LaglessOpenFeatureProvider {
  readonly metadata = { name: 'lagless' } as const;
  readonly runsOn = 'server' as const;
  readonly hooks = [];
  readonly events = new ProviderEventEmitter();
  private unsubscribe: (() => void) | undefined;
  private state: 'NOT_READY' | 'READY' = 'NOT_READY';

  /** Older server SDKs call initialize() only while a provider reports NOT_READY; newer ones track status themselves. */
  get status(): 'NOT_READY' | 'READY' {
    return this.state;
  }

  constructor(
    private readonly flags: Pick<Flags, 'evaluate' | 'ready' | 'onChange'>,
    private readonly options: { readyTimeoutMs?: number } = {},
  ) {}

  /** Waits (bounded) for the first snapshot; a timeout still leaves the provider usable with defaults. */
  async initialize(): Promise<void> {
    this.unsubscribe ??= this.flags.onChange((names) => this.events.emit('PROVIDER_CONFIGURATION_CHANGED', { flagsChanged: names }));
    await this.flags.ready(this.options.readyTimeoutMs);
    this.state = 'READY';
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContextLike = {}): Promise<ResolutionDetailsLike<boolean>> {
    // The actor carries the whole context, so group predicates can use any attribute the caller passed.
    const actor = context.targetingKey ? { ...context, flipperId: context.targetingKey } : undefined;
    try {
      const result = this.flags.evaluate(flagKey, actor);
      if (result.reason === 'ERROR') {
        return { value: defaultValue, reason: 'ERROR', errorCode: result.errorCode ?? 'GENERAL', errorMessage: result.errorMessage };
      }
      return { value: result.value, reason: result.reason, variant: result.value ? 'on' : 'off', flagMetadata: result.gate ? { gate: result.gate } : {} };
    } catch (err) {
      const errorCode = err instanceof UndefinedFlagError ? 'FLAG_NOT_FOUND' : 'GENERAL';
      return { value: defaultValue, reason: 'ERROR', errorCode, errorMessage: (err as Error)?.message };
    }
  }

  // lagless flags are booleans only; other types answer the default with TYPE_MISMATCH.
  async resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetailsLike<string>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetailsLike<number>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveObjectEvaluation<T>(flagKey: string, defaultValue: T): Promise<ResolutionDetailsLike<T>> {
    return typeMismatch(flagKey, defaultValue);
  }
}

function typeMismatch<T>(flagKey: string, defaultValue: T): ResolutionDetailsLike<T> {
  return { value: defaultValue, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorMessage: `lagless flag '${flagKey}' is a boolean flag.` };
}
