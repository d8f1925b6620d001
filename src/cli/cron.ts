import type { Command } from 'commander';
import type { ScheduleStatus } from '../cron/schedules.js';
import { withAppOptions } from './app-options.js';
import { loadApp, type AppSource } from './load-app.js';

/** `lagless cron list|pause|resume`: the schedules live in the app's code, so every command needs --app. */
export function registerCron(program: Command): void {
  const cron = program.command('cron').description('cron schedules: list them, pause and resume them');
  withAppOptions(cron.command('list').description('schedules with their expression, next run, last run and last jid'))
    .option('--json', 'print one JSON array (times as epoch ms)')
    .action(async (options: AppSource & { json?: boolean }) => {
      const app = await loadApp(options, { needsWorkers: true });
      try {
        const schedules = await app.schedules();
        if (options.json) return console.log(JSON.stringify(schedules));
        if (schedules.length === 0) return console.error('This app defines no schedules (app.schedule(name, { cron, worker })).');
        console.table(schedules.map(row));
      } finally {
        await app.close();
      }
    });
  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    withAppOptions(cron.command(`${verb} <name>`).description(paused ? 'stop firing a schedule in every process (its ticks pass without a job) until resumed' : 'fire a paused schedule again from its next tick'))
      .action(async (name: string, options: AppSource) => {
        const app = await loadApp(options, { needsWorkers: true });
        try {
          await (paused ? app.pauseSchedule(name) : app.resumeSchedule(name));
          console.log(paused ? `Paused schedule '${name}'.` : `Resumed schedule '${name}'; it fires from its next tick.`);
        } finally {
          await app.close();
        }
      });
  }
}

function row(s: ScheduleStatus): Record<string, string> {
  return {
    name: s.name,
    cron: s.timezone === 'UTC' ? s.cron : `${s.cron} (${s.timezone})`,
    worker: s.worker,
    state: !s.enabled ? 'disabled' : s.paused ? 'paused' : 'active',
    'next run': time(s.nextRunMs),
    'last run': time(s.lastRunMs),
    'last jid': s.lastJid ?? '–',
  };
}

function time(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString();
}
