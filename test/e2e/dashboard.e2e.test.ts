/**
 * The dashboard in a real browser: the built gateway runs as a child process
 * (`node dist/src/server.js`, free ports, its own SQLite file), Debian's
 * Chromium opens GET /dashboard through playwright-core, and the simulators
 * play the devices. Everything is checked on the one page load: progress must
 * arrive live, never through a reload.
 *
 * Run with `npm run test:e2e` (jest.e2e.config.js builds first). No Chromium:
 * skipped with a message, or a failure under CI=true.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDock, type DockSimulator } from '../../src/simulators/dji-dock';
import { newHuaweiIds, runHuaweiSequence } from '../../src/simulators/huawei-pushes';
import { collectingOutput } from '../../src/simulators/output';
import { describeInChromium, launchChromium, startGatewayUnderTest, text, until, watchConsole, type GatewayUnderTest } from './support';

const ROOT = join(__dirname, '..', '..');
const SCREENSHOT = join(ROOT, 'test-results', 'dashboard.png');

/** Valid values for every field of the upgrade form, keyed by label. */
function formValues(sn: string): [label: string, value: string][] {
  return [
    ['Dock serial number', sn],
    ['Device serial number', sn],
    ['Firmware version', '10.01.3202'],
    ['File URL', 'https://oss.example/fw/dock_10.01.3202.zip'],
    ['MD5 of the file', 'e4d909c290d0fb1ca068ffaddf22cbd0'],
    ['File size in bytes', '123456789'],
    ['File name', 'dock_10.01.3202.zip'],
  ];
}

/** The DJI upgrade form (the package form further down has fields of the same names). */
const upgradeForm = (page: Page) => page.locator('#upgrade-form');

async function fillForm(page: Page, values: [string, string][]): Promise<void> {
  for (const [label, value] of values) await upgradeForm(page).getByLabel(label, { exact: true }).fill(value);
  await upgradeForm(page).getByLabel('Upgrade type', { exact: true }).selectOption('REGULAR');
}

describeInChromium('the dashboard in Chromium', () => {
  let gateway: GatewayUnderTest | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let loads = 0;
  const consoleLines: string[] = [];
  const docks: DockSimulator[] = [];

  beforeAll(async () => {
    gateway = await startGatewayUnderTest('dashboard');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('load', () => loads++);
    watchConsole(page, consoleLines);
    await page.goto(`${gateway.url}/dashboard`);
    // Live updates on, and the (empty) list read: the page is ready.
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await until(async () => (await text(page.locator('#tasks-empty'))) === 'No upgrade tasks yet.', 'the empty task list');
    // Every aria-valuenow the page ever shows, to prove progress moved while we watched.
    // (Runs in the page; `globalThis` is its window. The test compiles without DOM types.)
    await page.evaluate(() => {
      const w = globalThis as any;
      w.seenPercents = {};
      new w.MutationObserver((records: { target: any }[]) => {
        for (const { target } of records) {
          const name = target.getAttribute('aria-label') ?? '?';
          (w.seenPercents[name] ??= []).push(Number(target.getAttribute('aria-valuenow')));
        }
      }).observe(w.document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(docks.map((d) => d.close()));
    await browser?.close();
    await gateway?.stop();
  });

  afterEach(() => {
    // Uncaught exceptions and console messages in the page fail the test that caused them.
    expect(consoleLines).toEqual([]);
  });

  test('a validation error from the gateway is shown beside its field, and nothing is started', async () => {
    const sn = `E2E${randomUUID().slice(0, 8).toUpperCase()}`;
    await fillForm(page, formValues(sn).map(([label, value]): [string, string] => [label, label === 'MD5 of the file' ? 'not-an-md5' : value]));
    await page.getByRole('button', { name: 'Start the upgrade' }).click();

    const md5 = upgradeForm(page).getByLabel('MD5 of the file', { exact: true });
    const md5Field = upgradeForm(page).locator('.field', { has: page.getByLabel('MD5 of the file', { exact: true }) });
    await until(async () => (await md5.getAttribute('aria-invalid')) === 'true', 'the md5 field to be marked invalid');
    // The gateway's own words, in the error line of the md5 field, which describes the input.
    expect(await text(md5Field.locator('.field-error'))).toBe('must be exactly 32 hexadecimal digits');
    const errorId = await md5Field.locator('.field-error').getAttribute('id');
    expect((await md5.getAttribute('aria-describedby'))?.split(' ')).toContain(errorId);
    expect(await md5Field.locator('.field-error').isVisible()).toBe(true);
    // The other fields are fine.
    expect(await page.locator('[aria-invalid="true"]').count()).toBe(1);
    // And the summary at the top links to it.
    await page.locator('#form-errors').waitFor({ state: 'visible' });
    expect(await text(page.locator('#form-errors-list a[href="#devices-0-md5"]'))).toBe('Device 1, MD5 of the file: must be exactly 32 hexadecimal digits');
    expect(await page.locator('article.task').count()).toBe(0);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'dashboard-validation.png'), fullPage: true });
  });

  test('the Huawei form shows a refusal with its message and code (the command side is off here)', async () => {
    await page.getByLabel('Package file id').fill('fw-2.0.0');
    await page.getByLabel('Device ids').fill('dev-1, dev-2');
    await page.getByRole('button', { name: 'Start the Huawei upgrade' }).click();
    const summary = page.locator('#huawei-form-errors');
    await summary.waitFor({ state: 'visible' });
    expect(await text(page.locator('#huawei-form-errors-list'))).toBe(
      'Huawei upgrades are not available: set HUAWEI_API_URL, HUAWEI_APP_ID and HUAWEI_SECRET to turn the Huawei command side on (NOT_IMPLEMENTED)',
    );
    // Focus went to the summary, so it is read out.
    expect(await summary.evaluate((element) => element === (element.ownerDocument as any).activeElement)).toBe(true);
    expect(await page.locator('article.task').count()).toBe(0);
    await page.locator('#huawei-form').evaluate((form) => (form as unknown as { reset(): void }).reset());
  });

  test('Huawei pushes appear live: firmware Succeeded, software Failed', async () => {
    const ids = newHuaweiIds(`e2e-${randomUUID().slice(0, 8)}`);
    const result = await runHuaweiSequence({ url: gateway!.url, ids, output: collectingOutput() });
    expect(result.ok).toBe(true);
    const firmware = page.getByRole('article', { name: `Task ${ids.firmware.operationId}` });
    const software = page.getByRole('article', { name: `Task ${ids.software.operationId}` });
    await until(async () => (await text(firmware.locator('[data-status]'))) === 'Succeeded', 'the firmware task to show Succeeded');
    await until(async () => (await text(software.locator('[data-status]'))) === 'Failed', 'the software task to show Failed');
    expect(await firmware.locator('[data-status]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await firmware.getByRole('progressbar', { name: ids.deviceId }).getAttribute('aria-valuenow')).toBe('100');
    expect(await text(software.locator('td.detail'))).toContain('Error 7');
    expect(loads).toBe(1);
  });

  test('an upgrade started through the form runs live to 100 % and Succeeded, without a reload', async () => {
    const sn = `E2E${randomUUID().slice(0, 8).toUpperCase()}`;
    const output = collectingOutput();
    // The dock, in-process, on the gateway's embedded broker; about 150 ms between reports.
    const dock = await startDock({ gatewaySn: sn, mqttUrl: gateway!.mqttUrl, speed: 2, once: true, output });
    docks.push(dock);
    await page.evaluate(() => ((globalThis as any).sameDocument = true));

    await fillForm(page, formValues(sn));
    await page.getByRole('button', { name: 'Start the upgrade' }).click();
    const started = page.locator('#form-result');
    await until(async () => /^Upgrade started: task \S+\.$/.test(await text(started)), 'the form to say the upgrade started', 10_000, () => text(started));
    const bid = /task (\S+)\.$/.exec(await text(started))![1];
    // The earlier validation error is gone.
    expect(await page.locator('[aria-invalid="true"]').count()).toBe(0);

    const task = page.getByRole('article', { name: `Task ${bid}` });
    const bar = task.getByRole('progressbar', { name: sn });
    const status = task.locator('[data-status]');
    const seen = async () => `aria-valuenow=${await bar.getAttribute('aria-valuenow')} status=${await text(status)}`;
    await until(
      async () => (await bar.count()) === 1 && (await bar.getAttribute('aria-valuenow')) === '100' && (await text(status)) === 'Succeeded',
      `task ${bid} to reach 100 % and Succeeded`,
      60_000,
      seen,
    );
    expect(await status.getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await text(task.locator('[data-task-status]'))).toBe('Succeeded');
    expect(await text(task.locator('td.detail'))).toContain('Step: upgrade_firmware');

    // Progress came live: the bar went through values between 0 and 100 on this same page load.
    const percents: number[] = await page.evaluate((name) => (globalThis as any).seenPercents[name] ?? [], sn);
    expect(percents.filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(5);
    expect(await page.evaluate(() => (globalThis as any).sameDocument)).toBe(true);
    expect(loads).toBe(1);

    const summary = await dock.done;
    expect(summary.upgrades).toEqual([expect.objectContaining({ bid, outcome: 'ok', repliesMissing: 0 })]);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
