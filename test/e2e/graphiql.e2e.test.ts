/**
 * The offline GraphQL IDE (GET /graphiql) and the dashboard in Chromium with
 * the network cut off: every request to another host is refused (DNS maps
 * everything but the gateway to nowhere, and the page's requests are checked),
 * as on a closed OTA network. The IDE must load from the gateway alone, run a
 * query and a subscription with the token, and neither page may log anything
 * to the console.
 *
 * Run with `npm run test:e2e` (builds first). No Chromium: skipped with a
 * message, or a failure under CI=true.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newHuaweiIds, runHuaweiSequence } from '../../src/simulators/huawei-pushes';
import { collectingOutput } from '../../src/simulators/output';
import { describeInChromium, launchChromium, startGatewayUnderTest, until, watchConsole, type GatewayUnderTest } from './support';

const TOKEN = 'e2e-graphiql-token-0123456789abcdef';

describeInChromium('the offline IDE and the dashboard in Chromium, without a network', () => {
  let gateway: GatewayUnderTest | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  const consoleLines: string[] = [];
  const foreignRequests: string[] = [];

  const watch = (page: Page) => watchConsole(page, consoleLines);

  beforeAll(async () => {
    gateway = await startGatewayUnderTest('ide', { API_TOKEN: TOKEN });
    // No name resolves but the gateway's address: the internet is not there.
    browser = await launchChromium(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']);
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(gateway!.url)) return route.continue();
      foreignRequests.push(url);
      return route.abort('internetdisconnected');
    });
    // The token as the dashboard keeps it once entered (sessionStorage), so no page starts with a 401.
    await context.addInitScript((token) => (globalThis as any).sessionStorage.setItem('ota-gateway.apiToken', token), TOKEN);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  test('the dashboard loads with an empty console and links GraphiQL, Sandbox and the schema', async () => {
    const page = await context.newPage();
    watch(page);
    await page.goto(`${gateway!.url}/dashboard`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    const tools = page.getByRole('navigation', { name: 'API tools' });
    expect(await tools.getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual(['/graphiql', '/graphql', '/schema.graphql']);
    await page.waitForTimeout(500);
    expect(consoleLines).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });

  test('GraphiQL loads from the gateway alone, runs a query and a live subscription with the token field', async () => {
    const page = await context.newPage();
    watch(page);
    await page.goto(`${gateway!.url}/graphiql`);
    // The schema was fetched (with the token): the documentation explorer can open on it.
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 20_000 });

    // The token field: enter it (again) and use it.
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    // A new token remounts the IDE (new fetcher and socket), which fetches the schema again.
    await page.waitForTimeout(1000);
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    const setQuery = async (query: string) => {
      await page.evaluate((q) => ((globalThis as any).document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q)), query);
      // GraphiQL parses the editor's text (and picks the operation) a moment after it changes.
      await page.waitForTimeout(700);
    };
    const response = async () =>
      page.evaluate(() => (globalThis as any).document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '');
    const run = () => page.locator('.graphiql-execute-button').click();

    await setQuery('{ upgradeTasks(first: 1) { totalCount } }');
    await run();
    await until(async () => (await response()).includes('"totalCount"'), 'the query result', 15_000, response);
    expect(JSON.parse(await response())).toEqual({ data: { upgradeTasks: { totalCount: 0 } } });

    await setQuery('subscription { upgradeProgress { cursor task { externalId } event { status } } }');
    await run();
    // Running: GraphiQL shows the stop button while the subscription is open.
    await page.waitForTimeout(1000);
    const ids = newHuaweiIds(`ide-${randomUUID().slice(0, 8)}`);
    expect((await runHuaweiSequence({ url: gateway!.url, ids, output: collectingOutput() })).ok).toBe(true);
    await until(async () => (await response()).includes('upgradeProgress'), 'a live subscription message', 15_000, response);
    expect(await response()).toMatch(/"externalId": "[0-9a-f]+"/);

    expect(consoleLines).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  }, 60_000);
});
