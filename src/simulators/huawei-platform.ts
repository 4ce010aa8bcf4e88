/**
 * `npm run simulate:huawei-platform -- [options]`: a simulated Huawei
 * OceanConnect northbound API over HTTPS with mutual TLS (see
 * ./huawei-platform-server.ts). It writes its CA and a client certificate to
 * `--out` and prints the gateway settings that use them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { integerFlag, numberFlag, parseFlags, runCli, UsageError } from './cli';
import { SimulatedHuaweiPlatform } from './huawei-platform-server';

export const HUAWEI_PLATFORM_USAGE = `Usage: npm run simulate:huawei-platform -- [options]

A simulated Huawei OceanConnect platform (northbound API) on HTTPS with a
generated CA, server and client certificate: login and refresh with expiring
tokens (one valid at a time), callback subscriptions, firmware and software
upgrade tasks whose devices move wait -> downloading -> downloaded -> updating
-> success/fail, pushed to the subscribed callback, and task queries.

Options:
  --port <n>              listen port (default 8743)
  --host <addr>           listen address (default 127.0.0.1)
  --app-id <id>           the application id (default demo-app)
  --secret <secret>       the application secret (default demo-secret)
  --out <dir>             where ca.pem, client.pem, client-key.pem go (default ./data/huawei-platform)
  --step-ms <ms>          time between two moves of a device (default 1500)
  --token-lifetime <s>    token lifetime in seconds (default 3600)
  --drop <share>          share of pushes not sent, 0..1 (default 0)
  --fail-devices <ids>    comma-separated device ids whose upgrade fails
  --error-ratio <share>   share of calls answered 503, 0..1 (default 0)
  --no-client-cert        do not demand a client certificate
  -h, --help              show this help
`;

function share(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = numberFlag(flag, value);
  if (n < 0 || n > 1) throw new UsageError(`--${flag} must be between 0 and 1 (got ${value})`);
  return n;
}

async function main(argv: readonly string[]): Promise<number> {
  const v = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'app-id': { type: 'string' },
    secret: { type: 'string' },
    out: { type: 'string' },
    'step-ms': { type: 'string' },
    'token-lifetime': { type: 'string' },
    drop: { type: 'string' },
    'fail-devices': { type: 'string' },
    'error-ratio': { type: 'string' },
    'no-client-cert': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    process.stdout.write(HUAWEI_PLATFORM_USAGE);
    return 0;
  }
  const port = v.port === undefined ? 8743 : integerFlag('port', v.port);
  const stepMs = v['step-ms'] === undefined ? 1500 : integerFlag('step-ms', v['step-ms']);
  const tokenLifetimeSeconds = v['token-lifetime'] === undefined ? 3600 : integerFlag('token-lifetime', v['token-lifetime']);
  if (stepMs < 10) throw new UsageError('--step-ms must be at least 10');
  if (tokenLifetimeSeconds < 1) throw new UsageError('--token-lifetime must be at least 1');
  const out = resolve(v.out ?? './data/huawei-platform');
  const platform = new SimulatedHuaweiPlatform({
    port,
    host: v.host ?? '127.0.0.1',
    appId: v['app-id'] ?? 'demo-app',
    secret: v.secret ?? 'demo-secret',
    stepMs,
    tokenLifetimeSeconds,
    dropPushRatio: share('drop', v.drop),
    errorRatio: share('error-ratio', v['error-ratio']),
    failDevices: v['fail-devices']?.split(',').map((d) => d.trim()).filter(Boolean),
    requireClientCert: !v['no-client-cert'],
    onCall: (c) => process.stdout.write(`← ${c.method} ${c.path} ${c.status}\n`),
    onPush: (p) => {
      const what = `${p.notifyType} ${String(p.body.deviceId)} ${String(p.body.stepDesc ?? p.body.swUpgradeState ?? p.body.status ?? p.body.swUpgradeResult ?? '')}`;
      process.stdout.write(p.dropped ? `✗ dropped ${what}\n` : `→ ${what} ${p.status ?? 'no answer'}\n`);
    },
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(resolve(out, 'ca.pem'), platform.pki.caCert);
  writeFileSync(resolve(out, 'client.pem'), platform.pki.clientCert);
  writeFileSync(resolve(out, 'client-key.pem'), platform.pki.clientKey, { mode: 0o600 });
  const url = await platform.start();
  process.stdout.write(
    `Simulated Huawei platform on ${url}\n\nStart the gateway with:\n` +
      `  HUAWEI_API_URL=${url.replace('127.0.0.1', 'localhost')} HUAWEI_APP_ID=${platform.appId} HUAWEI_SECRET=<the --secret> \\\n` +
      `  HUAWEI_CA_FILE=${out}/ca.pem HUAWEI_CLIENT_CERT_FILE=${out}/client.pem HUAWEI_CLIENT_KEY_FILE=${out}/client-key.pem \\\n` +
      `  HUAWEI_CALLBACK_URL=http://127.0.0.1:4000/v1.0.0/messageReceiver HUAWEI_RECONCILE_INTERVAL_MS=10000 npm start\n\n`,
  );
  await new Promise<void>((done) => {
    const stop = () => void platform.stop().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

if (require.main === module) void runCli('simulate:huawei-platform', HUAWEI_PLATFORM_USAGE, () => main(process.argv.slice(2)));
