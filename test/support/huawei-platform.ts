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
