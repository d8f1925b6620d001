import type { FlagGates, FlagValue } from '../types.js';

/**
 * The storage seam for flags (Flipper's adapter contract, River's Noun+Verb shape). Every implementation
 * passes test/conformance/flag-store.suite.ts. Invariants every implementation keeps:
 * - a write validates its value first (checkFlagValue) and changes nothing when it throws;
 * - the state change and its audit row commit together or not at all;
 * - `undefined` gates mean "nothing stored" (the definition's default applies), distinct from all-closed gates.
 * Whether a flag is *defined* is not the store's business: the Flags facade checks that before writing.
 */
export interface FlagChange {
  readonly environment: string;
  readonly name: string;
  readonly action: string;
  readonly by: string;
  readonly at: Date;
  readonly oldGates: FlagGates | null;
  readonly newGates: FlagGates | null;
}

export type FlagAuditEntry = FlagChange & { readonly id: number };

export interface FlagSetParams {
  readonly environment: string;
  readonly name: string;
  readonly value: FlagValue;
  readonly by: string;
}

export interface FlagStore {
  /** Every stored flag of one environment: what the snapshot is built from. */
  flagLoadAll(params: { environment: string }): Promise<ReadonlyMap<string, FlagGates>>;
  flagGet(params: { environment: string; name: string }): Promise<FlagGates | undefined>;
  flagSet(params: FlagSetParams): Promise<FlagChange>;
  /** Removes the stored state so the default applies again; `null` when nothing was stored (no audit row). */
  flagDelete(params: { environment: string; name: string; by: string }): Promise<FlagChange | null>;
  /** Newest first. */
  flagHistory(params: { environment: string; name: string; limit?: number }): Promise<FlagAuditEntry[]>;
  /** Names stored in any environment (for `feature lint`). */
  flagNames(): Promise<string[]>;
}

export const DEFAULT_HISTORY_LIMIT = 50;
