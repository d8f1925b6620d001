import type { FlagInfo } from './flags.js';
import type { FlagAuditEntry, FlagChange } from './store/flag-store.js';
import type { FlagGates } from './types.js';

/** Short human descriptions for the CLI and the dashboard. Wording only: no logic lives here. */

export function describeGates(gates: FlagGates | null): string {
  if (gates === null) return 'default';
  const parts: string[] = [];
  if (gates.boolean) parts.push('on for everyone');
  if (gates.actors.length > 0) parts.push(`actors ${gates.actors.join(', ')}`);
  if (gates.groups.length > 0) parts.push(`groups ${gates.groups.join(', ')}`);
  if (gates.percentageOfActors > 0) parts.push(`${gates.percentageOfActors}% of actors`);
  if (gates.percentageOfTime > 0) parts.push(`${gates.percentageOfTime}% of the time`);
  return parts.length > 0 ? parts.join('; ') : 'off';
}

export function describeChange(change: FlagChange): string {
  return `${change.name} [${change.environment}]: ${describeGates(change.oldGates)} -> ${describeGates(change.newGates)} (${change.action} by ${change.by})`;
}

export function describeInfo(info: FlagInfo): string {
  const def = info.definition;
  const about = def ? `${def.type}, default_enabled ${def.defaultEnabled}${def.group ? `, ${def.group}` : ''}` : 'NO DEFINITION';
  const stored = info.gates === null ? 'nothing stored, default applies' : describeGates(info.gates);
  return `${info.name} [${info.environment}]: ${info.state} (${stored}) — ${about}`;
}

export function describeAudit(entry: FlagAuditEntry): string {
  return `${entry.at.toISOString()}  ${entry.by}  ${entry.action}: ${describeGates(entry.oldGates)} -> ${describeGates(entry.newGates)}`;
}
