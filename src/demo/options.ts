import { parseArgs } from 'node:util';

export interface DemoOptions {
  flag: 'on' | 'off' | 'both';
  users: number;
  lagMs: number;
  keepOpen: boolean;
}

const USAGE = 'usage: npm run demo -- [--flag on|off|both] [--users N] [--lag-ms N] [--keep-open]';

export function parseDemoOptions(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: { flag: { type: 'string', default: 'both' }, users: { type: 'string', default: '200' }, 'lag-ms': { type: 'string', default: '1500' }, 'keep-open': { type: 'boolean', default: false } },
  });
  const flag = values.flag;
  const users = Number(values.users);
  const lagMs = Number(values['lag-ms']);
  if (flag !== 'on' && flag !== 'off' && flag !== 'both') throw new Error(`--flag must be on, off or both; got '${flag}'. ${USAGE}`);
  if (!Number.isInteger(users) || users < 1 || users > 100_000) throw new Error(`--users must be a whole number from 1 to 100000; got '${values.users}'. ${USAGE}`);
  if (!Number.isInteger(lagMs) || lagMs < 200 || lagMs > 60_000) throw new Error(`--lag-ms must be a whole number from 200 to 60000; got '${values['lag-ms']}'. ${USAGE}`);
  return { flag, users, lagMs, keepOpen: values['keep-open'] ?? false };
}
