import type { Redis } from 'ioredis';
import { redisCpuUs } from './redis-info.js';

/** CPU spent per job on each side of the wire: this Node process, and the redis-server process. */
export interface CpuPerJob {
  nodeUs: number;
  redisUs: number;
}

/**
 * Start/stop CPU accounting around one measured run. Node CPU is process.cpuUsage() (user + system) of this
 * process, so it includes the harness loop, which is the same few lines for both systems; Redis CPU comes from
 * INFO cpu, which also counts the two INFO calls (negligible next to thousands of jobs).
 */
export class CpuMeter {
  private constructor(
    private readonly admin: Redis,
    private readonly node: NodeJS.CpuUsage,
    private readonly redisUs: number,
  ) {}

  static async start(admin: Redis): Promise<CpuMeter> {
    const redisUs = await redisCpuUs(admin);
    return new CpuMeter(admin, process.cpuUsage(), redisUs);
  }

  async stop(jobs: number): Promise<CpuPerJob> {
    const node = process.cpuUsage(this.node);
    const redisUs = (await redisCpuUs(this.admin)) - this.redisUs;
    return { nodeUs: (node.user + node.system) / jobs, redisUs: redisUs / jobs };
  }
}
