#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LaglessError } from '../errors.js';
import { registerCron } from './cron.js';
import { registerDashboard } from './dashboard.js';
import { registerDead } from './dead.js';
import { registerDedup } from './dedup.js';
import { registerEnqueue } from './enqueue.js';
import { registerFeature } from './feature.js';
import { registerLimits } from './limits.js';
import { registerMigrate } from './migrate.js';
import { registerQueues } from './queues.js';
import { registerWorker } from './worker.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// Positional options: a command's options belong to the command they follow, so `queues remove x --redis …`
// reaches `remove` (both `queues` and `remove` take --redis).
const program = new Command('lagless').description('Background jobs that never read data older than what caused them.').version(version).exitOverride().enablePositionalOptions();
// stdout carries a command's result only (`lagless enqueue … | jq`), so the default logger of the app a command
// loads writes to stderr. `lagless worker` prints no result: its job logs stay on stdout, where they are collected.
// A logger the app passes itself is used as is.
program.hook('preAction', (_program, command) => {
  if (command.name() !== 'worker') process.env.LAGLESS_LOG_TO ||= 'stderr';
});
registerWorker(program);
registerEnqueue(program);
registerQueues(program);
registerDead(program);
registerDedup(program);
registerDashboard(program);
registerMigrate(program);
registerFeature(program);
registerLimits(program);
registerCron(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(`lagless: ${error instanceof LaglessError ? error.message : (error as Error).stack ?? String(error)}`);
  process.exit(1);
}
