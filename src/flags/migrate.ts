import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FlagError } from './errors.js';
import { inTransaction, type FlagPool } from './store/queryable.js';

/**
 * Versioned SQL migrations: `NNN_description.sql`, applied in order, each recorded in
 * lagless_schema_migrations under a component name. All pending files run in one transaction behind an
 * advisory lock, so concurrent `lagless migrate` runs are safe and a failing file leaves nothing half-done.
 * Never edit an applied file: add the next number.
 */
export const FLAG_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

// Arbitrary constant shared by every lagless migrator; serialises them across processes.
const MIGRATION_LOCK_KEY = 4_611_686_018_427_387_903n;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new FlagError('MIGRATION_NAME', `Migration file '${file}' must be named NNN_snake_case.sql.`);
      return { version: Number(match[1]), name: file, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new FlagError('MIGRATION_NAME', `Two migrations share version ${m.version} in ${dir}.`);
  });
  return migrations;
}

export interface MigrateResult {
  readonly applied: readonly string[];
}

export async function runMigrations(pool: FlagPool, component: string, dir: string): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS lagless_schema_migrations (
      component text NOT NULL, version integer NOT NULL, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`);
    const { rows } = await client.query('SELECT version FROM lagless_schema_migrations WHERE component = $1', [component]);
    const done = new Set(rows.map((row: { version: number }) => row.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO lagless_schema_migrations (component, version, name) VALUES ($1, $2, $3)', [component, migration.version, migration.name]);
      applied.push(migration.name);
    }
    return { applied };
  });
}

/** Creates or upgrades the flag tables; what `lagless migrate` and `app.migrate()` call for flags. */
export function migrateFlags(pool: FlagPool): Promise<MigrateResult> {
  return runMigrations(pool, 'flags', FLAG_MIGRATIONS_DIR);
}
