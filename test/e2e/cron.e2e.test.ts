import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { listen } from '../support/dashboard-client.js';

// The Cron page in Debian's Chromium: a schedule listed with its next run, paused and resumed through the UI.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;
const TOKEN = `e2e-${randomBytes(12).toString('hex')}`;

describe.skipIf(!existsSync(CHROMIUM))('cron page in a real browser', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  let browser: BrowserContext;
  let page: Page;
  let base: string;
  let closeServer: () => Promise<void>;
  let userDataDir: string;

  beforeAll(async () => {
    userDataDir = mkdtempSync(join(tmpdir(), 'lagless-chromium-'));
    [redis, browser] = await Promise.all([
      startRedisServer(),
      chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 }, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }),
    ]);
    app = createLagless({ redis: { url: redis.url, prefix: `e2e${randomBytes(3).toString('hex')}` }, logger: false, dashboard: { token: TOKEN } });
    const Report = app.defineWorker({ name: 'ReportWorker', queue: 'reports', perform: () => undefined });
    app.schedule('nightly-report', { cron: '0 3 * * *', timezone: 'Europe/Berlin', worker: Report });
    app.schedule('cleanup', { cron: '*/15 * * * *', worker: Report, enabled: false });
    const served = await listen(app.dashboard.handler);
    base = `${served.base}/`;
    closeServer = served.close;
    page = await browser.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`a native dialog opened: ${dialog.message()}`);
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer?.();
    await app?.close();
    await redis?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('lists schedules, and after sign-in pauses and resumes one for every process', async () => {
    await page.goto(`${base}cron`);
    const row = page.locator('#cron-rows tr[data-schedule="nightly-report"]');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/0 3 \* \* \* \(Europe\/Berlin\).*ReportWorker → reports.*active/);
    expect(await page.locator('#cron-rows tr[data-schedule="cleanup"]').textContent()).toMatch(/disabled/);
    // Signed out: no buttons to change anything.
    expect(await row.locator('[data-action]').count()).toBe(0);

    await page.locator('#sign-in').click();
    await page.locator('#sign-in-dialog input[name=token]').fill(TOKEN);
    await page.locator('#sign-in-dialog [data-action=confirm]').click();
    await expect.poll(() => page.locator('#sign-in').textContent()).toBe('Sign out');
    await row.locator('[data-action=pause]').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => page.locator('.toast').first().textContent()).toBe('Paused nightly-report.');
    await expect.poll(() => row.locator('td').nth(3).textContent()).toBe('paused');
    expect((await app.schedules())[0]).toMatchObject({ name: 'nightly-report', paused: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'cron.png'), fullPage: true });

    await row.locator('[data-action=resume]').click();
    await page.locator('dialog#confirm [data-action=confirm]').click();
    await expect.poll(() => row.locator('td').nth(3).textContent()).toBe('active');
    expect((await app.schedules())[0]!.paused).toBe(false);
  });
});
