import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefinitions, readDefinitions } from '../../src/flags/definitions.js';
import { FlagDefinitionError } from '../../src/flags/errors.js';
import { lintFlags } from '../../src/flags/lint.js';

const root = mkdtempSync(join(tmpdir(), 'lagless-flags-defs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(dir: string, rel: string, body: string): void {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), body);
}
const yml = (name: string, type: string, defaultEnabled: unknown = false): string =>
  `name: ${name}\ntype: ${type}\ndefault_enabled: ${String(defaultEnabled)}\ngroup: group::x\nmilestone: 1.2\n`;

describe('flag definitions', () => {
  it('loads lagless’s own definitions even without an app directory', () => {
    const defs = loadDefinitions({ dirs: [join(root, 'does-not-exist')] });
    const own = defs.get('preserve_latest_wal_locations_for_idempotent_jobs');
    expect(own).toMatchObject({ type: 'development', defaultEnabled: true, builtin: true });
  });

  it('loads valid app files in camelCase', () => {
    const dir = join(root, 'ok');
    write(dir, 'beta/new_search.yml', yml('new_search', 'beta', true));
    const defs = loadDefinitions({ dirs: [dir] });
    expect(defs.get('new_search')).toMatchObject({ type: 'beta', defaultEnabled: true, milestone: '1.2', group: 'group::x', builtin: false });
  });

  it('reports one line per problem and refuses to load', () => {
    const dir = join(root, 'bad');
    write(dir, 'development/wrong_name.yml', yml('other_name', 'development'));
    write(dir, 'ops/type_mismatch.yml', yml('type_mismatch', 'beta'));
    write(dir, 'development/CamelCase.yml', yml('CamelCase', 'development'));
    write(dir, 'weird/odd_type.yml', yml('odd_type', 'weird'));
    write(dir, 'experiment/ab_test.yml', yml('ab_test', 'experiment', true));
    write(dir, 'ops/not_bool.yml', yml('not_bool', 'ops', '"yes"'));
    write(dir, 'ops/broken_yaml.yml', 'name: [unclosed');
    write(dir, 'beta/new_search.yml', yml('new_search', 'beta'));
    write(dir, 'ops/new_search.yml', yml('new_search', 'ops'));
    const { problems } = readDefinitions({ dirs: [dir] });
    const expectLine = (file: string, text: string): void => {
      expect(problems.filter((p) => p.includes(file) && p.includes(text))).toHaveLength(1);
    };
    expectLine('wrong_name.yml', "does not match the file name 'wrong_name.yml'");
    expectLine('type_mismatch.yml', "does not match its folder 'ops/'");
    expectLine('CamelCase.yml', 'is not snake_case');
    expectLine('odd_type.yml', "type 'weird' is not a known type");
    expectLine('ab_test.yml', "default_enabled: true is not allowed for type 'experiment'");
    expectLine('not_bool.yml', 'default_enabled is required and must be true or false');
    expectLine('broken_yaml.yml', 'not valid YAML');
    expectLine('ops/new_search.yml', "duplicate flag name 'new_search'");
    expect(problems).toHaveLength(8);
    expect(() => loadDefinitions({ dirs: [dir] })).toThrow(FlagDefinitionError);
  });

  it('lists every problem of one file, not just the first', () => {
    const dir = join(root, 'multi');
    write(dir, 'ops/some_flag.yml', yml('Other', 'beta', 'maybe'));
    write(dir, 'ops/list.yml', '- a\n- b\n');
    const { problems } = readDefinitions({ dirs: [dir] });
    expect(problems.filter((p) => p.includes('some_flag.yml')).map((p) => p.split(': ').slice(1).join(': '))).toEqual([
      'default_enabled is required and must be true or false',
      "name 'Other' does not match the file name 'some_flag.yml'",
      "name 'Other' is not snake_case (lowercase letters, digits and single underscores)",
      "type 'beta' does not match its folder 'ops/' (move the file or fix the type)",
    ]);
    expect(problems.filter((p) => p.includes('list.yml'))).toEqual([expect.stringContaining('must be a YAML mapping')]);
  });

  it('lint adds undefined stored flags and unreferenced definitions', () => {
    const dir = join(root, 'lint');
    write(dir, 'beta/used_flag.yml', yml('used_flag', 'beta'));
    write(dir, 'beta/stale_flag.yml', yml('stale_flag', 'beta'));
    const src = join(root, 'lint-src');
    write(src, 'app.ts', "if (flags.enabled('used_flag')) {}\n");
    write(src, 'node_modules/x/index.js', "'stale_flag'\n");
    const result = lintFlags({ definitionDirs: [dir], storedNames: ['used_flag', 'ghost_flag'], srcDirs: [src] });
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(/^database: flag 'ghost_flag' is stored but has no definition/);
    expect(result.problems[1]).toMatch(/stale_flag\.yml: flag 'stale_flag' is never referenced/);
    expect(lintFlags({ definitionDirs: [dir] }).problems).toEqual([]);
  });
});
