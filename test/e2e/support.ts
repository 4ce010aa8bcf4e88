/**
 * What every browser test shares: where Chromium is, whether the suite runs
 * (no Chromium: skipped with a message, or a failure under CI=true), how it
 * is launched, the gateway under test (the built server as a child process
 * with its embedded broker), a poll that says what it waited for, and a
 * console watch.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { freePort } from '../support/mosquitto';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true';
const HAVE_CHROMIUM = existsSync(CHROMIUM);

/**
 * `describe` when Chromium is there (or under CI=true, where its absence then
 * fails in {@link launchChromium}); otherwise `describe.skip`, with a warning.
 */
export function describeInChromium(name: string, body: () => void): void {
  if (!HAVE_CHROMIUM && !IN_CI) {
    console.warn(
      `Skipping "${name}": no Chromium at ${CHROMIUM}. ` +
        'Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.',
    );
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

/** Headless Chromium without anything that calls home; `args` adds to the flags. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
  });
}

/** Polls `check` until true; the message names what was awaited and, if given, what was last seen. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000, seen?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; last seen: ${await seen()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The trimmed text of the first match, or '' when there is none. */
export const text = async (locator: Locator): Promise<string> => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '').trim() : '');

/** Collects into `lines` everything the page logs to its console and every uncaught error: a test expects it empty. */
export function watchConsole(page: Page, lines: string[]): void {
  page.on('console', (message) => lines.push(`${page.url()} ${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`${page.url()} pageerror: ${error.message}`));
}

/** The gateway a browser test drives, and its embedded broker for simulated docks. */
export interface GatewayUnderTest {
  readonly gateway: GatewayProcess;
  readonly url: string;
  /** Its embedded MQTT broker, where simulated docks connect. */
  readonly mqttUrl: string;
  /** Stops it and removes its folder (SQLite file, log). */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/src/server.js` (built by the global setup) in a temporary
 * folder with its own SQLite file, HTTP and its embedded broker on free ports;
 * `env` adds to its settings (LOG_LEVEL is warn unless given).
 */
export async function startGatewayUnderTest(name: string, env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), `ota-e2e-${name}-`));
  const mqttPort = await freePort();
  try {
    const gateway = await startGatewayProcess({
      dir,
      name,
      mqttUrl: null,
      clientId: `e2e-${name}-${randomUUID().slice(0, 8)}`,
      env: { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), LOG_LEVEL: 'warn', ...env },
    });
    return {
      gateway,
      url: gateway.url,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      async stop() {
        await gateway.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
