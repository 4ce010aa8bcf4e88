/**
 * Credentials inside URLs (MQTT_URL, DATABASE_URL, REDIS_URL) and configured
 * secrets never reach a log line or a startup message: through the logger the
 * gateway builds (createLogger), in a running gateway, and in the real process
 * when it fails to start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskSecrets } from '../src/server/log-redaction';
import { logCapture } from './security.api.support';
import { startTestGateway } from './support/gateway';
import { SERVER_JS } from './support/gateway-process';
import { freePort } from './support/mosquitto';

describe('maskSecrets', () => {
  it.each([
    ['postgres://ota:pg-S3cret@db:5432/ota', 'postgres://ota:***@db:5432/ota'],
    ['redis://:r3dis-pw@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://default:r3dis-pw@cache:6380', 'rediss://default:***@cache:6380'],
    ['mqtts://dock:mq%40tt-pw@broker:8883', 'mqtts://dock:***@broker:8883'],
    ['connect to "MQTT_URL=mqtt://gw:pw@10.0.0.1:1883" failed', 'connect to "MQTT_URL=mqtt://gw:***@10.0.0.1:1883" failed'],
    ['/v1.0.0/messageReceiver?%74oken=abc&x=1', '/v1.0.0/messageReceiver?%74oken=***&x=1'],
    ['/cb?a=1&Token%5B%5D=abc', '/cb?a=1&Token%5B%5D=***'],
    ['/cb?password=abc;api_key=def', '/cb?password=***;api_key=***'],
  ])('%s', (input, masked) => {
    expect(maskSecrets(input)).toBe(masked);
  });

  it('leaves URLs without credentials and ordinary text alone', () => {
    for (const text of ['postgres://db:5432/ota', 'http://127.0.0.1:4000/graphql?query=x', 'sqlite:./data/x.sqlite', 'a = b']) {
      expect(maskSecrets(text)).toBe(text);
    }
  });
});

describe('the logger', () => {
  it('masks URL credentials in every field, error messages and stacks included, and configured secrets verbatim and encoded', () => {
    const captured = logCapture(['api-token-0123456789/+x']);
    captured.logger.error(
      { err: new Error('getaddrinfo ENOTFOUND for postgres://ota:pg-S3cret@db/ota'), nested: { url: 'redis://:r3dis-pw@cache:6379' } },
      'failed with mqtt://gw:mq-S3cret@broker:1883',
    );
    captured.logger.child({ component: 'x' }).info({ header: 'Bearer api-token-0123456789/+x', q: encodeURIComponent('api-token-0123456789/+x') }, 'token');
    const text = captured.text();
    for (const secret of ['pg-S3cret', 'r3dis-pw', 'mq-S3cret', 'api-token-0123456789', encodeURIComponent('api-token-0123456789/+x')]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('postgres://ota:***@db/ota');
  });
});

describe('a running gateway', () => {
  it('logs MQTT_URL with its password masked', async () => {
    // The broker: another gateway's embedded one (it takes any credentials).
    const broker = await startTestGateway();
    const captured = logCapture();
    const { port } = new URL(broker.mqttUrl);
    const gateway = await startTestGateway(
      { MQTT_URL: `mqtt://gw-user:mq-S3cret@127.0.0.1:${port}`, MQTT_SHARED_GROUP: '', LOG_LEVEL: 'debug' },
      { logger: captured.logger },
    );
    try {
      const text = captured.text();
      expect(text).toContain('ota-gateway ready');
      expect(text).toContain(`mqtt://gw-user:***@127.0.0.1:${port}`);
      expect(text).not.toContain('mq-S3cret');
    } finally {
      await gateway.stop();
      await broker.stop();
    }
  });
});

describe('the process', () => {
  /** Runs `npm start`'s server with `env`; resolves with its exit code and everything it printed. */
  function runServer(env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'ota-gw-mask-'));
    return new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [SERVER_JS], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', LOG_LEVEL: 'debug', ...env },
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
        resolve({ code, output });
      });
    });
  }

  it('a database that cannot be reached: exit 1, the password in DATABASE_URL printed nowhere', async () => {
    const port = await freePort();
    const { code, output } = await runServer({ DATABASE_URL: `postgres://ota:pg-S3cret@127.0.0.1:${port}/ota` });
    expect(code).toBe(1);
    expect(output).toMatch(/ota-gateway: /);
    expect(output).not.toContain('pg-S3cret');
  });

  it('a bad setting next to a URL with credentials: the config error does not echo the password', async () => {
    const { code, output } = await runServer({ REDIS_URL: 'redis://:r3dis-pw@cache:6379', PORT: 'x', DATABASE_URL: 'mysql://u:my-S3cret@db/x' });
    expect(code).toBe(1);
    expect(output).toMatch(/PORT must be a port number/);
    expect(output).not.toMatch(/r3dis-pw|my-S3cret/);
  });
});
