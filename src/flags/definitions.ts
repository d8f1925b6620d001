import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { checkDefinition } from './definition-rules.js';
import { FlagDefinitionError } from './errors.js';
import type { FlagDefinition } from './types.js';

/**
 * Loads `<dir>/<type>/<name>.yml` files. lagless's own definitions (repo/package `config/feature_flags`) are
 * always loaded alongside the application's: from src/flags or dist/flags, `../../config` is the package root.
 */
export const BUILTIN_DEFINITIONS_DIR = fileURLToPath(new URL('../../config/feature_flags', import.meta.url));

export interface DefinitionSet {
  readonly definitions: ReadonlyMap<string, FlagDefinition>;
  /** One line per problem, `<file>: <what is wrong>`; empty when every file is valid. */
  readonly problems: readonly string[];
}

export interface LoadDefinitionsOptions {
  /** The application's definitions directory (or several). A missing directory is not an error. */
  readonly dirs?: readonly string[];
  /** Load lagless's own definitions too (default true). */
  readonly builtin?: boolean;
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function readDir(dir: string, builtin: boolean, out: FlagDefinition[], problems: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir).sort()) {
    const folderPath = join(dir, entry);
    if (!statSync(folderPath).isDirectory()) {
      if (/\.ya?ml$/.test(entry)) problems.push(`${displayPath(folderPath)}: must sit in a type folder, e.g. ${displayPath(join(dir, 'development', entry))}`);
      continue;
    }
    for (const file of readdirSync(folderPath).sort()) {
      const source = join(folderPath, file);
      if (extname(file) === '.yaml') problems.push(`${displayPath(source)}: use the .yml extension`);
      if (extname(file) !== '.yml') continue;
      let raw: unknown;
      try {
        raw = parseYaml(readFileSync(source, 'utf8'));
      } catch (err) {
        problems.push(`${displayPath(source)}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
        continue;
      }
      const result = checkDefinition({ raw, fileName: basename(file, '.yml'), folder: entry, source, builtin });
      if (result.ok) out.push(result.definition);
      else problems.push(...result.problems.map((p) => `${displayPath(source)}: ${p}`));
    }
  }
}

/** Reads and validates every definition; never throws for bad files (that is what `problems` is for). */
export function readDefinitions(options: LoadDefinitionsOptions = {}): DefinitionSet {
  const found: FlagDefinition[] = [];
  const problems: string[] = [];
  if (options.builtin !== false) readDir(BUILTIN_DEFINITIONS_DIR, true, found, problems);
  // Inside the lagless repo itself the app directory can be the builtin one; read it once, not as duplicates.
  const appDirs = (options.dirs ?? []).filter((dir) => options.builtin === false || resolve(dir) !== BUILTIN_DEFINITIONS_DIR);
  for (const dir of new Set(appDirs.map((d) => resolve(d)))) readDir(dir, false, found, problems);
  const definitions = new Map<string, FlagDefinition>();
  for (const def of found) {
    const first = definitions.get(def.name);
    if (first) {
      problems.push(`${displayPath(def.source)}: duplicate flag name '${def.name}' (also defined in ${displayPath(first.source)})`);
      continue;
    }
    definitions.set(def.name, def);
  }
  return { definitions, problems };
}

/** Like readDefinitions, but refuses to start with invalid definitions (one line per problem in the error). */
export function loadDefinitions(options: LoadDefinitionsOptions = {}): ReadonlyMap<string, FlagDefinition> {
  const { definitions, problems } = readDefinitions(options);
  if (problems.length > 0) throw new FlagDefinitionError(problems);
  return definitions;
}
