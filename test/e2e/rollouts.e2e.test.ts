/**
 * The dashboard's Rollouts view in Chromium: the built gateway as a child
 * process with its embedded broker, simulated docks on it answering
 * `ota_create`. A package is registered and a rollout created and started
 * through the forms; its counts and bar reach completion live, on one page
 * load. On a second, slower rollout the Pause, Resume and Cancel buttons do
 * what they say and are offered only where the status allows them; on
 * failing docks the brake pauses a rollout and Retry failures queues them
 * again; a command the gateway refuses is shown with its message and code.
 * The console stays empty throughout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startDock, type DockSimulator } from '../../src/simulators/dji-dock';
import { collectingOutput } from '../../src/simulators/output';
import { describeInChromium, launchChromium, startGatewayUnderTest, text, until, watchConsole, type GatewayUnderTest } from './support';

const ROOT = join(__dirname, '..', '..');

describeInChromium('the Rollouts view in Chromium', () => {
  let under: GatewayUnderTest | undefined;
  let gateway: GatewayUnderTest['gateway'] | undefined;
  let mqttUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  let loads = 0;
  const consoleLines: string[] = [];
  const docks: DockSimulator[] = [];

  /** Docks without aircraft, so each target is one dock. */
  const startDocks = async (prefix: string, count: number, dockModel: string, intervalMs: number, failAt?: number) => {
    for (let i = 1; i <= count; i++) {
      docks.push(await startDock({ gatewaySn: `${prefix}${i}`, mqttUrl, output: collectingOutput(), dockModel, firmwareVersion: '1.0', aircraft: null, intervalMs, failAt }));
    }
  };

  const registerPackage = async (model: string, version: string) => {
    await page.locator('#package-model').fill(model);
    await page.locator('#package-version').fill(version);
    await page.locator('#package-fileUrl').fill(`https://fw.example/${model}/${version}.zip`);
    await page.locator('#package-md5').fill('e4d909c290d0fb1ca068ffaddf22cbd0');
    await page.locator('#package-fileSize').fill('123456');
    await page.locator('#package-fileName').fill(`${model}_${version}.zip`);
    await page.locator('#package-firmwareUpgradeType').selectOption('REGULAR');
    await page.getByRole('button', { name: 'Register the package' }).click();
    await until(async () => (await text(page.locator('#package-form-result'))).startsWith('Package registered'), `package ${model} ${version}`, 10_000, () =>
      text(page.locator('#package-form-errors')),
    );
    // The rollout form offers it.
    await until(async () => (await page.locator('#rollout-packages-list li', { hasText: `${model}) ${version}` }).count()) === 1, `package ${model} ${version} in the rollout form`);
  };

  const createRollout = async (name: string, model: string, prefix: string, maxInProgress: number, when: 'now' | 'later') => {
    await page.locator('#rollout-name').fill(name);
    await page.locator('#rollout-packages-list li', { hasText: `${model})` }).locator('input').check();
    await page.locator('#rollout-f-deviceIdPrefix').fill(prefix);
    await page.locator('#rollout-maxInProgress').fill(String(maxInProgress));
    await page.locator('#rollout-when').selectOption(when);
    await page.getByRole('button', { name: 'Create the rollout' }).click();
  };

  const counts = async (article: Locator) =>
    Object.fromEntries(await article.locator('dd[data-count]').evaluateAll((dds) => dds.map((dd) => [dd.getAttribute('data-count'), Number(dd.textContent)])));

  beforeAll(async () => {
    // A fast engine tick: the test watches several waves.
    under = await startGatewayUnderTest('rollouts', { ROLLOUT_TICK_MS: '200' });
    gateway = under.gateway;
    mqttUrl = under.mqttUrl;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('load', () => loads++);
    watchConsole(page, consoleLines);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(docks.map((d) => d.close()));
    await browser?.close();
    await under?.stop();
  });

  afterEach(() => {
    expect(consoleLines).toEqual([]);
  });

  test('bad input is shown beside its field: a malformed MD5, a filter matching no device', async () => {
    await page.goto(`${gateway!.url}/dashboard`);
    await until(async () => (await text(page.locator('#rollouts-empty'))) === 'No rollouts yet.', 'the empty rollout list');

    await page.locator('#package-model').fill('3-2-0');
    await page.locator('#package-version').fill('9.9');
    await page.locator('#package-fileUrl').fill('https://fw.example/x.zip');
    await page.locator('#package-md5').fill('not-an-md5');
    await page.locator('#package-fileSize').fill('1');
    await page.locator('#package-fileName').fill('x.zip');
    await page.getByRole('button', { name: 'Register the package' }).click();
    await until(async () => (await page.locator('#package-md5').getAttribute('aria-invalid')) === 'true', 'the md5 field marked invalid');
    expect(await text(page.locator('#package-md5-error'))).not.toBe('');
    expect(await page.locator('#package-form-errors a[href="#package-md5"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Register the package' }).focus(); // leave the summary

    await registerPackage('3-2-0', '2.0');
    await createRollout('Nothing', '3-2-0', 'NOSUCHDOCK', 2, 'now');
    await until(async () => (await text(page.locator('#rollout-filter-error'))) === 'matches no device', 'the filter error', 10_000, () => text(page.locator('#rollout-form-errors')));
    expect(await text(page.locator('#rollout-form-errors-list'))).toContain('matches no device');
    expect(await page.locator('article.rollout').count()).toBe(0);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.locator('section[aria-labelledby="rollout-create-heading"]').screenshot({ path: join(ROOT, 'test-results', 'rollout-form-error.png') });
    await page.locator('#rollout-form').evaluate((form) => (form as unknown as { reset(): void }).reset());
  });

  test('a rollout created and started through the forms runs to Completed, its counts and bar live', async () => {
    await startDocks('RODA', 4, '3-2-0', 40);
    await page.locator('#rollout-f-deviceIdPrefix').fill('RODA');
    await until(async () => (await text(page.locator('#rollout-matching'))).startsWith('4 devices'), 'the filter to match the 4 docks', 30_000, () => text(page.locator('#rollout-matching')));
    // Every aria-valuenow the page shows, to prove the bar moved while we watched.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.seenProgress = [];
      new w.MutationObserver((records: { target: any }[]) => {
        for (const { target } of records) w.seenProgress.push(Number(target.getAttribute('aria-valuenow')));
      }).observe(w.document.getElementById('rollouts'), { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });

    await createRollout('Wave A', '3-2-0', 'RODA', 2, 'now');
    await until(async () => (await text(page.locator('#rollout-form-result'))).startsWith('Rollout "Wave A" started: 4 devices, 0 skipped'), 'the form to say it started', 10_000, () =>
      text(page.locator('#rollout-form-result, #rollout-form-errors')),
    );
    const article = page.getByRole('article', { name: 'Wave A' });
    const bar = article.getByRole('progressbar', { name: 'Progress of Wave A' });
    const seen = async () => `${await text(article.locator('.status'))} ${JSON.stringify(await counts(article))}`;
    await until(async () => (await text(article.locator('.status'))) === 'Completed', 'Wave A to complete', 60_000, seen);
    expect(await counts(article)).toEqual({ total: 4, queued: 0, inProgress: 0, succeeded: 4, failed: 0, skipped: 0, canceled: 0 });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    // And it is drawn full (once its 0.3 s transition has run).
    const widths = () => bar.evaluate((b) => `${(b.firstElementChild as any).clientWidth} of ${b.clientWidth}`);
    await until(async () => /^(\d+) of \1$/.test(await widths()), 'the bar drawn full', 5_000, widths);
    // Live: the bar went through values between 0 and 100, on this one page load.
    const progress: number[] = await page.evaluate(() => (globalThis as any).seenProgress);
    expect(progress.some((p) => p > 0 && p < 100)).toBe(true);
    expect(loads).toBe(1);
    // A completed rollout offers no command but what it allows (nothing failed: none).
    for (const name of ['Start', 'Pause', 'Resume', 'Cancel', 'Retry failures']) expect(await article.getByRole('button', { name }).isDisabled()).toBe(true);

    // Its devices, filtered by status.
    await article.getByText('Devices of this rollout').click();
    await until(async () => (await article.locator('tbody tr').count()) === 4, 'the four devices of Wave A');
    expect(await text(article.locator('tbody tr').first().locator('.status'))).toBe('Succeeded');
    await article.getByLabel('Show devices that are').selectOption('FAILED');
    await until(async () => (await article.locator('tbody tr').count()) === 0, 'no failed device');
  });

  test('Start, Pause, Resume and Cancel on another rollout, each offered only where its status allows it', async () => {
    await startDocks('RODB', 4, '3-3-0', 400);
    await registerPackage('3-3-0', '2.0');
    await page.locator('#rollout-f-deviceIdPrefix').fill('RODB');
    await until(async () => (await text(page.locator('#rollout-matching'))).startsWith('4 devices'), 'the filter to match the slow docks', 30_000);
    await createRollout('Wave B', '3-3-0', 'RODB', 1, 'later');
    const article = page.getByRole('article', { name: 'Wave B' });
    const status = article.locator('.status');
    const button = (name: string) => article.getByRole('button', { name, exact: true });
    const enabled = async () => {
      const names = [];
      for (const name of ['Start', 'Pause', 'Resume', 'Cancel', 'Retry failures']) if (!(await button(name).isDisabled())) names.push(name);
      return names;
    };
    await until(async () => (await text(status)) === 'Scheduled', 'Wave B scheduled');
    expect(await enabled()).toEqual(['Start', 'Cancel']);

    await button('Start').click();
    await until(async () => (await text(status)) === 'Running', 'Wave B running');
    expect(await enabled()).toEqual(['Pause', 'Cancel']);
    await until(async () => (await counts(article)).inProgress === 1, 'one device of Wave B in flight', 20_000, async () => JSON.stringify(await counts(article)));

    await button('Pause').click();
    await until(async () => (await text(status)) === 'Paused by an operator', 'Wave B paused');
    expect(await enabled()).toEqual(['Resume', 'Cancel']);
    // The keyboard focus moved from the Pause button, now disabled, to Resume.
    expect(await button('Resume').evaluate((b) => b === (b.ownerDocument as any).activeElement)).toBe(true);

    await button('Resume').click();
    await until(async () => (await text(status)) === 'Running', 'Wave B running again');
    expect(await enabled()).toEqual(['Pause', 'Cancel']);

    await button('Cancel').click();
    await until(async () => (await text(status)) === 'Canceled', 'Wave B canceled');
    expect(await enabled()).toEqual([]);
    // What was queued is canceled; what was in flight finishes and is counted, live.
    await until(async () => (await counts(article)).inProgress === 0, 'the device in flight to finish', 30_000, async () => JSON.stringify(await counts(article)));
    const final = await counts(article);
    expect(final.total).toBe(4);
    expect(final.canceled).toBeGreaterThanOrEqual(1);
    expect(final.succeeded + final.canceled + final.failed).toBe(4);
    expect(await text(article.locator('.error'))).toBe('');
    expect(loads).toBe(1);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.locator('section[aria-labelledby="rollouts-heading"]').screenshot({ path: join(ROOT, 'test-results', 'rollouts.png') });
  });

  test('a rollout set to start at a time waits Scheduled, saying when', async () => {
    await page.locator('#rollout-name').fill('Wave S');
    await page.locator('#rollout-packages-list li', { hasText: '3-3-0)' }).locator('input').check();
    await page.locator('#rollout-f-deviceIdPrefix').fill('RODB');
    await page.locator('#rollout-when').selectOption('at');
    await page.locator('#rollout-startAt').fill('2099-01-01T10:00');
    await page.getByRole('button', { name: 'Create the rollout' }).click();
    await until(async () => (await text(page.locator('#rollout-form-result'))).startsWith('Rollout "Wave S" scheduled for'), 'the form to say it is scheduled', 10_000, () =>
      text(page.locator('#rollout-form-result, #rollout-form-errors')),
    );
    const article = page.getByRole('article', { name: 'Wave S' });
    expect(await text(article.locator('.status'))).toBe('Scheduled');
    expect(await text(article.locator('.rollout-dates'))).toContain('starts by itself at');
    // The time went out as UTC, from the browser's local time.
    const { data } = await gateway!.gql<{ rollouts: { edges: { node: { name: string; startAt: string } }[] } }>(`{ rollouts(first: 1) { edges { node { name startAt } } } }`);
    expect(data!.rollouts.edges[0].node).toEqual({ name: 'Wave S', startAt: new Date(2099, 0, 1, 10, 0).toISOString() });
    // The form is back to "Start now", its time field hidden.
    expect(await page.locator('#rollout-startAt').isVisible()).toBe(false);
    await article.getByRole('button', { name: 'Cancel' }).click();
    await until(async () => (await text(article.locator('.status'))) === 'Canceled', 'Wave S canceled');
  });

  test('the failure brake pauses a rollout live; Retry failures queues the failed devices again', async () => {
    await startDocks('RODF', 3, '3-1-0', 30, 10);
    await registerPackage('3-1-0', '2.0');
    await page.locator('#rollout-f-deviceIdPrefix').fill('RODF');
    await until(async () => (await text(page.locator('#rollout-matching'))).startsWith('3 devices'), 'the filter to match the failing docks', 30_000);
    await page.locator('#rollout-maxFailurePercentage').fill('10');
    await page.locator('#rollout-minFinishedBeforeThreshold').fill('1');
    await page.locator('#rollout-attemptsPerDevice').fill('1');
    await createRollout('Wave F', '3-1-0', 'RODF', 1, 'now');
    const article = page.getByRole('article', { name: 'Wave F' });
    const status = article.locator('.status');
    const seen = async () => `${await text(status)} ${JSON.stringify(await counts(article))}`;
    await until(async () => (await text(status)) === 'Paused by the failure brake', 'the brake to pause Wave F', 30_000, seen);
    expect((await counts(article)).failed).toBe(1);
    expect(await text(article.locator('.rollout-settings'))).toContain('judged once 1 have finished); 1 attempt per device');
    const enabled = await article.locator('.rollout-actions button:not([disabled])').allTextContents();
    expect(enabled).toEqual(['Resume', 'Cancel', 'Retry failures']);

    await article.getByRole('button', { name: 'Retry failures' }).click();
    await until(async () => (await counts(article)).failed === 0, 'the failed device queued again', 10_000, seen);
    expect(await counts(article)).toMatchObject({ total: 3, queued: 3, failed: 0 });
    expect(await article.getByRole('button', { name: 'Retry failures' }).isDisabled()).toBe(true);

    await article.getByRole('button', { name: 'Cancel' }).click();
    await until(async () => (await text(status)) === 'Canceled', 'Wave F canceled', 10_000, seen);
    expect(await counts(article)).toMatchObject({ total: 3, queued: 0, canceled: 3 });
  });

  test('a command the gateway refuses shows its message and code, and the rollout is read again', async () => {
    const { data } = await gateway!.gql<{ firmwarePackages: { edges: { node: { id: string; model: string } }[] } }>(`{ firmwarePackages(first: 10) { edges { node { id model } } } }`);
    const packageId = data!.firmwarePackages.edges.find((e) => e.node.model === '3-3-0')!.node.id;
    const created = await gateway!.gql<{ createRollout: { id: string } }>(
      `mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`,
      { input: { name: 'Wave C', packageIds: [packageId], target: { filter: { deviceIdPrefix: 'RODB' } } } },
    );
    const id = created.data!.createRollout.id;

    // A second page whose live updates of rollouts can be held back: it stays
    // behind, as a page does when another operator acts meanwhile.
    const behind = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    watchConsole(behind, consoleLines);
    let hold = false;
    await behind.routeWebSocket(/\/graphql$/, (socket) => {
      const server = socket.connectToServer();
      socket.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        if (!(hold && String(message).includes('rolloutChanged'))) socket.send(message);
      });
    });
    await behind.goto(`${gateway!.url}/dashboard`);
    const article = behind.getByRole('article', { name: 'Wave C' });
    await until(async () => (await text(article.locator('.status'))) === 'Scheduled', 'Wave C scheduled on the second page');

    hold = true;
    expect((await gateway!.gql(`mutation ($id: ID!) { cancelRollout(id: $id) { status } }`, { id })).data).toEqual({ cancelRollout: { status: 'CANCELED' } });
    await behind.waitForTimeout(500);
    expect(await text(article.locator('.status'))).toBe('Scheduled');

    await article.getByRole('button', { name: 'Start', exact: true }).click();
    const error = article.locator('.error');
    await until(async () => (await text(error)) !== '', 'the refusal on the card');
    expect(await text(error)).toBe('Start failed: Cannot start a CANCELED rollout: only a SCHEDULED rollout can be started (ROLLOUT_STATE_CONFLICT)');
    // Read again: the card catches up and offers nothing more.
    await until(async () => (await text(article.locator('.status'))) === 'Canceled', 'Wave C read again');
    expect(await article.locator('.rollout-actions button:not([disabled])').count()).toBe(0);
    await behind.close();
  });
  test('a Huawei package is registered through the same form: only its platform\'s fields show, a missing file id is named', async () => {
    await page.goto(`${gateway!.url}/dashboard`);
    await until(async () => (await page.locator('#package-source').count()) === 1, 'the package form');
    expect(await page.locator('#package-fileUrl').isVisible()).toBe(true);
    expect(await page.locator('#package-fileId').isVisible()).toBe(false);

    await page.locator('#package-source').selectOption('HUAWEI');
    expect(await page.locator('#package-fileUrl').isVisible()).toBe(false);
    expect(await page.locator('#package-fileId').isVisible()).toBe(true);
    await page.locator('#package-model').fill('HW-NB-1');
    await page.locator('#package-version').fill('2.0.0');
    await page.getByRole('button', { name: 'Register the package' }).click();
    await until(async () => (await page.locator('#package-fileId').getAttribute('aria-invalid')) === 'true', 'the file id marked missing');
    expect(await page.locator('#package-form-errors a[href="#package-fileId"]').count()).toBe(1);

    await page.locator('#package-fileId').fill('fw-2.0.0');
    await page.locator('#package-kind').selectOption('SOFTWARE');
    await page.getByRole('button', { name: 'Register the package' }).click();
    await until(async () => (await text(page.locator('#package-form-result'))).startsWith('Package registered'), 'the Huawei package', 10_000, () =>
      text(page.locator('#package-form-errors')),
    );
    const stored = await gateway!.gql<{ firmwarePackages: { edges: { node: { source: string; fileId: string; kind: string } }[] } }>(
      'query { firmwarePackages(first: 10, filter: { source: HUAWEI }) { edges { node { source fileId kind } } } }',
    );
    expect(stored.data!.firmwarePackages.edges.map((e) => e.node)).toEqual([{ source: 'HUAWEI', fileId: 'fw-2.0.0', kind: 'SOFTWARE' }]);
    // The form is back to DJI, with its own fields.
    expect(await page.locator('#package-source').inputValue()).toBe('DJI');
    expect(await page.locator('#package-fileUrl').isVisible()).toBe(true);
  });
});
