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
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startDock, type DockSimulator } from '../../src/simulators/dji-dock';
import { newHuaweiIds, runHuaweiSequence } from '../../src/simulators/huawei-pushes';
import { collectingOutput } from '../../src/simulators/output';
import { freePort } from '../support/mosquitto';

const ROOT = join(__dirname, '..', '..');
const SERVER = join(ROOT, 'dist', 'src', 'server.js');
const SCREENSHOT = join(ROOT, 'test-results', 'dashboard.png');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true';
const HAVE_CHROMIUM = existsSync(CHROMIUM);

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `Skipping the dashboard browser test: no Chromium at ${CHROMIUM}. ` +
      'Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.',
  );
}

/** Polls `check` until true; the message names what was awaited and, if given, what was last seen. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000, seen?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; last seen: ${await seen()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The built gateway as a child process. */
interface GatewayProcess {
  readonly url: string;
  readonly mqttUrl: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly dir: string;
  output(): string;
}

async function startGatewayProcess(): Promise<GatewayProcess> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: the global setup runs npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'ota-e2e-'));
  const port = await freePort();
  const mqttPort = await freePort();
  const child = spawn(process.execPath, [SERVER], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      DATABASE_URL: `sqlite:${join(dir, 'gateway.sqlite')}`,
      LOG_LEVEL: 'warn',
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  await until(
    async () => {
      if (gone) throw new Error(`the gateway exited while starting:\n${output}`);
      return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
    },
    'the gateway to be ready',
    20_000,
  );
  return { url, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, child, dir, output: () => output };
}

async function stopGatewayProcess(gateway: GatewayProcess): Promise<void> {
  if (gateway.child.exitCode === null && gateway.child.signalCode === null) {
    const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
    gateway.child.kill('SIGTERM');
    const timer = setTimeout(() => gateway.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(gateway.dir, { recursive: true, force: true });
}

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

async function fillForm(page: Page, values: [string, string][]): Promise<void> {
  for (const [label, value] of values) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByLabel('Upgrade type', { exact: true }).selectOption('REGULAR');
}

const text = async (locator: Locator) => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '').trim() : '');

(HAVE_CHROMIUM || IN_CI ? describe : describe.skip)('the dashboard in Chromium', () => {
  let gateway: GatewayProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let loads = 0;
  const pageErrors: string[] = [];
  const docks: DockSimulator[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
    gateway = await startGatewayProcess();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('load', () => loads++);
    page.on('pageerror', (error) => pageErrors.push(error.message));
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
    if (gateway) await stopGatewayProcess(gateway);
  });

  afterEach(() => {
    // Uncaught exceptions in the page fail the test that caused them.
    expect(pageErrors).toEqual([]);
  });

  test('a validation error from the gateway is shown beside its field, and nothing is started', async () => {
    const sn = `E2E${randomUUID().slice(0, 8).toUpperCase()}`;
    await fillForm(page, formValues(sn).map(([label, value]): [string, string] => [label, label === 'MD5 of the file' ? 'not-an-md5' : value]));
    await page.getByRole('button', { name: 'Start the upgrade' }).click();

    const md5 = page.getByLabel('MD5 of the file', { exact: true });
    const md5Field = page.locator('.field', { has: md5 });
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
