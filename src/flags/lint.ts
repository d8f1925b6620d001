import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { displayPath, readDefinitions } from './definitions.js';

/**
 * `lagless feature lint`: definition problems, plus two cleanup hints — flags stored in the database with no
 * definition, and application definitions that no file under the given source directories mentions.
 * Every problem is one line; the command exits non-zero when there is any.
 */
export interface LintOptions {
  readonly definitionDirs?: readonly string[];
  /** Names stored in the flag tables (any environment); omitted when the database is not consulted. */
  readonly storedNames?: readonly string[];
  /** Source directories searched for references to each application flag name. */
  readonly srcDirs?: readonly string[];
}

export interface LintResult {
  readonly problems: readonly string[];
  readonly definitionCount: number;
}

const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|vue|svelte|rb|py|go|ya?ml|json|erb|haml)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', 'build']);

function collectSources(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  if (statSync(dir).isFile()) {
    out.push(readFileSync(dir, 'utf8'));
    return;
  }
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collectSources(path, out);
    else if (SOURCE_FILE.test(entry)) out.push(readFileSync(path, 'utf8'));
  }
}

export function lintFlags(options: LintOptions = {}): LintResult {
  const { definitions, problems: definitionProblems } = readDefinitions({ dirs: options.definitionDirs ?? [] });
  const problems = [...definitionProblems];
  for (const name of [...new Set(options.storedNames ?? [])].sort()) {
    if (!definitions.has(name)) problems.push(`database: flag '${name}' is stored but has no definition (delete it with \`lagless feature delete ${name}\`)`);
  }
  if (options.srcDirs && options.srcDirs.length > 0) {
    const missingDirs = options.srcDirs.filter((dir) => !existsSync(dir));
    for (const dir of missingDirs) problems.push(`--src: directory '${dir}' does not exist`);
    const sources: string[] = [];
    for (const dir of options.srcDirs) collectSources(dir, sources);
    // lagless's own flags are referenced inside lagless, never in the app's code: only app flags are checked.
    for (const def of definitions.values()) {
      if (def.builtin) continue;
      if (!sources.some((text) => text.includes(def.name))) {
        problems.push(`${displayPath(def.source)}: flag '${def.name}' is never referenced under ${options.srcDirs.join(', ')} (remove it once rolled out)`);
      }
    }
  }
  return { problems, definitionCount: definitions.size };
}
