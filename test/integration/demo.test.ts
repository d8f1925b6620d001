import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/redis-server.js';

const DEMO = new URL('../../src/demo/main.ts', import.meta.url).pathname;

/** Run the demo with its own TMPDIR, so what it leaves behind (or not) can be seen. */
function runDemo(args: string[], onOutput?: (text: string, kill: () => void) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach its data directory
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output, () => child.kill('SIGINT'));
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string; leftovers: string[] }>((resolve) =>
    child.once('exit', (code) => {
      const leftovers = readdirSync(dir);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, leftovers });
    }),
  );
}

describe('npm run demo', () => {
  it('shows stale reads with the flag off and none with it on, then cleans up', async () => {
    const port = await freePort();
    const { code, output, leftovers } = await runDemo(['--users', '20', '--lag-ms', '800', '--port', String(port)]);
    expect(code, output).toBe(0);
    expect(output).toContain(`Dashboard: http://127.0.0.1:${port}/`);
    const stale = /STALE READS DETECTED\s+(\d+)\s+(\d+)/.exec(output);
    expect(stale, output).not.toBeNull();
    expect(Number(stale![1])).toBeGreaterThan(0);
    expect(Number(stale![2])).toBe(0);
    expect(output).toMatch(/dedup_wal_locations \{"main":"[0-9A-F]+\/[0-9A-F]+"\}/);
    expect(leftovers.filter((name) => name.startsWith('lagless-pg-') || name.startsWith('lagless-redis-'))).toEqual([]);
  }, 120_000);

  it('stops every process it started on Ctrl-C', async () => {
    let sent = false;
    const { code, leftovers } = await runDemo(['--users', '2000'], (output, kill) => {
      if (!sent && output.includes('2. Deduplicated jobs')) {
        sent = true;
        kill();
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(leftovers.filter((name) => name.startsWith('lagless-pg-') || name.startsWith('lagless-redis-'))).toEqual([]);
  }, 120_000);

  it('rejects bad options with a usage line', async () => {
    const { code, output } = await runDemo(['--flag', 'maybe']);
    expect(code).toBe(1);
    expect(output).toMatch(/--flag must be on, off or both; got 'maybe'. usage: npm run demo/);
    const badPort = await runDemo(['--port', '65536']);
    expect(badPort.code).toBe(1);
    expect(badPort.output).toMatch(/--port must be a whole number from 0 to 65535 \(0 for any free port\); got '65536'. usage: npm run demo -- .*\[--port N\]/);
  }, 30_000);

  it('says in one line that a --port it was given is taken, and stops what it started', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const { code, output, leftovers } = await runDemo(['--port', String(port)]);
      expect(code, output).toBe(1);
      expect(output.trim().split('\n').at(-1)).toBe(`demo: --port ${port} is taken on 127.0.0.1: pass another port, or --port 0 for any free one.`);
      expect(leftovers.filter((name) => name.startsWith('lagless-pg-') || name.startsWith('lagless-redis-'))).toEqual([]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);
});
