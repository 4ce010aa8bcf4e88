/**
 * The dashboard's Devices view in a real browser: the built gateway as a
 * child process, Debian's Chromium through playwright-core, simulated docks
 * (with aircraft) on its embedded broker. Everything after the first load
 * arrives live. Run with `npm run test:e2e`.
 */
import type { Browser, Page } from 'playwright-core';
import { startDock, type DockSimulator } from '../../src/simulators/dji-dock';
import { collectingOutput } from '../../src/simulators/output';
import { describeInChromium, launchChromium, startGatewayUnderTest, until, watchConsole, type GatewayUnderTest } from './support';

describeInChromium('the Devices view in Chromium', () => {
  let under: GatewayUnderTest | undefined;
  let url = '';
  let mqttUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  const docks: DockSimulator[] = [];
  const consoleLines: string[] = [];

  beforeAll(async () => {
    under = await startGatewayUnderTest('devices');
    url = under.url;
    mqttUrl = under.mqttUrl;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watchConsole(page, consoleLines);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(docks.map((d) => d.close()));
    await browser?.close();
    await under?.stop();
  });

  const row = (sn: string) => page.locator(`#devices-rows tr[data-device-id="${sn}"]`);

  test('devices appear live with online dot, model and version; filters and the version chart work; a dock going away turns offline live', async () => {
    docks.push(await startDock({ gatewaySn: 'E2EDOCK1', mqttUrl, output: collectingOutput(), firmwareVersion: '10.01.3202', consistencyUpgradeNeeded: true }));
    await page.goto(`${url}/dashboard`);
    await until(async () => (await row('E2EDOCK1').count()) === 1, 'the first dock in the table');
    // A dock that connects after the page loaded comes in live.
    docks.push(
      await startDock({ gatewaySn: 'E2EDOCK2', mqttUrl, output: collectingOutput(), dockModel: '3-3-0', aircraft: { sn: 'E2EUAV2', model: '0-100-1', firmwareVersion: '01.00.0001' } }),
    );
    await until(async () => (await row('E2EUAV2').count()) === 1, 'the second dock\'s aircraft, live');
    await until(async () => ((await row('E2EDOCK1').textContent()) ?? '').includes('10.01.3202'), 'the first dock\'s version');
    const first = (await row('E2EDOCK1').textContent()) ?? '';
    expect(first).toContain('DJI Dock 2 (3-2-0)');
    expect(first).toContain('Needs consistency upgrade');
    expect(await row('E2EDOCK1').locator('.dot').getAttribute('data-online')).toBe('true');
    expect((await row('E2EUAV2').textContent()) ?? '').toContain('DJI Matrice 4TD (0-100-1)');

    await until(async () => ((await page.locator('#versions-chart').textContent()) ?? '').includes('DJI Dock 3 (3-3-0): 1 device'), 'the version chart');

    await page.locator('#devices-filter').getByLabel('Model key').fill('3-3-0');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await until(async () => (await page.locator('#devices-rows tr').count()) === 1, 'the filtered table');
    expect(await row('E2EDOCK2').count()).toBe(1);
    await page.getByRole('button', { name: 'Clear' }).click();
    await until(async () => (await page.locator('#devices-rows tr').count()) === 4, 'the whole table again');

    await docks[0].close();
    await until(async () => (await row('E2EDOCK1').locator('.dot').getAttribute('data-online')) === 'false', 'the dock offline, live');
    expect(consoleLines).toEqual([]);
  });
});
