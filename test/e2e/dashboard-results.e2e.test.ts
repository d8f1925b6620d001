import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, serveDashboard, type LaglessApp, type ServedDashboard } from '../../src/index.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { waitFor } from '../helpers/log-capture.js';
import { flagDefinitionsDir } from '../support/dashboard-client.js';

// Bulk actions, search, job progress, per-minute history and the flags of `lagless dashboard`, in Debian's Chromium.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe.skipIf(!existsSync(CHROMIUM))('dashboard bulk actions, search, progress, history and flags in a real browser', () => {
  let redis: RedisServerHandle;
  let cluster: PostgresCluster;
  let app: LaglessApp;
  let browser: BrowserContext;
  let page: Page;
  let served: ServedDashboard;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const definitions = flagDefinitionsDir();
  const prefix = `e2r${randomBytes(3).toString('hex')}`;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    [redis, cluster, browser] = await Promise.all([
      startRedisServer(),
      startPostgresCluster({ replicas: 0 }),
      chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'lagless-chromium-')), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
    app = createLagless({ redis: { url: redis.url, prefix }, databases: { main: { primary: cluster.primaryUrl } }, flags: { definitions, environment: 'production' }, logger: false });
    await app.migrate();
    page = await browser.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`a native dialog opened: ${dialog.message()}`);
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    release();
    for (const child of children) child.kill('SIGKILL');
    await browser?.close();
    await served?.close();
    await app?.close();
    await Promise.all([redis?.stop(), cluster?.stop()]);
    for (const dir of [definitions, ...dirs]) rmSync(dir, { recursive: true, force: true });
  });

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const rows = (): Promise<string[]> => page.locator('#job-rows tr[data-jid]').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.jid!));

  it('selects and retries dead jobs, searches their arguments, deletes all matching, and finds a job by jid', async () => {
    const Mail = app.defineWorker({ name: 'Mailer', queue: 'mail', retry: false, perform: () => { throw new Error('mailbox full'); } });
    const jids = [];
    for (let i = 0; i < 6; i++) jids.push((await Mail.enqueue({ user: i, tier: i < 3 ? 'vip' : 'std' })).jid);
    const worker = app.worker({ queues: ['mail'] });
    await worker.start();
    await waitFor(async () => (await app.store.queueSizes('mail')).dead === 6, 10_000, 'six dead jobs');
    await worker.stop();
    served = await serveDashboard(app, { port: 0 });

    await page.goto(`${served.url}jobs?queue=mail&state=dead`);
    await expect.poll(rows).toHaveLength(6);
    await page.locator('#search-text').fill('vip');
    await page.locator('#search button[type=submit]').click();
    await expect.poll(rows).toHaveLength(3);
    expect(await page.locator('#summary').textContent()).toMatch(/3 matching dead jobs among 6 looked at .* at most 2,000 per page/);
    const vip = await rows();
    await page.locator(`#job-rows tr[data-jid="${vip[0]}"] input.select`).check();
    await page.locator(`#job-rows tr[data-jid="${vip[1]}"] input.select`).check();
    expect(await page.locator('#selected-count').textContent()).toBe('2 selected');
    await shot('jobs-bulk-selected');
    await page.locator('#bulk-retry').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('.toast').first().textContent()).toMatch(/Retried 2 job\(s\)/);
    await expect.poll(rows).toEqual([vip[2]]);
    expect(await app.store.queueSizes('mail')).toMatchObject({ dead: 4, ready: 2 });

    await page.locator('#bulk-delete-all').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('.toast').last().textContent()).toMatch(/Deleted 1 job\(s\)/);
    expect(await app.store.queueSizes('mail')).toMatchObject({ dead: 3 });
    await page.locator('#clear-search').click();
    await expect.poll(rows).toHaveLength(3);

    await page.locator('#filter-class').fill('Nobody');
    await page.locator('#search button[type=submit]').click();
    await expect.poll(() => page.locator('#job-rows').textContent()).toMatch(/No jobs here/);
    await page.locator('#clear-search').click();
    await page.locator('#search-jid').fill(vip[0]!);
    await page.locator('#search button[type=submit]').click();
    await expect.poll(() => page.locator('#summary').textContent()).toBe(`Job ${vip[0]} is ready in 'mail'.`);
    expect(await page.locator('[role=tab][aria-selected=true]').getAttribute('data-state')).toBe('ready');
    await expect.poll(rows).toEqual([vip[0]]);
  });

  it('shows a running job\'s progress in its details', async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    const Report = app.defineWorker({
      name: 'Report',
      queue: 'reports',
      keepResult: { ttlMs: 60_000 },
      perform: async (_args: object, ctx) => {
        await ctx.progress({ rows: 750, of: 1000 });
        await held;
        return 'ok';
      },
    });
    const { jid } = await Report.enqueue({});
    const worker = app.worker({ queues: ['reports'] });
    await worker.start();
    await waitFor(async () => (await app.jobs.get(jid))?.progress !== undefined, 10_000, 'progress reported');
    await page.goto(`${served.url}jobs?queue=reports&state=active`);
    await page.locator(`#job-rows tr[data-jid="${jid}"] td button.link`).click();
    await expect.poll(() => page.locator('.details li[data-field=progress]').textContent()).toBe('progress: {"rows":750,"of":1000}');
    await shot('jobs-progress');
    release();
    expect(await app.jobs.wait(jid, { timeoutMs: 5000 })).toMatchObject({ state: 'completed', result: 'ok' });
    await worker.stop();
  });

  it('draws the last hour per minute from the store, so a dashboard started now is not empty', async () => {
    await served.close();
    served = await serveDashboard(app, { port: 0 }); // a new dashboard: nothing sampled yet
    await page.goto(served.url);
    await expect.poll(async () => Number(await page.locator('#chart-history').getAttribute('data-total'))).toBeGreaterThanOrEqual(7);
    await page.locator('#chart-history canvas').waitFor();
    await shot('overview-history');
  });

  it('lagless dashboard shows the environment\'s stored flags, or says flags are not configured and offers no changes', async () => {
    await app.flags.set('dash_rollout', true, { by: 'e2e' });
    const dir = mkdtempSync(join(tmpdir(), 'lagless-e2e-flags-'));
    const bare = mkdtempSync(join(tmpdir(), 'lagless-e2e-noflags-'));
    dirs.push(dir, bare);
    writeFileSync(join(dir, 'lagless.config.json'), JSON.stringify({ flags: { definitions }, environments: { production: { redis: { url: redis.url, prefix }, databases: { main: { primary: cluster.primaryUrl } } } } }));
    const start = async (cwd: string, args: string[]): Promise<string> => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', TSX, MAIN, 'dashboard', '--port', String(port), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitFor(async () => out.includes('Dashboard:'), 30_000, 'the dashboard to listen');
      return `http://127.0.0.1:${port}/`;
    };
    const [configured, unconfigured] = await Promise.all([start(dir, ['--env', 'production']), start(bare, ['--redis', redis.url, '--prefix', prefix])]);

    await page.goto(`${configured}flags`);
    await expect.poll(() => page.locator('#flags tr[data-flag="dash_rollout"] .badge').textContent()).toBe('on');
    await shot('flags-cli-environment');

    await page.goto(`${unconfigured}flags`);
    await expect.poll(() => page.locator('.panel').first().textContent()).toMatch(/Feature flags are not configured\..*changes are refused/);
    expect(await page.locator('#flags tr[data-flag]').count()).toBe(0);
    await shot('flags-cli-not-configured');
  }, 90_000);
});
