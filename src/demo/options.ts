import { parseArgs } from 'node:util';

export interface DemoOptions {
  flag: 'on' | 'off' | 'both';
  users: number;
  lagMs: number;
  /** The dashboard's port, 0 for any free one; undefined: 4567, or any free one when 4567 is taken. */
  port: number | undefined;
  keepOpen: boolean;
}

const USAGE = 'usage: npm run demo -- [--flag on|off|both] [--users N] [--lag-ms N] [--port N] [--keep-open]';

export function parseDemoOptions(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      flag: { type: 'string', default: 'both' },
      users: { type: 'string', default: '200' },
      'lag-ms': { type: 'string', default: '1500' },
      port: { type: 'string' },
      'keep-open': { type: 'boolean', default: false },
    },
  });
  const flag = values.flag;
  const users = Number(values.users);
  const lagMs = Number(values['lag-ms']);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (flag !== 'on' && flag !== 'off' && flag !== 'both') throw new Error(`--flag must be on, off or both; got '${flag}'. ${USAGE}`);
  if (!Number.isInteger(users) || users < 1 || users > 100_000) throw new Error(`--users must be a whole number from 1 to 100000; got '${values.users}'. ${USAGE}`);
  if (!Number.isInteger(lagMs) || lagMs < 200 || lagMs > 60_000) throw new Error(`--lag-ms must be a whole number from 200 to 60000; got '${values['lag-ms']}'. ${USAGE}`);
  if (port !== undefined && (values.port!.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new Error(`--port must be a whole number from 0 to 65535 (0 for any free port); got '${values.port}'. ${USAGE}`);
  }
  return { flag, users, lagMs, port, keepOpen: values['keep-open'] ?? false };
}
