import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFileError } from '../../src/config/config-file.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { redactUrl } from '../../src/cli/environment-connections.js';
import { selectEnvironments } from '../../src/cli/environment-selection.js';

// Config file discovery, validation and the default environment, in process (no spawn, no servers).
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lagless-config-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const db = (name: string) => ({ main: { primary: `postgres://u:secret@db.${name}.internal/app` } });

function write(name: string, content: unknown): string {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return name;
}

describe('lagless.config', () => {
  it('finds lagless.config.mjs in the working directory, resolves definitions next to it and normalises redis', async () => {
    const sub = mkdtempSync(join(dir, 'found-'));
    writeFileSync(join(sub, 'lagless.config.mjs'), `export default ${JSON.stringify({ flags: { definitions: 'flags' }, environments: { staging: { redis: 'redis://r:6379', databases: db('staging') }, production: { redis: { url: 'redis://p:6379', prefix: 'app' } } } })};`);
    const config = await loadConfigFile({ cwd: sub, env: {} });
    expect(config).toMatchObject({
      source: join(sub, 'lagless.config.mjs'),
      defaultEnvironment: undefined,
      flagsDatabase: 'main',
      definitionDirs: [join(sub, 'flags')],
      environments: { staging: { redis: { url: 'redis://r:6379', prefix: 'lagless' } }, production: { redis: { url: 'redis://p:6379', prefix: 'app' } } },
    });
    expect(() => selectEnvironments({}, config)).toThrow(/No environment selected/);
    expect(selectEnvironments({ staging: true, production: true }, config)).toEqual(['staging', 'production']);
    expect(redactUrl(config.environments.staging!.databases!.main!.primary)).toBe('postgres://u:***@db.staging.internal/app');
  });

  it('takes the default environment from LAGLESS_ENV, then defaultEnvironment, then the only environment', async () => {
    const path = write('defaults.json', { defaultEnvironment: 'staging', environments: { staging: {}, production: {} } });
    expect((await loadConfigFile({ path, cwd: dir, env: {} })).defaultEnvironment).toBe('staging');
    expect((await loadConfigFile({ path, cwd: dir, env: { LAGLESS_ENV: 'production' } })).defaultEnvironment).toBe('production');
    const only = write('only.json', { environments: { production: {} } });
    const config = await loadConfigFile({ path: only, cwd: dir, env: {} });
    expect(selectEnvironments({}, config)).toEqual(['production']);
  });

  it('rejects a bad file with one line naming the file, the field and the problem', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['typo.json', { environments: { production: { databse: {} } } }, /typo.json: environments.production: Unrecognized key: "databse"/],
      ['url.json', { environments: { production: { redis: 'localhost:6379' } } }, /url.json: environments.production.redis: .*must start with redis:\/\//],
      ['default.json', { defaultEnvironment: 'qa', environments: { production: {} } }, /default.json: defaultEnvironment: must be one of the names under environments/],
      ['empty.json', { environments: {} }, /empty.json: environments: name at least one environment/],
      ['broken.json', '{ environments: ', /broken.json is not valid JSON/],
      ['nodefault.mjs', 'export const config = {};', /nodefault.mjs must export the config as its default export/],
      ['config.yaml', 'environments: {}', /use a .js, .mjs or .json config file/],
    ];
    for (const [name, content, message] of cases) {
      const error = await loadConfigFile({ path: write(name, content), cwd: dir, env: {} }).catch((err: unknown) => err);
      expect(error, name).toBeInstanceOf(ConfigFileError);
      expect((error as Error).message, name).toMatch(message);
      expect((error as Error).message.split('\n'), name).toHaveLength(1);
    }
    const empty = mkdtempSync(join(dir, 'empty-'));
    await expect(loadConfigFile({ cwd: empty, env: {} })).rejects.toThrow(/No lagless.config.js, lagless.config.mjs, lagless.config.json in .*; create one/);
    expect((await loadConfigFile({ cwd: empty, env: {}, optional: true })).environments).toEqual({});
  });
});
