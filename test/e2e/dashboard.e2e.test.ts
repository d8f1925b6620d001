import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import type { WorkerRuntime } from '../../src/server/worker-runtime.js';
import { waitFor } from '../helpers/log-capture.js';
import { flagDefinitionsDir, listen } from '../support/dashboard-client.js';

// The dashboard in Debian's Chromium against a live app: real Redis, a PostgreSQL primary with a streaming
// replica, workers running, flags stored in PostgreSQL. Screenshots of every page go to test-output/screenshots.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TOKEN = `e2e-${randomBytes(12).toString('hex')}`;
const XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

describe.skipIf(!existsSync(CHROMIUM))('dashboard in a real browser', () => {
  let cluster: PostgresCluster;
  let redis: RedisServerHandle;
  let app: LaglessApp;
  let worker: WorkerRuntime;
  let browser: BrowserContext;
  let page: Page;
  let base: string;
  let closeServer: () => Promise<void>;
  let feed: NodeJS.Timeout;
  let dir: string;
  const definitions = flagDefinitionsDir();
  const prefix = `e2e${randomBytes(3).toString('hex')}`;
  const mailHealthy = { value: false };

  beforeAll(async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'lagless-chromium-'));
    [cluster, redis, browser] = await Promise.all([
      startPostgresCluster({ replicas: 1 }),
      startRedisServer(),
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 800 },
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
    app = createLagless({
      redis: { url: redis.url, prefix },
      databases: { main: { primary: cluster.primaryUrl, replicas: cluster.replicaUrls, healthCheckIntervalMs: 500 } },
      flags: { definitions, environment: 'production' },
      logger: false,
      dashboard: { token: TOKEN, basePath: '/lagless', sampleIntervalMs: 500 },
    });
    await app.migrate();
    const Mail = app.defineWorker({
      name: 'WelcomeEmail',
      queue: 'mail',
      retry: false,
      dataConsistency: 'sticky', // stamps wal_locations, which the job details show
      perform: (args: { userId: number; note?: string; bounce?: boolean }) => {
        if (args.bounce && !mailHealthy.value) throw new Error(`mailbox of user ${args.userId} does not exist`);
      },
    });
    const Refresh = app.defineWorker({
      name: 'RefreshCache',
      queue: 'media',
      idempotent: true,
      dataConsistency: 'sticky',
      perform: async (_args: { id: number }, ctx) => void (await ctx.db('main').query('select 1')),
    });
    const Thumbnail = app.defineWorker({ name: 'Thumbnail', queue: 'media', concurrencyLimit: 1, perform: () => new Promise((resolve) => setTimeout(resolve, 300)) });
    await Mail.enqueue({ userId: 1, note: XSS, bounce: true });
    worker = app.worker({ queues: ['mail', 'media'], concurrency: 4 });
    await worker.start();
    let n = 0;
    // A steady trickle so every chart has something to draw: sends, and twins that deduplicate.
    feed = setInterval(() => {
      n++;
      void Mail.enqueue({ userId: 100 + n }).catch(() => undefined);
      void Refresh.enqueue({ id: n % 3 }).catch(() => undefined);
      void Refresh.enqueue({ id: n % 3 }).catch(() => undefined);
      if (n % 2 === 0) void Thumbnail.enqueue({ n }).catch(() => undefined);
    }, 100);
    const served = await listen(app.dashboard.handler);
    base = `${served.base}/lagless/`;
    closeServer = served.close;
    await app.dashboard.start();
    page = await browser.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`a native dialog opened: ${dialog.message()}`);
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'lagless-e2e-cli-'));
    writeFileSync(join(dir, 'lagless.config.json'), JSON.stringify({ defaultEnvironment: 'production', flags: { definitions }, environments: { production: { redis: { url: redis.url, prefix }, databases: { main: { primary: cluster.primaryUrl } } } } }));
  }, 60_000);

  afterAll(async () => {
    clearInterval(feed);
    await browser?.close();
    await worker?.stop();
    await closeServer?.();
    await app?.close();
    await Promise.all([cluster?.stop(), redis?.stop()]);
    rmSync(definitions, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Points drawn by a chart so far (the chart writes it on every update). */
  async function points(chart: string): Promise<number> {
    return Number(await page.locator(`#chart-${chart}`).getAttribute('data-points'));
  }

  /** The chart has a canvas with something painted on it, and gains points as samples arrive. */
  async function expectLiveChart(chart: string): Promise<void> {
    await page.locator(`#chart-${chart} canvas`).waitFor();
    const painted = await page.locator(`#chart-${chart} canvas`).evaluate((canvas: HTMLCanvasElement) => {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
      return false;
    });
    expect(painted, `${chart} draws`).toBe(true);
    const before = await points(chart);
    await waitFor(async () => (await points(chart)) > before, 5_000, `chart ${chart} to update`);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('overview: queue table and live charts of throughput, latency and backlog', async () => {
    await page.goto(base);
    await page.locator('#queues tr[data-queue="mail"]').waitFor();
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    for (const chart of ['throughput', 'latency', 'backlog']) await expectLiveChart(chart);
    await waitFor(async () => Number((await page.locator('#stat-processed .value').textContent())?.replace(/,/g, '')) > 0, 5_000, 'processed/s above 0');
    // The limited worker's row: its limit, one running, the rest deferred (read from the store every 2 s).
    const limitRow = page.locator('#limits tr[data-worker="Thumbnail"]');
    await waitFor(async () => Number(await limitRow.locator('td').nth(7).textContent().catch(() => '0')) > 0, 10_000, 'deferred thumbnails on the overview');
    expect(await limitRow.locator('td').allTextContents()).toEqual(['media', 'Thumbnail', '1', expect.stringMatching(/^[01]$/), '–', '–', expect.any(String), expect.any(String), expect.any(String)]);
    await shot('overview');
  });

  it('jobs: signs in, shows a hostile payload as text, and retries a dead job', async () => {
    await waitFor(async () => (await app.store.queueSizes('mail')).dead === 1, 10_000, 'the bounced mail to die');
    await page.goto(`${base}jobs?queue=mail&state=dead`);
    await page.locator('#sign-in').click();
    await page.locator('#sign-in-dialog input[name=token]').fill(TOKEN);
    await page.locator('#sign-in-dialog [data-action=confirm]').click();
    await page.waitForURL(/jobs\?queue=mail&state=dead/);
    await expect.poll(() => page.locator('#sign-in').textContent()).toBe('Sign out');
    const row = page.locator('#job-rows tr[data-jid]').first();
    await row.waitFor();
    expect(await row.locator('td.args').textContent()).toContain(XSS.slice(0, 40));
    expect(await page.locator('#jobs img, #jobs script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await row.locator('td button.link').click();
    await expect.poll(() => page.locator('.details dl').textContent()).toMatch(/wal_locations\{"main":"[0-9A-F]+\/[0-9A-F]+"\}/);
    // The dead job keeps the stack of its error: the first frame is the worker's perform in this file.
    expect(await page.locator('.details pre.backtrace').textContent()).toMatch(/^at (Object\.)?perform \(.*dashboard\.e2e\.test\.ts:\d+:\d+\)/);
    await shot('jobs');

    mailHealthy.value = true; // the mailbox exists now: the retried job succeeds
    const processed = (await app.store.queueCounters('mail')).processed;
    await row.locator('[data-action=retry]').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('.toast').first().textContent()).toMatch(/^Retrying /);
    await waitFor(async () => (await app.store.queueSizes('mail')).dead === 0 && (await app.store.queueCounters('mail')).processed > processed, 10_000, 'the retried job to run');
    await expect.poll(() => page.locator('#job-rows').textContent()).toMatch(/No jobs here/);
  });

  it('deduplication: absorbed twins per queue and live dedup charts', async () => {
    await page.goto(`${base}dedup`);
    await page.locator('#dedup-rows tr[data-queue="media"]').waitFor();
    await waitFor(async () => Number((await page.locator('#dedup-rows tr[data-queue="media"] td').nth(2).textContent())?.replace(/,/g, '')) > 0, 5_000, 'absorbed twins');
    for (const chart of ['deduplicated', 'rescheduled', 'keys']) await expectLiveChart(chart);
    expect(await page.locator('#dedup-workers').textContent()).toContain('RefreshCache');
    await shot('dedup');
  });

  it('databases: primary and replica online, replica lag and the strategy mix as live charts', async () => {
    await page.goto(`${base}databases`);
    await page.locator('#hosts tr[data-role="replica"]').waitFor();
    expect(await page.locator('#hosts tr[data-role="primary"] .badge').textContent()).toBe('online');
    await expect.poll(() => page.locator('#hosts tr[data-role="replica"] .badge').textContent()).toBe('online');
    for (const chart of ['lag-bytes', 'lag-seconds', 'strategies']) await expectLiveChart(chart);
    expect(await page.locator('#chart-strategies').getAttribute('data-series')).toBe('replica,replica_retried,primary,primary_no_wal,retry');
    await shot('databases');
  });

  it('flags: a percentage change through the UI asks for confirmation, is audited and is what the CLI reads', async () => {
    await page.goto(`${base}flags?flag=dash_rollout`);
    await page.locator('#flags tr[data-flag="dash_rollout"]').waitFor();
    expect(await page.locator('#flags tr[data-flag="dash_rollout"] a').getAttribute('href')).toBe('https://example.com/issues/7');
    const form = page.locator('form[data-control=percentageOfActors]');
    await form.locator('input').fill('25');
    await form.locator('button').click();
    const dialog = page.locator('dialog#confirm');
    expect(await dialog.textContent()).toMatch(/Change dash_rollout in production\?.*Percentage of actors: 0% → 25%/);
    await dialog.locator('[data-action=cancel]').click();
    expect((await app.flags.get('dash_rollout')).gates).toBeNull(); // cancelled: nothing written

    await form.locator('button').click();
    await dialog.locator('input[name=by]').fill('Grace Hopper');
    await dialog.locator('[data-action=confirm]').click();
    await expect.poll(() => page.locator('#history tbody tr').first().textContent()).toMatch(/percentage_of_actors.*Grace Hopper \(dashboard\).*default \(off\).*25% of actors/);
    expect(await page.locator('#flags tr[data-flag="dash_rollout"] .badge').textContent()).toBe('conditional');
    await shot('flags');

    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', TSX, MAIN, 'feature', 'get', 'dash_rollout', '--env', 'production'], { cwd: dir }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr })),
    );
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/dash_rollout \[production\]: conditional \(25% of actors\)/);
  });

  it('stays usable on a narrow screen, and says so when databases and flags are not configured', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(base);
    await page.locator('#queues tr[data-queue="mail"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot('overview-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });

    const bare = createLagless({ logger: false });
    const served = await listen(bare.dashboard.handler);
    try {
      await page.goto(`${served.base}/databases`);
      await expect.poll(() => page.locator('.panel').textContent()).toMatch(/Databases are not configured/);
      expect(await page.locator('#access-note').textContent()).toMatch(/Changes are disabled/);
      await shot('databases-not-configured');
    } finally {
      await served.close();
      await bare.close();
    }
  });

  it('pauses a queue with its button, shows the pause on every page, and resumes it', async () => {
    await page.goto(base);
    if ((await page.locator('#sign-in').textContent()) === 'Sign in') {
      await page.locator('#sign-in').click();
      await page.locator('#sign-in-dialog input[name=token]').fill(TOKEN);
      await page.locator('#sign-in-dialog [data-action=confirm]').click();
      await expect.poll(() => page.locator('#sign-in').textContent()).toBe('Sign out');
    }
    const row = page.locator('#queues tr[data-queue="mail"]');
    await row.locator('[data-action=pause]').waitFor();
    await row.locator('[data-action=pause]').click();
    expect(await page.locator('dialog#confirm').textContent()).toMatch(/Pause queue mail\?.*Every worker stops fetching its jobs within a second/);
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('.toast').last().textContent()).toBe('Paused mail.');
    await waitFor(async () => (await app.store.queuePausedAt(['mail']))[0] !== undefined, 5_000, 'the pause to be stored');
    await expect.poll(() => row.locator('.tag.paused').count()).toBe(1);
    for (const path of ['', 'jobs?queue=media', 'dedup', 'databases', 'flags']) {
      await page.goto(base + path);
      await expect.poll(() => page.locator('#paused-queues').textContent(), { message: `banner on /${path}` }).toMatch(/^Paused: mail\. Workers fetch none of their jobs/);
    }
    // Enqueues go on (the feed) while the worker leaves mail alone.
    const ready = (await app.store.queueSizes('mail')).ready;
    await waitFor(async () => (await app.store.queueSizes('mail')).ready > ready + 3, 5_000, 'mail jobs to pile up while paused');
    await page.goto(base);
    await shot('overview-paused');
    await row.locator('[data-action=resume]').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('#paused-queues').isHidden()).toBe(true);
    await waitFor(async () => (await app.store.queueSizes('mail')).ready < 5, 10_000, 'mail to drain once resumed');
  });
});
