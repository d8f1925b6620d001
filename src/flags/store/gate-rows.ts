import { EMPTY_GATES, type FlagGates } from '../types.js';

/**
 * Mapping between FlagGates and rows of lagless_feature_gates (one row per open gate value).
 * Percentages are stored as decimal text ('12.345'), never as floats, so they read back exactly.
 */
export interface GateRow {
  readonly gate: string;
  readonly value: string;
}

export function gatesToRows(gates: FlagGates): GateRow[] {
  const rows: GateRow[] = [];
  if (gates.boolean) rows.push({ gate: 'boolean', value: 'true' });
  for (const actor of gates.actors) rows.push({ gate: 'actors', value: actor });
  for (const group of gates.groups) rows.push({ gate: 'groups', value: group });
  if (gates.percentageOfActors > 0) rows.push({ gate: 'percentage_of_actors', value: String(gates.percentageOfActors) });
  if (gates.percentageOfTime > 0) rows.push({ gate: 'percentage_of_time', value: String(gates.percentageOfTime) });
  return rows;
}

/** Rows of one flag, in any order. Unknown gate names (from a newer lagless) are ignored, not fatal. */
export function rowsToGates(rows: readonly GateRow[]): FlagGates {
  let boolean = false;
  let percentageOfActors = 0;
  let percentageOfTime = 0;
  const actors: string[] = [];
  const groups: string[] = [];
  for (const row of rows) {
    if (row.gate === 'boolean') boolean = row.value === 'true';
    else if (row.gate === 'actors') actors.push(row.value);
    else if (row.gate === 'groups') groups.push(row.value);
    else if (row.gate === 'percentage_of_actors') percentageOfActors = Number(row.value);
    else if (row.gate === 'percentage_of_time') percentageOfTime = Number(row.value);
  }
  if (!boolean && actors.length === 0 && groups.length === 0 && !percentageOfActors && !percentageOfTime) return EMPTY_GATES;
  return { boolean, actors: actors.sort(), groups: groups.sort(), percentageOfActors, percentageOfTime };
}
