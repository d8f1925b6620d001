import { FlagStoreUnavailableError, UndefinedFlagError } from './errors.js';
import type { FlagFreshness, Flags } from './flags.js';
import { ProviderEventEmitter, type ProviderEventName } from './openfeature-events.js';
import type { EvaluationReason, FlagDefinition } from './types.js';

/**
 * `lagless/openfeature`: an OpenFeature provider for `@openfeature/server-sdk` (peer dependency; typed here
 * structurally). Booleans resolve through the same in-memory evaluator as `flags.enabled`. The whole context
 * reaches group predicates; `targetingKey` is the actor (actor gates, percentage-of-actors bucketing). On any
 * error OpenFeature's convention applies: the caller's default value plus an error code.
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

export type ProviderStatus = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR';

const STATUS_OF: Record<FlagFreshness, ProviderStatus> = { fresh: 'READY', stale: 'STALE', unloaded: 'ERROR' };
const EVENT_OF: Record<Exclude<ProviderStatus, 'NOT_READY'>, ProviderEventName> = { READY: 'PROVIDER_READY', STALE: 'PROVIDER_STALE', ERROR: 'PROVIDER_ERROR' };

export class LaglessOpenFeatureProvider {
  readonly metadata = { name: 'lagless' } as const;
  readonly runsOn = 'server' as const;
  readonly hooks = [];
  readonly events = new ProviderEventEmitter();
  private unsubscribe: (() => void)[] = [];
  private state: ProviderStatus = 'NOT_READY';

  /** Older server SDKs call initialize() only while a provider reports NOT_READY; newer ones track status themselves. */
  get status(): ProviderStatus {
    return this.state;
  }

  constructor(
    private readonly flags: Pick<Flags, 'evaluate' | 'ready' | 'onChange' | 'onReload' | 'freshness' | 'definitions'>,
    private readonly options: { readyTimeoutMs?: number } = {},
  ) {}

  /**
   * Waits (bounded) for the first snapshot. When the flag store cannot be read by then, rejects, so the SDK
   * reports PROVIDER_ERROR (an outage must not look like "nothing stored"); the provider keeps answering the
   * caller's defaults with reason ERROR, and emits PROVIDER_READY once a load succeeds.
   */
  async initialize(): Promise<void> {
    if (this.unsubscribe.length === 0) {
      this.unsubscribe.push(
        this.flags.onChange((names) => this.events.emit('PROVIDER_CONFIGURATION_CHANGED', { flagsChanged: names })),
        this.flags.onReload((freshness) => this.moveTo(STATUS_OF[freshness])),
      );
    }
    const loaded = await this.flags.ready(this.options.readyTimeoutMs);
    this.state = loaded ? STATUS_OF[this.flags.freshness()] : 'ERROR';
    if (!loaded) throw new FlagStoreUnavailableError('no flag state loaded before the provider timed out; answering callers\' defaults with reason ERROR until it loads');
  }

  async onClose(): Promise<void> {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContextLike = {}): Promise<ResolutionDetailsLike<boolean>> {
    // Groups see every attribute (an actor may be known by its email); only targetingKey identifies it for bucketing.
    const { targetingKey, ...attributes } = context;
    const subject = targetingKey ? { ...attributes, flipperId: targetingKey } : attributes;
    try {
      const result = this.flags.evaluate(flagKey, subject);
      if (result.reason === 'ERROR') {
        return { value: defaultValue, reason: 'ERROR', errorCode: result.errorCode ?? 'GENERAL', errorMessage: result.errorMessage };
      }
      const flagMetadata = metadataOf(this.flags.definitions.get(flagKey), result.gate);
      const freshness = this.flags.freshness();
      if (freshness === 'unloaded') {
        return { value: defaultValue, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY', errorMessage: 'no flag state loaded yet (flag store unreachable?)', flagMetadata };
      }
      const reason = freshness === 'stale' ? 'STALE' : result.reason;
      return { value: result.value, reason, variant: result.value ? 'on' : 'off', flagMetadata };
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

  /** Status changes after initialize, announced as the SDK expects (it sets its own status from these events). */
  private moveTo(next: ProviderStatus): void {
    if (this.state === 'NOT_READY' || next === this.state || next === 'NOT_READY') return;
    this.state = next;
    this.events.emit(EVENT_OF[next], next === 'ERROR' ? { message: 'flag store unreachable' } : {});
  }
}

/** The definition's facts the spec lets a provider return as flagMetadata (null fields left out), plus the gate. */
function metadataOf(definition: FlagDefinition | undefined, gate: string | undefined): Record<string, string | number | boolean> {
  const metadata: Record<string, string | number | boolean> = {};
  if (definition) {
    metadata.type = definition.type;
    if (definition.group) metadata.group = definition.group;
    if (definition.milestone) metadata.milestone = definition.milestone;
    if (definition.rolloutIssueUrl) metadata.rollout_issue_url = definition.rolloutIssueUrl;
  }
  if (gate) metadata.gate = gate;
  return metadata;
}

function typeMismatch<T>(flagKey: string, defaultValue: T): ResolutionDetailsLike<T> {
  return { value: defaultValue, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorMessage: `lagless flag '${flagKey}' is a boolean flag.` };
}
