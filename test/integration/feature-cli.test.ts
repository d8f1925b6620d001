import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

// `lagless migrate` and `lagless feature …` as a user runs them: a spawned process, a config file in its
// working directory, a private PostgreSQL (one database per environment) and a private redis-server.
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const DEFINITIONS = new URL('../fixtures/feature_flags', import.meta.url).pathname;

let cluster: PostgresCluster;
let redis: RedisServerHandle;
let dir: string;
const urls: Record<string, string> = {};
const pools = new Map<string, pg.Pool>();
let app: LaglessApp;
const prefix = `fc${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startPostgresCluster({ replicas: 0 }), startRedisServer()]);
  const admin = new pg.Pool({ connectionString: cluster.primaryUrl, max: 1 });
  for (const env of ['development', 'production']) {
    await admin.query(`CREATE DATABASE flags_${env}`);
    urls[env] = cluster.primaryUrl.replace(/\/postgres$/, `/flags_${env}`);
  }
  await admin.end();
  dir = mkdtempSync(join(tmpdir(), 'lagless-feature-cli-'));
  const environment = (env: string) => ({ redis: { url: redis.url, prefix }, databases: { main: { primary: urls[env] } } });
  const config = { flags: { definitions: DEFINITIONS }, environments: { development: environment('development'), production: environment('production') } };
  writeFileSync(join(dir, 'lagless.config.json'), JSON.stringify(config));
  const down = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
  const index = pathToFileURL(new URL('../../src/index.ts', import.meta.url).pathname).href;
  const appConfig = { logger: false, databases: { main: { primary: urls.production } }, flags: { environment: 'production' } };
  writeFileSync(join(dir, 'app.mjs'), `import { createLagless } from '${index}';\nexport default createLagless(${JSON.stringify(appConfig)});\n`);
  writeFileSync(join(dir, 'down.mjs'), `export default ${JSON.stringify({ ...config, environments: { ...config.environments, down: { databases: { main: { primary: down } } } } })};`);
});
afterAll(async () => {
  await app?.close();
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  await Promise.all([cluster?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { LAGLESS_ENV: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, env: { ...inherited, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function pool(env: string): pg.Pool {
  let found = pools.get(env);
  if (!found) {
    found = new pg.Pool({ connectionString: urls[env], max: 1 });
    // pool.end() resolves before its sockets close; the server's shutdown notice may still reach one.
    found.on('error', (err: Error & { code?: string }) => {
      if (err.code !== '57P01') throw err;
    });
    pools.set(env, found);
  }
  return found;
}

/** Every row of every flag table in both databases: "unchanged" means exactly equal. */
async function everything(): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const db of [pool('development'), pool('production')]) {
    for (const table of ['lagless_feature_flags', 'lagless_feature_gates', 'lagless_feature_flag_audit']) {
      out.push((await db.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3`)).rows);
    }
  }
  return out;
}

describe('lagless migrate and lagless feature', { timeout: 90_000 }, () => {
  it('migrates every selected environment once', async () => {
    const first = await cli(['migrate', '--env', 'development,production']);
    expect(first).toMatchObject({ code: 0, stdout: 'development: applied 001_feature_flags.sql\nproduction: applied 001_feature_flags.sql\n' });
    const again = await cli(['migrate', '--production', '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ results: [{ environment: 'production', applied: [] }] });
    expect(await cli(['migrate', '--app', 'app.mjs'])).toMatchObject({ code: 0, stdout: 'production: up to date\n' });
  });

  it('sets, gets, lists, shows history and deletes per environment; a running app sees a change within 1 s', async () => {
    app = createLagless({ logger: false, redis: { url: redis.url, prefix }, databases: { main: { primary: urls.production! } }, flags: { definitions: DEFINITIONS, environment: 'production' } });
    await app.flags.start();

    const rollout = await cli(['feature', 'set', 'new_checkout', '25', '--actors', '--production', '--by', 'alice']);
    expect(rollout).toMatchObject({ code: 0, stdout: 'new_checkout [production]: default -> 25% of actors (percentage_of_actors by alice)\n' });
    expect(JSON.parse(rollout.stderr)).toMatchObject({ key: 'new_checkout', action: 'percentage_of_actors', 'extra.environment': 'production', 'extra.by': 'alice' });
    await waitFor(() => app.flags.evaluate('new_checkout', 'User:1').reason === 'SPLIT', 1000, 'the app sees the CLI change');

    const actors = await cli(['feature', 'set', 'new_checkout', 'true', '--user', '1,2', '--project=7', '--dev', '--by', 'bob']);
    expect(actors.stdout).toBe('new_checkout [development]: default -> actors Project:7, User:1, User:2 (enable_actors by bob)\n');

    const got = JSON.parse((await cli(['feature', 'get', 'new_checkout', '--env=development,production', '--json'])).stdout);
    expect(got.flags.map((f: { environment: string; state: string; gates: { percentageOfActors: number; actors: string[] } }) => [f.environment, f.state, f.gates.percentageOfActors, f.gates.actors])).toEqual([
      ['development', 'conditional', 0, ['Project:7', 'User:1', 'User:2']],
      ['production', 'conditional', 25, []],
    ]);

    const list = await cli(['feature', 'list'], { LAGLESS_ENV: 'development' });
    expect(list.stdout.split('\n').filter(Boolean)).toEqual([
      'new_checkout [development]: conditional (actors Project:7, User:1, User:2) — beta, default_enabled false, group::checkout',
      'preserve_latest_wal_locations_for_idempotent_jobs [development]: on (nothing stored, default applies) — development, default_enabled true, group::scalability',
      'refresh_dedup [development]: off (nothing stored, default applies) — worker, default_enabled false, group::scalability',
    ]);

    await cli(['feature', 'set', 'new_checkout', '50', '--actors', '--production', '--by', 'alice']);
    const history = await cli(['feature', 'history', 'new_checkout', '--production', '--limit', '1']);
    expect(history.stdout).toMatch(/^new_checkout \[production\]:\n {2}\S+ {2}alice {2}percentage_of_actors: 25% of actors -> 50% of actors\n$/);

    const deleted = await cli(['feature', 'delete', 'new_checkout', '--production', '--by', 'carol']);
    expect(deleted.stdout).toBe('new_checkout [production]: 50% of actors -> default (delete by carol)\n');
    await waitFor(() => app.flags.evaluate('new_checkout', 'User:1').reason === 'DEFAULT', 1000, 'the app sees the delete');
    const none = await cli(['feature', 'delete', 'new_checkout', '--production']);
    expect(none).toMatchObject({ code: 0, stdout: 'new_checkout: nothing stored in production; the default already applies\n' });
  });

  const bad: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['unknown flag', ['feature', 'set', 'no_such_flag', 'true', '--dev'], {}, /Feature flag 'no_such_flag' has no definition/],
    ['percentage above 100', ['feature', 'set', 'new_checkout', '100.5', '--dev'], {}, /percentage must be between 0 and 100, got 100.5/],
    ['more than 3 decimals', ['feature', 'set', 'new_checkout', '0.0001', '--actors', '--dev'], {}, /percentage 0.0001 has more than 3 decimals/],
    ['--actors with true', ['feature', 'set', 'new_checkout', 'true', '--actors', '--dev'], {}, /--actors only goes with a percentage/],
    ['unknown environment', ['feature', 'set', 'new_checkout', 'true', '--env', 'development,qa'], {}, /Unknown environment 'qa'. Known environments: development, production/],
    ['unknown LAGLESS_ENV', ['feature', 'set', 'new_checkout', 'true'], { LAGLESS_ENV: 'qa' }, /LAGLESS_ENV=qa is not an environment in .*lagless.config.json/],
    ['no environment selected', ['feature', 'delete', 'new_checkout'], {}, /No environment selected: pass --env=<name>/],
    ['unreachable database', ['feature', 'set', 'new_checkout', 'true', '--config', 'down.mjs', '--env', 'development,down'], {}, /Feature flag storage is unreachable: down flags database postgres:\/\/postgres@127.0.0.1:\d+\/postgres: connect ECONNREFUSED/],
    ['unreachable database on delete', ['feature', 'delete', 'new_checkout', '--config', 'down.mjs', '--env', 'development,down'], {}, /Feature flag storage is unreachable/],
    ['missing config file', ['feature', 'set', 'new_checkout', 'true', '--dev', '--config', 'nope.json'], {}, /Config file .*nope.json does not exist/],
  ];
  it('exits non-zero with one clear line and changes nothing on bad input', async () => {
    await cli(['feature', 'set', 'new_checkout', 'true', '--dev']);
    const before = await everything();
    const runs = await Promise.all(bad.map(([, args, env]) => cli(args, env)));
    runs.forEach((run, i) => {
      const [label, , , message] = bad[i]!;
      expect({ label, code: run.code, stdout: run.stdout, lines: run.stderr.trim().split('\n').length }).toEqual({ label, code: 1, stdout: '', lines: 1 });
      expect(run.stderr, label).toMatch(new RegExp(`^lagless: .*${message.source}`));
    });
    expect(await everything()).toEqual(before);
  });

  it('lints definitions and reports stored flags that have none', async () => {
    const clean = await cli(['feature', 'lint', '--no-database']);
    expect(clean).toMatchObject({ code: 0, stdout: '3 flag definitions OK\n' });
    await pool('production').query("INSERT INTO lagless_feature_flags (environment, name) VALUES ('production', 'retired_flag')");
    const stale = await cli(['feature', 'lint']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe("database: flag 'retired_flag' is stored but has no definition (delete it with `lagless feature delete retired_flag`)\n");
  });
});
