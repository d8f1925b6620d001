import type { Redis } from 'ioredis';

/** One section of INFO as numbers where they parse; the harness only reads a few numeric fields. */
export async function infoSection(admin: Redis, section: 'cpu' | 'memory' | 'server'): Promise<Map<string, string>> {
  const text = await admin.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** used_cpu_sys + used_cpu_user of the redis-server process, in µs. */
export async function redisCpuUs(admin: Redis): Promise<number> {
  const cpu = await infoSection(admin, 'cpu');
  return (Number(cpu.get('used_cpu_sys')) + Number(cpu.get('used_cpu_user'))) * 1e6;
}

export async function redisUsedMemory(admin: Redis): Promise<number> {
  return Number((await infoSection(admin, 'memory')).get('used_memory'));
}
