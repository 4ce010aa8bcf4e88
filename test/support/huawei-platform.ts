import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { SimulatedHuaweiPlatform, type SimulatedPlatformOptions } from '../../src/simulators/huawei-platform-server';
import { generatePki, type GeneratedPki } from '../../src/simulators/pki';

let shared: GeneratedPki | undefined;
/** One generated PKI per test file (RSA keys take a moment). */
export function testPki(): GeneratedPki {
  return (shared ??= generatePki());
}

/** A simulated platform on a free port with the file's PKI. */
export async function startPlatform(options: SimulatedPlatformOptions = {}): Promise<SimulatedHuaweiPlatform> {
  const platform = new SimulatedHuaweiPlatform({ pki: testPki(), stepMs: 100, ...options });
  await platform.start();
  return platform;
}

/** The webhook token of {@link huaweiGatewayEnv}'s gateways (a secret the logs must never show). */
export const TEST_WEBHOOK_TOKEN = 'callback-token-1234';

/**
 * The settings of a gateway on `port` that talks to `platform` over mutual TLS
 * and takes its pushes: writes the file's PKI into `dir` (the CA and the
 * client certificate and key) and points HUAWEI_* at them and at the platform.
 */
export function huaweiGatewayEnv(dir: string, platform: SimulatedHuaweiPlatform, port: number): Record<string, string> {
  const pki = testPki();
  writeFileSync(join(dir, 'ca.pem'), pki.caCert);
  writeFileSync(join(dir, 'client.pem'), pki.clientCert);
  writeFileSync(join(dir, 'client-key.pem'), pki.clientKey);
  return {
    WEBHOOK_TOKEN: TEST_WEBHOOK_TOKEN,
    HUAWEI_API_URL: platform.url,
    HUAWEI_APP_ID: platform.appId,
    HUAWEI_SECRET: platform.secret,
    HUAWEI_CA_FILE: join(dir, 'ca.pem'),
    HUAWEI_CLIENT_CERT_FILE: join(dir, 'client.pem'),
    HUAWEI_CLIENT_KEY_FILE: join(dir, 'client-key.pem'),
    HUAWEI_CALLBACK_URL: `http://127.0.0.1:${port}/v1.0.0/messageReceiver?token=${TEST_WEBHOOK_TOKEN}`,
  };
}

/** A logger at trace level whose every line is kept. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** Fails when any captured line holds the secret or one of the issued tokens. */
export function expectNoSecrets(lines: readonly string[], secrets: readonly string[]): void {
  const leaks = lines.filter((line) => secrets.some((s) => s.length > 0 && line.includes(s)));
  expect(leaks).toEqual([]);
}

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
