import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config';
import { defaultClientId } from '../src/mqtt/client-id';

test('an empty environment gives the documented defaults', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    port: 4000,
    host: '0.0.0.0',
    database: { engine: 'sqlite', path: './data/ota-gateway.sqlite' },
    mqttUrl: undefined,
    mqttPort: 1883,
    mqttClientId: defaultClientId(hostname(), 4000),
    mqttSessionExpirySeconds: 60,
    mqttSharedGroup: 'ota-gateway',
    redisUrl: undefined,
    apiToken: undefined,
    webhookToken: undefined,
    tls: undefined,
    logLevel: 'info',
    graphqlSandbox: true,
    graphqlIntrospection: true,
    djiReplyTimeoutMs: 3000,
    djiSendAttempts: 3,
    staleAfterMs: 20 * 60 * 1000,
    ledgerRetentionDays: 30,
    heapGrowingPercent: 60,
  });
});

test('HEAP_GROWING_PERCENT is a whole number of percent, 0 leaving V8 its own heuristics', () => {
  expect(loadConfig({ HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
  expect(loadConfig({ HEAP_GROWING_PERCENT: '150' }).heapGrowingPercent).toBe(150);
  expect(() => loadConfig({ HEAP_GROWING_PERCENT: '-5' })).toThrow(/HEAP_GROWING_PERCENT must be 0\.\.400/);
  expect(() => loadConfig({ HEAP_GROWING_PERCENT: 'lots' })).toThrow(/HEAP_GROWING_PERCENT must be a number/);
});

test('empty strings count as unset', () => {
  expect(loadConfig({ MQTT_URL: '' })).toMatchObject({ mqttUrl: undefined, apiToken: undefined, apiTokens: [] });
});

test('a token set but blank is refused, not taken as "no token" (that would leave the API open)', () => {
  expect(() => loadConfig({ API_TOKEN: ' ' })).toThrow(/API_TOKEN: the token is blank/);
  expect(() => loadConfig({ API_TOKENS: '' })).toThrow(/API_TOKENS is set but blank/);
});

test.each([
  [{ PORT: 'abc' }, /PORT must be a port number \(got "abc"\)/],
  [{ PORT: '70000' }, /PORT must be 0\.\.65535/],
  [{ MQTT_PORT: '-1' }, /MQTT_PORT must be 0\.\.65535/],
  [{ DATABASE_URL: 'mysql://db' }, /DATABASE_URL must start with sqlite: or postgres:\/\//],
  [{ MQTT_URL: 'http://broker' }, /MQTT_URL must be an mqtt:\/\//],
  [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a redis:\/\//],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  [{ GRAPHQL_SANDBOX: 'maybe' }, /GRAPHQL_SANDBOX must be true or false/],
  [{ DJI_SEND_ATTEMPTS: '0' }, /DJI_SEND_ATTEMPTS must be positive/],
  [{ TLS_CERT_FILE: 'cert.pem' }, /TLS_CERT_FILE and TLS_KEY_FILE must be set together/],
])('%j is refused with a clear message', (env, message) => {
  expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
  expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
});

test('every bad variable is named at once, and secrets are never echoed', () => {
  try {
    loadConfig({ PORT: 'x', MQTT_PORT: 'y', API_TOKEN: 'secret', MQTT_PASSWORD: 'hunter2' });
    throw new Error('expected a ConfigError');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    // PORT, MQTT_PORT, and the API token, which is too short.
    expect((error as ConfigError).problems).toHaveLength(3);
    expect((error as Error).message).not.toMatch(/hunter2|secret/);
  }
});

test('WEBHOOK_TOKEN must be URL-safe: it travels in the callback URL', () => {
  expect(() => loadConfig({ WEBHOOK_TOKEN: 'abc+def/ghi=' })).toThrow(/WEBHOOK_TOKEN must be 8 to 256 URL-safe characters/);
  expect(loadConfig({ WEBHOOK_TOKEN: 'a1b2c3d4e5f6-._~' }).webhookToken).toBe('a1b2c3d4e5f6-._~');
});

test('MQTT_SHARED_GROUP set but empty turns shared subscriptions off', () => {
  expect(loadConfig({ MQTT_SHARED_GROUP: '' }).mqttSharedGroup).toBeNull();
  expect(loadConfig({ MQTT_SHARED_GROUP: 'fleet-1' }).mqttSharedGroup).toBe('fleet-1');
  expect(() => loadConfig({ MQTT_SHARED_GROUP: 'a/b' })).toThrow(/MQTT_SHARED_GROUP letters, digits, _ and - only/);
});

test("the README's configuration table lists every variable the gateway reads", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Endpoints'));
  const missing = CONFIG_VARIABLES.filter((name) => !new RegExp(`^\\| [^|]*\`${name}\``, 'm').test(table));
  expect(missing).toEqual([]);
});
