import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { DEFAULT_BROKER_LIMITS } from '../src/mqtt/embedded-broker';
import { StartupError } from '../src/startup-error';
import { startTestGateway } from './support/gateway';

test('the embedded broker is secure by default: no anonymous opening, documented limits', () => {
  const config = loadConfig({});
  expect(config.mqttBroker).toEqual({ passwordFile: undefined, identityFile: undefined, allowAnonymous: false, limits: DEFAULT_BROKER_LIMITS });
  expect(DEFAULT_BROKER_LIMITS.maxPacketBytes).toBe(256 * 1024 + 1024);
});

test.each([
  [{ MQTT_IDENTITY_FILE: '/etc/ids' }, 'MQTT_IDENTITY_FILE needs MQTT_PASSWORD_FILE'],
  [{ MQTT_PASSWORD_FILE: '/etc/pw', MQTT_ALLOW_ANONYMOUS: 'true' }, 'MQTT_ALLOW_ANONYMOUS cannot be true with MQTT_PASSWORD_FILE'],
  [{ MQTT_ALLOW_ANONYMOUS: 'sure' }, 'MQTT_ALLOW_ANONYMOUS must be true or false'],
  [{ MQTT_MAX_KEEPALIVE: '70000' }, 'MQTT_MAX_KEEPALIVE must be at most 65535'],
  [{ MQTT_MAX_PACKET_SIZE: '0' }, 'MQTT_MAX_PACKET_SIZE must be positive'],
  [{ MQTT_MAX_QUEUED_MESSAGES: 'many' }, 'MQTT_MAX_QUEUED_MESSAGES must be a number'],
  [{ MQTT_RETAINED_MAX_MESSAGES: '-1' }, 'MQTT_RETAINED_MAX_MESSAGES must be positive'],
])('%j is refused: %s', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('a password file that cannot be read or parsed stops the start with one line naming MQTT_PASSWORD_FILE, never the content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-pwcfg-'));
  try {
    await expect(startTestGateway({ MQTT_PASSWORD_FILE: join(dir, 'missing') })).rejects.toThrow(StartupError);
    await expect(startTestGateway({ MQTT_PASSWORD_FILE: join(dir, 'missing') })).rejects.toThrow(/^MQTT_PASSWORD_FILE: .*missing: ENOENT$/);
    writeFileSync(join(dir, 'plain'), 'dock:hunter2\n');
    const error = await startTestGateway({ MQTT_PASSWORD_FILE: join(dir, 'plain') }).catch((e: Error) => e);
    expect(String(error)).toContain('line 1: not a $7$');
    expect(String(error)).not.toContain('hunter2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
