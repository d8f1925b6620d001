import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from './cli-error.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/**
 * Import the module given as --app. Failures a user can fix by themselves (no such file, ES module syntax in
 * a file Node loads as CommonJS, TypeScript without a loader, a missing package) become one line saying what
 * to do; an error the module itself throws keeps its stack, which points into the user's code.
 */
export async function importAppModule(path: string): Promise<unknown> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`--app ${path}: no such file (${file}); pass the module whose default export is your lagless app.`);
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.has(extname(file))) return importThroughTsx(path, file);
    throw explainLoadFailure(path, error) ?? error;
  }
}

/**
 * Node before 22.18 cannot run TypeScript by itself: register tsx's loader when the app's project has tsx,
 * then import again. Registering is per process, which is what a CLI run is.
 */
async function importThroughTsx(path: string, file: string): Promise<unknown> {
  let loader: string;
  try {
    loader = createRequire(file).resolve('tsx'); // what `node --import tsx` loads: it registers tsx's hooks
  } catch {
    throw new CliError(`--app ${path} is TypeScript, which this Node (${process.version}) cannot load by itself: install tsx in your project (npm install --save-dev tsx) and lagless loads it through tsx, or pass the compiled .js file.`);
  }
  await import(pathToFileURL(loader).href);
  try {
    // Another URL for the same file: Node keeps the failed first import under the plain one.
    return await import(`${pathToFileURL(file).href}?tsx`);
  } catch (error) {
    throw explainLoadFailure(path, error) ?? error;
  }
}

function explainLoadFailure(path: string, error: unknown): CliError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof SyntaxError && /Unexpected token 'export'|Cannot use import statement outside a module/.test(error.message)) {
    // The first stack line names the file that failed to parse: the app, or a file it requires.
    const where = error.stack?.split('\n')[0]?.replace(/:\d+$/, '') ?? path;
    return new CliError(`${where} uses ES module syntax (import/export) but Node loads it as CommonJS: add "type": "module" to its package.json (npm pkg set type=module) or rename it to .mjs; or, staying CommonJS, use require() and end it with module.exports = app.`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return new CliError(`--app ${path} could not be loaded: ${error.message.split('\n')[0]}`);
  return undefined;
}
