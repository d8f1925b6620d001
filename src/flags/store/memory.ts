import { actionFor, applyFlagValue, checkFlagValue } from '../values.js';
import type { FlagGates } from '../types.js';
import { DEFAULT_HISTORY_LIMIT, type FlagAuditEntry, type FlagChange, type FlagSetParams, type FlagStore } from './flag-store.js';

/**
 * In-memory FlagStore for tests of callers and for apps without a flags database. Same contract as
 * PostgresFlagStore (same conformance suite); state is per instance and lost on exit.
 */
export class MemoryFlagStore implements FlagStore {
  private readonly flags = new Map<string, FlagGates>();
  private readonly audit: FlagAuditEntry[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  private static key(environment: string, name: string): string {
    return `${environment}\u0000${name}`;
  }

  async flagLoadAll({ environment }: { environment: string }): Promise<ReadonlyMap<string, FlagGates>> {
    const prefix = MemoryFlagStore.key(environment, '');
    return new Map([...this.flags].filter(([key]) => key.startsWith(prefix)).map(([key, gates]) => [key.slice(prefix.length), gates]));
  }

  async flagGet({ environment, name }: { environment: string; name: string }): Promise<FlagGates | undefined> {
    return this.flags.get(MemoryFlagStore.key(environment, name));
  }

  async flagSet(params: FlagSetParams): Promise<FlagChange> {
    const value = checkFlagValue(params.name, params.value);
    const key = MemoryFlagStore.key(params.environment, params.name);
    const oldGates = this.flags.get(key) ?? null;
    const newGates = applyFlagValue(oldGates ?? undefined, value);
    this.flags.set(key, newGates);
    return this.record({ environment: params.environment, name: params.name, by: params.by, action: actionFor(value), oldGates, newGates });
  }

  async flagDelete({ environment, name, by }: { environment: string; name: string; by: string }): Promise<FlagChange | null> {
    const key = MemoryFlagStore.key(environment, name);
    const oldGates = this.flags.get(key);
    if (!oldGates) return null;
    this.flags.delete(key);
    return this.record({ environment, name, by, action: 'delete', oldGates, newGates: null });
  }

  async flagHistory({ environment, name, limit }: { environment: string; name: string; limit?: number }): Promise<FlagAuditEntry[]> {
    return this.audit
      .filter((entry) => entry.environment === environment && entry.name === name)
      .reverse()
      .slice(0, limit ?? DEFAULT_HISTORY_LIMIT);
  }

  async flagNames(): Promise<string[]> {
    return [...new Set([...this.flags.keys()].map((key) => key.split('\u0000')[1]!))].sort();
  }

  private record(change: Omit<FlagChange, 'at'>): FlagChange {
    const entry: FlagAuditEntry = { ...change, at: this.now(), id: this.audit.length + 1 };
    this.audit.push(entry);
    const { id: _id, ...result } = entry;
    return result;
  }
}
