// A second OS process for the propagation test: evaluates one flag and prints a line whenever its snapshot reloads.
// argv: <postgres url> <redis url> <channel> <flag>
import pg from 'pg';
import { Redis } from 'ioredis';
import { createFlags } from '../../src/flags/flags.js';
import { loadDefinitions } from '../../src/flags/definitions.js';
import { RedisFlagChangeBus } from '../../src/flags/redis-change-bus.js';
import { PostgresFlagStore } from '../../src/flags/store/postgres.js';

const [pgUrl, redisUrl, channel, flag] = process.argv.slice(2) as [string, string, string, string];
const pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
const redis = new Redis(redisUrl);
const flags = createFlags({
  store: new PostgresFlagStore(pool),
  definitions: loadDefinitions(),
  environment: 'production',
  logger: { info: () => undefined, warn: () => undefined },
  bus: new RedisFlagChangeBus(redis, channel),
  reloadIntervalMs: 60_000, // far beyond the test's 1 s budget: only the notice can make it in time
});
flags.onChange(() => process.stdout.write(`${JSON.stringify({ enabled: flags.enabled(flag) })}\n`));
await flags.start();
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await flags.close();
  redis.disconnect();
  await pool.end();
  process.exit(0);
});
