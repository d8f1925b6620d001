import { parseArgs } from 'node:util';

export interface DemoOptions {
  flag: 'on' | 'off' | 'both';
  users: number;
  lagMs: number;
  /** The dashboard's port, 0 for any free one; undefined: 4567, or any free one when 4567 is taken. */
  port: number | undefined;
  keepOpen: boolean;
}

const USAGE = 'usage: npm run demo -- [--flag on|off|both] [--users N] [--lag-ms N] [--port N] [--keep-open] (--help for details)';

export const DEMO_HELP = `Usage: npm run demo -- [options]

The job system in brief, then the stale read that preserving the latest WAL locations prevents, on an embedded
PostgreSQL primary with a lagging streaming replica (and a private redis-server when one is on PATH).

Options:
  --flag on|off|both  run part 2 with preserve_latest_wal_locations_for_idempotent_jobs off, on, or both side by side (default: both)
  --users N           users in part 2, from 1 to 100000 (default: 200)
  --lag-ms N          how late the replica applies WAL, from 200 to 60000 ms (default: 1500)
  --port N            the dashboard's port, 0 for any free one (default: 4567, or a free one when 4567 is taken)
  --keep-open         keep the dashboard up after the demo, until Ctrl-C
  -h, --help          print this help
`;

/** The demo's options, or 'help' when it should print DEMO_HELP and exit. */
export function parseDemoOptions(argv: string[]): DemoOptions | 'help' {
  const { values } = parseOrExplain(argv);
  if (values.help) return 'help';
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

function parseOrExplain(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        flag: { type: 'string', default: 'both' },
        users: { type: 'string', default: '200' },
        'lag-ms': { type: 'string', default: '1500' },
        port: { type: 'string' },
        'keep-open': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // parseArgs says "Unknown option '--x'. To specify a positional argument starting with a '-', …": keep its first sentence.
    throw new Error(`${(error as Error).message.split('. ')[0]}. ${USAGE}`, { cause: error });
  }
}
