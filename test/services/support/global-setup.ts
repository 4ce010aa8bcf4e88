import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { AVAILABILITY_ENV, SERVICES, probe, type Service } from './services';

/**
 * Probes PostgreSQL, Redis and the MQTT broker once for the whole run. Under
 * CI=true an unreachable service fails the run (a CI job that silently skips
 * its integration tests proves nothing); elsewhere the suites that need it are
 * skipped and this says why. Then builds `dist/`, which the multi-process suite
 * starts as real gateway processes.
 */
export default async function globalSetup(): Promise<void> {
  const results = await Promise.all(SERVICES.map(async (s) => [s, await probe(s)] as const));
  const found = Object.fromEntries(results) as Record<Service, string | null>;
  const missing = results.filter(([, reason]) => reason !== null).map(([, reason]) => reason as string);
  const ci = /^(true|1)$/i.test(process.env.CI ?? '');
  if (missing.length > 0) {
    const list = missing.map((m) => `  - ${m}`).join('\n');
    if (ci) {
      throw new Error(
        `test:services under CI=true needs every service; unreachable:\n${list}\n` +
          'Set TEST_DATABASE_URL, TEST_REDIS_URL and TEST_MQTT_URL, or start the services.',
      );
    }
    process.stderr.write(
      `\n[test:services] skipping the suites that need these services:\n${list}\n` +
        '  (set TEST_DATABASE_URL / TEST_REDIS_URL / TEST_MQTT_URL, or start them; under CI=true this is a failure)\n\n',
    );
  }
  // Test files read this (same process with --runInBand; workers inherit the environment).
  process.env[AVAILABILITY_ENV] = JSON.stringify(found);

  // Always: the fault suites need only `dist/` and a mosquitto binary, not the shared services.
  const root = resolve(__dirname, '../../..');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, { cause: error });
  }
}
