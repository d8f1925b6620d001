import type { Registry } from 'prom-client';
import type { FlagChangeBus } from './change-bus.js';
import { announceChange, defaultChangedBy } from './change-publisher.js';
import { isUnavailableError, type FlagLogger } from './change-log.js';
import { FlagError, FlagStoreUnavailableError, InvalidFlagValueError, UndefinedFlagError, UnknownEnvironmentError } from './errors.js';
import { evaluateFlag, type Evaluation, type EvaluationPolicy } from './evaluator.js';
import { flagMetrics, type FlagMetrics } from './flag-metrics.js';
import type { GroupPredicate } from './gates.js';
import { FlagSnapshot } from './snapshot.js';
import type { FlagAuditEntry, FlagChange, FlagStore } from './store/flag-store.js';
import type { FlagDefinition, FlagGates, FlagState, FlagSubject, FlagValue } from './types.js';
import { checkFlagValue, stateOf } from './values.js';

export interface FlagsOptions {
  readonly store: FlagStore;
  readonly definitions: ReadonlyMap<string, FlagDefinition>;
  /** The environment this process evaluates flags for. */
  readonly environment: string;
  /** Environments writes may target (default: just `environment`). One database may hold several. */
  readonly environments?: readonly string[];
  readonly logger: FlagLogger;
  readonly bus?: FlagChangeBus;
  readonly registry?: Registry;
  /** Backstop reload period when a change notice is lost (default 30 s). */
  readonly reloadIntervalMs?: number;
  /** How long `ready()` waits for the first load by default (default 5 s). */
  readonly readyTimeoutMs?: number;
  /** Default: throw in development/dev/test, answer false elsewhere (production must never break on a typo). */
  readonly undefinedFlag?: 'throw' | 'off';
  readonly random?: () => number;
  readonly nowMs?: () => number;
}

export interface FlagInfo {
  readonly name: string;
  readonly environment: string;
  readonly state: FlagState;
  /** null = nothing stored, the definition's default applies */
  readonly gates: FlagGates | null;
  /** null = stored but no definition (`feature lint` reports these) */
  readonly definition: FlagDefinition | null;
}

export interface WriteOptions {
  readonly by?: string;
  readonly env?: string;
}

export type FlagFreshness = 'fresh' | 'stale' | 'unloaded';

const STRICT_ENVIRONMENTS = new Set(['development', 'dev', 'test']);
const GROUP_NAME = /^[a-z][a-z0-9_]*$/;

/** `app.flags`: writes through the store (audited, published), reads from the in-memory snapshot. */
export class Flags {
  readonly environment: string;
  private readonly groups = new Map<string, GroupPredicate>();
  private readonly snapshot: FlagSnapshot;
  private readonly policy: EvaluationPolicy;
  private readonly metrics: FlagMetrics | undefined;
  private readonly listeners = new Set<(names: string[]) => void>();
  private readonly freshnessListeners = new Set<(freshness: FlagFreshness) => void>();
  private readonly loggedErrors = new Set<string>();
  private started: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unregisterAge: (() => void) | undefined;

  constructor(private readonly options: FlagsOptions) {
    this.environment = options.environment;
    this.metrics = options.registry ? flagMetrics(options.registry) : undefined;
    this.policy = {
      undefinedFlag: options.undefinedFlag ?? (STRICT_ENVIRONMENTS.has(options.environment) ? 'throw' : 'off'),
      groups: this.groups,
      random: options.random ?? Math.random,
    };
    this.snapshot = new FlagSnapshot({
      store: options.store,
      environment: options.environment,
      nowMs: options.nowMs,
      onReloadError: (err) => {
        this.metrics?.reloadFailures.inc();
        const missingTables = (err as { code?: unknown } | null)?.code === '42P01'; // undefined_table
        const hint = missingTables ? ' (the flag tables do not exist: run `lagless migrate` or `app.migrate()`)' : '';
        options.logger.warn({ err, 'extra.environment': this.environment }, `feature flag reload failed; keeping the previous snapshot${hint}`);
      },
      onChanged: (names) => this.listeners.forEach((listener) => listener(names)),
      onSettled: () => this.freshnessListeners.forEach((listener) => listener(this.freshness())),
    });
  }

  /**
   * How much to trust what evaluation answers: 'unloaded' before any load succeeded (definitions' defaults),
   * 'stale' once reloads fail and the snapshot is older than the reload interval, 'fresh' otherwise.
   */
  freshness(): FlagFreshness {
    if (!this.snapshot.loaded) return 'unloaded';
    return this.snapshot.failing && this.snapshot.ageSeconds() * 1000 > this.reloadIntervalMs ? 'stale' : 'fresh';
  }

  /** Called after every reload attempt with the freshness it left (OpenFeature's READY / STALE / ERROR events). */
  onReload(listener: (freshness: FlagFreshness) => void): () => void {
    this.freshnessListeners.add(listener);
    return () => this.freshnessListeners.delete(listener);
  }

  private get reloadIntervalMs(): number {
    return this.options.reloadIntervalMs ?? 30_000;
  }

  /** Environments writes may target (`environment` first when the options name none). */
  get environments(): readonly string[] {
    return this.options.environments ?? [this.environment];
  }

  get definitions(): ReadonlyMap<string, FlagDefinition> {
    return this.options.definitions;
  }

  // ---- evaluation: memory only, never I/O ----

  enabled(name: string, actor?: FlagSubject | null): boolean {
    return this.evaluate(name, actor).value;
  }

  /** Value plus reason (for OpenFeature and debugging). Throws only for an undefined flag under the strict policy. */
  evaluate(name: string, actor?: FlagSubject | null): Evaluation {
    let result: Evaluation;
    try {
      result = evaluateFlag({ name, definition: this.options.definitions.get(name), gates: this.snapshot.gates(name), actor }, this.policy);
    } catch (err) {
      this.metrics?.evaluations.inc({ flag: name, result: 'error' });
      throw err;
    }
    if (result.reason === 'ERROR') this.logEvaluationErrorOnce(name, result);
    this.metrics?.evaluations.inc({ flag: name, result: result.reason === 'ERROR' ? 'error' : result.value ? 'on' : 'off' });
    return result;
  }

  registerGroup(name: string, predicate: GroupPredicate): void {
    if (!GROUP_NAME.test(name)) throw new FlagError('FLAG_INVALID_GROUP', `Group name '${name}' must be snake_case (e.g. 'staff').`);
    this.groups.set(name, predicate);
  }

  /** Starts (once) and waits for the first snapshot load, at most `timeoutMs`. true = loaded; false = serving defaults. */
  async ready(timeoutMs = this.options.readyTimeoutMs ?? 5000): Promise<boolean> {
    void this.start();
    return this.snapshot.ready(timeoutMs);
  }

  /** Called when a reload changed stored state, with the changed names (OpenFeature's CONFIGURATION_CHANGED). */
  onChange(listener: (names: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to change notices, loads the first snapshot and starts the backstop timer. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.startOnce();
    return this.started;
  }

  private async startOnce(): Promise<void> {
    this.unregisterAge = this.metrics?.addAgeSource(() => this.snapshot.ageSeconds());
    this.timer = setInterval(() => void this.snapshot.reload(), this.reloadIntervalMs);
    this.timer.unref();
    const reload = (): void => void this.snapshot.reload();
    const subscribed = this.options.bus
      ?.subscribe((notice) => notice.environment === this.environment && reload(), reload)
      .catch((err: unknown) => this.options.logger.warn({ err }, 'feature flag change notices unavailable; relying on periodic reload'));
    await Promise.all([subscribed, this.snapshot.reload()]);
  }

  async reload(): Promise<void> {
    await this.snapshot.reload();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.unregisterAge?.();
    this.listeners.clear();
    this.freshnessListeners.clear();
    await this.options.bus?.close();
  }

  // ---- writes and reads of stored state: always the database, never the snapshot ----

  async set(name: string, value: FlagValue, options: WriteOptions = {}): Promise<FlagChange> {
    const environment = this.checkEnvironment(options.env);
    if (!this.options.definitions.has(name)) throw new UndefinedFlagError(name);
    const checked = checkFlagValue(name, value);
    const change = await this.storeCall(() => this.options.store.flagSet({ environment, name, value: checked, by: options.by ?? defaultChangedBy() }));
    await this.afterChange(change);
    return change;
  }

  /** Removes stored state so `default_enabled` applies again. Works for undefined flags too (cleanup). */
  async delete(name: string, options: WriteOptions = {}): Promise<FlagChange | null> {
    const environment = this.checkEnvironment(options.env);
    const change = await this.storeCall(() => this.options.store.flagDelete({ environment, name, by: options.by ?? defaultChangedBy() }));
    if (change) await this.afterChange(change);
    return change;
  }

  async get(name: string, options: { env?: string } = {}): Promise<FlagInfo> {
    const environment = this.checkEnvironment(options.env);
    const gates = await this.storeCall(() => this.options.store.flagGet({ environment, name }));
    const definition = this.options.definitions.get(name) ?? null;
    if (!definition && !gates) throw new UndefinedFlagError(name);
    return { name, environment, state: stateOf(gates, definition?.defaultEnabled ?? false), gates: gates ?? null, definition };
  }

  /** Every defined flag plus every stored one, by name. */
  async list(options: { env?: string } = {}): Promise<FlagInfo[]> {
    const environment = this.checkEnvironment(options.env);
    const stored = await this.storeCall(() => this.options.store.flagLoadAll({ environment }));
    const names = [...new Set([...this.options.definitions.keys(), ...stored.keys()])].sort();
    return names.map((name) => {
      const gates = stored.get(name);
      const definition = this.options.definitions.get(name) ?? null;
      return { name, environment, state: stateOf(gates, definition?.defaultEnabled ?? false), gates: gates ?? null, definition };
    });
  }

  async history(name: string, options: { env?: string; limit?: number } = {}): Promise<FlagAuditEntry[]> {
    const environment = this.checkEnvironment(options.env);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
      throw new InvalidFlagValueError(name, `history limit must be a positive integer, got ${options.limit}`);
    }
    const history = await this.storeCall(() => this.options.store.flagHistory({ environment, name, limit: options.limit }));
    // Like get: a name that is neither defined nor on record is a typo. A removed flag's history stays readable.
    if (history.length === 0 && !this.options.definitions.has(name)) throw new UndefinedFlagError(name);
    return history;
  }

  /** Names stored in any environment (for `feature lint`). */
  storedNames(): Promise<string[]> {
    return this.storeCall(() => this.options.store.flagNames());
  }

  private checkEnvironment(env: string | undefined): string {
    const known = this.options.environments ?? [this.environment];
    const environment = env ?? this.environment;
    if (!known.includes(environment)) throw new UnknownEnvironmentError(environment, known);
    return environment;
  }

  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUnavailableError(err)) throw new FlagStoreUnavailableError((err as Error).message || String((err as Error).name));
      throw err;
    }
  }

  private async afterChange(change: FlagChange): Promise<void> {
    await announceChange(change, { logger: this.options.logger, bus: this.options.bus, metrics: this.metrics });
    if (change.environment === this.environment) await this.snapshot.reload();
  }

  private logEvaluationErrorOnce(name: string, result: Evaluation): void {
    const key = `${name}\u0000${result.errorCode}`;
    if (this.loggedErrors.has(key)) return; // once per flag and cause: evaluation is a hot path
    this.loggedErrors.add(key);
    this.options.logger.warn({ key: name, 'extra.error_code': result.errorCode, 'extra.error': result.errorMessage }, 'feature flag evaluated with an error');
  }
}

export function createFlags(options: FlagsOptions): Flags {
  return new Flags(options);
}
