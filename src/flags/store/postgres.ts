import { actionFor, applyFlagValue, checkFlagValue } from '../values.js';
import type { FlagGates } from '../types.js';
import { DEFAULT_HISTORY_LIMIT, type FlagAuditEntry, type FlagChange, type FlagSetParams, type FlagStore } from './flag-store.js';
import { gatesToRows, rowsToGates, type GateRow } from './gate-rows.js';
import { inTransaction, type FlagPool, type FlagQueryable } from './queryable.js';

/**
 * FlagStore on PostgreSQL (tables from migrations/001). Writes go to the primary: pass a pool on the primary.
 * Each write locks the flag row, rewrites that flag's gate rows and appends the audit row in one transaction.
 */
export class PostgresFlagStore implements FlagStore {
  constructor(private readonly pool: FlagPool) {}

  async flagLoadAll({ environment }: { environment: string }): Promise<ReadonlyMap<string, FlagGates>> {
    const { rows } = await this.pool.query(
      `SELECT f.name, g.gate, g.value FROM lagless_feature_flags f
       LEFT JOIN lagless_feature_gates g ON g.environment = f.environment AND g.flag = f.name
       WHERE f.environment = $1`,
      [environment],
    );
    const byFlag = new Map<string, GateRow[]>();
    for (const row of rows as Array<{ name: string; gate: string | null; value: string | null }>) {
      const list = byFlag.get(row.name) ?? [];
      if (row.gate !== null && row.value !== null) list.push({ gate: row.gate, value: row.value });
      byFlag.set(row.name, list);
    }
    return new Map([...byFlag].map(([name, list]) => [name, rowsToGates(list)]));
  }

  async flagGet({ environment, name }: { environment: string; name: string }): Promise<FlagGates | undefined> {
    return readGates(this.pool, environment, name);
  }

  async flagSet(params: FlagSetParams): Promise<FlagChange> {
    const value = checkFlagValue(params.name, params.value);
    return inTransaction(this.pool, async (client) => {
      // The upsert locks the row, so concurrent writers to one flag serialise and each sees the other's result.
      const { rows } = await client.query(
        `INSERT INTO lagless_feature_flags (environment, name) VALUES ($1, $2)
         ON CONFLICT (environment, name) DO UPDATE SET updated_at = now() RETURNING (xmax = 0) AS inserted`,
        [params.environment, params.name],
      );
      const oldGates = rows[0].inserted ? null : ((await readGates(client, params.environment, params.name)) ?? null);
      const newGates = applyFlagValue(oldGates ?? undefined, value);
      await client.query('DELETE FROM lagless_feature_gates WHERE environment = $1 AND flag = $2', [params.environment, params.name]);
      const gateRows = gatesToRows(newGates);
      if (gateRows.length > 0) {
        await client.query(
          `INSERT INTO lagless_feature_gates (environment, flag, gate, value)
           SELECT $1, $2, g, v FROM unnest($3::text[], $4::text[]) AS t(g, v)`,
          [params.environment, params.name, gateRows.map((r) => r.gate), gateRows.map((r) => r.value)],
        );
      }
      return audit(client, { environment: params.environment, name: params.name, by: params.by, action: actionFor(value), oldGates, newGates });
    });
  }

  async flagDelete({ environment, name, by }: { environment: string; name: string; by: string }): Promise<FlagChange | null> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query('SELECT 1 FROM lagless_feature_flags WHERE environment = $1 AND name = $2 FOR UPDATE', [environment, name]);
      if (rows.length === 0) return null;
      const oldGates = (await readGates(client, environment, name)) ?? null;
      await client.query('DELETE FROM lagless_feature_flags WHERE environment = $1 AND name = $2', [environment, name]);
      return audit(client, { environment, name, by, action: 'delete', oldGates, newGates: null });
    });
  }

  async flagHistory({ environment, name, limit }: { environment: string; name: string; limit?: number }): Promise<FlagAuditEntry[]> {
    const { rows } = await this.pool.query(
      `SELECT id, at, by, environment, flag, action, old_value, new_value FROM lagless_feature_flag_audit
       WHERE environment = $1 AND flag = $2 ORDER BY id DESC LIMIT $3`,
      [environment, name, limit ?? DEFAULT_HISTORY_LIMIT],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: row.at as Date,
      by: row.by as string,
      environment: row.environment as string,
      name: row.flag as string,
      action: row.action as string,
      oldGates: row.old_value as FlagGates | null,
      newGates: row.new_value as FlagGates | null,
    }));
  }

  async flagNames(): Promise<string[]> {
    const { rows } = await this.pool.query('SELECT DISTINCT name FROM lagless_feature_flags ORDER BY name');
    return rows.map((row: { name: string }) => row.name);
  }
}

async function readGates(db: FlagQueryable, environment: string, name: string): Promise<FlagGates | undefined> {
  const { rows } = await db.query(
    `SELECT g.gate, g.value FROM lagless_feature_flags f
     LEFT JOIN lagless_feature_gates g ON g.environment = f.environment AND g.flag = f.name
     WHERE f.environment = $1 AND f.name = $2`,
    [environment, name],
  );
  if (rows.length === 0) return undefined;
  return rowsToGates((rows as Array<{ gate: string | null; value: string }>).filter((r): r is GateRow => r.gate !== null));
}

async function audit(db: FlagQueryable, change: Omit<FlagChange, 'at'>): Promise<FlagChange> {
  const { rows } = await db.query(
    `INSERT INTO lagless_feature_flag_audit (by, environment, flag, action, old_value, new_value)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING at`,
    [change.by, change.environment, change.name, change.action, jsonOrNull(change.oldGates), jsonOrNull(change.newGates)],
  );
  return { ...change, at: rows[0].at as Date };
}

// SQL NULL for "nothing stored" (JSON.stringify(null) would store the JSON value null instead).
function jsonOrNull(gates: FlagGates | null): string | null {
  return gates === null ? null : JSON.stringify(gates);
}
