import { hostname } from 'node:os';
import { loadConfig } from '../src/config';
import { defaultClientId, MAX_CLIENT_ID_LENGTH } from '../src/mqtt/client-id';

test('the default MQTT client id names the host and the port, so it is stable there and distinct elsewhere', () => {
  expect(defaultClientId('gw-7d9f8b6c5-x2k4p', 4000)).toBe('ota-gateway-gw-7d9f8b6c5-x2k4p-4000');
  expect(defaultClientId('gw-7d9f8b6c5-x2k4p', 4000)).toBe(defaultClientId('gw-7d9f8b6c5-x2k4p', 4000));
  expect(defaultClientId('host-a', 4000)).not.toBe(defaultClientId('host-b', 4000));
  // Two processes on one host listen on distinct ports.
  expect(defaultClientId('host-a', 4000)).not.toBe(defaultClientId('host-a', 4001));
  expect(loadConfig({ PORT: '4100' }).mqttClientId).toBe(defaultClientId(hostname(), 4100));
  expect(loadConfig({ MQTT_CLIENT_ID: 'fleet-gw-1' }).mqttClientId).toBe('fleet-gw-1');
});

test('a host name with dots, underscores or other characters becomes letters, digits and dashes', () => {
  expect(defaultClientId('node_1.eu-west.internal', 4000)).toBe('ota-gateway-node-1-eu-west-internal-4000');
  expect(defaultClientId('...', 4000)).toBe('ota-gateway-host-4000');
  expect(defaultClientId('host-a', 4000)).toMatch(/^[A-Za-z0-9-]+$/);
});

test('a long host name is cut to what brokers accept and keeps long names with one prefix apart', () => {
  const base = 'ip-10-0-0-1.eu-central-1.compute.internal.example-cluster-with-a-long-name';
  const one = defaultClientId(`${base}-one`, 4000);
  const two = defaultClientId(`${base}-two`, 4000);
  expect(one.length).toBeLessThanOrEqual(MAX_CLIENT_ID_LENGTH);
  expect(two.length).toBeLessThanOrEqual(MAX_CLIENT_ID_LENGTH);
  expect(one).not.toBe(two);
  expect(one).toMatch(/^ota-gateway-ip-10-0-0-1-/);
});

test('MQTT_CLIENT_ID and MQTT_SESSION_EXPIRY_SECONDS are validated', () => {
  expect(() => loadConfig({ MQTT_CLIENT_ID: 'x'.repeat(65) })).toThrow(/MQTT_CLIENT_ID must be at most 64 characters/);
  expect(() => loadConfig({ MQTT_SESSION_EXPIRY_SECONDS: '-1' })).toThrow(/MQTT_SESSION_EXPIRY_SECONDS must be 0\.\.86400/);
  expect(() => loadConfig({ MQTT_SESSION_EXPIRY_SECONDS: 'soon' })).toThrow(/MQTT_SESSION_EXPIRY_SECONDS must be a number of seconds/);
  expect(loadConfig({ MQTT_SESSION_EXPIRY_SECONDS: '0' }).mqttSessionExpirySeconds).toBe(0);
});
