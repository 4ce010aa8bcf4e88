import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCommandTopic, mayPublish, maySubscribe, type Identity } from '../src/mqtt/acl';
import { parseIdentityFile } from '../src/mqtt/credentials';
import { hashPassword, parsePasswordFile, PasswordFileError, verifyPassword } from '../src/mqtt/password-file';
import { announcedSubDevices, SubDeviceRegistry } from '../src/mqtt/sub-devices';

const DOCK: Identity = { kind: 'dock', sn: 'DOCK-A' };
const GATEWAY: Identity = { kind: 'gateway' };
const OBSERVER: Identity = { kind: 'observer', name: 'monitor' };
const WITH_AIRCRAFT = { subDevices: new Set(['AIRCRAFT-A']) };

describe('what a dock may publish', () => {
  it.each([
    ['thing/product/DOCK-A/events', false],
    ['thing/product/DOCK-A/services_reply', false],
    ['thing/product/DOCK-A/state', false],
    ['thing/product/DOCK-A/osd', false],
    ['thing/product/DOCK-A/requests', false],
    ['thing/product/DOCK-A/property/set_reply', false],
    ['thing/product/DOCK-A/drc/up', false],
    ['sys/product/DOCK-A/status', false],
    ['thing/product/DOCK-A/state', true],
    // Its announced aircraft.
    ['thing/product/AIRCRAFT-A/osd', false],
    ['thing/product/AIRCRAFT-A/state', false],
    ['thing/product/AIRCRAFT-A/events', false],
  ])('allowed: %s (retain %s)', (topic, retain) => {
    expect(mayPublish(DOCK, topic, retain, WITH_AIRCRAFT)).toEqual({ allowed: true });
  });

  it.each([
    ['thing/product/DOCK-B/events', 'another dock'],
    ['thing/product/DOCK-B/services_reply', 'another dock'],
    ['sys/product/DOCK-B/status', 'another dock'],
    ['sys/product/AIRCRAFT-A/status', 'topology under an aircraft sn'],
    ['thing/product/AIRCRAFT-B/osd', 'an aircraft it did not announce'],
    ['thing/product/DOCK-A/services', 'a command'],
    ['thing/product/DOCK-A/events_reply', 'a reply only the gateway sends'],
    ['thing/product/DOCK-A/requests_reply', 'a reply only the gateway sends'],
    ['thing/product/DOCK-A/property/set', 'a command'],
    ['thing/product/DOCK-A/drc/down', 'a command'],
    ['sys/product/DOCK-A/status_reply', 'a reply only the gateway sends'],
    ['thing/product/DOCK-A/whatever', 'not a dock topic'],
    ['thing/product/DOCK-A', 'no method level'],
    ['other/topic', 'outside the DJI tree'],
    ['$SYS/broker/uptime', 'the broker’s'],
  ])('refused: %s (%s)', (topic) => {
    const decision = mayPublish(DOCK, topic, false, WITH_AIRCRAFT);
    expect(decision.allowed).toBe(false);
  });

  it('a dock without announced sub-devices speaks only for itself', () => {
    expect(mayPublish(DOCK, 'thing/product/AIRCRAFT-A/osd', false).allowed).toBe(false);
  });
});

describe('the gateway and observers publishing', () => {
  it.each([
    ['thing/product/DOCK-A/services'],
    ['thing/product/DOCK-B/events_reply'],
    ['thing/product/DOCK-A/property/set'],
    ['sys/product/DOCK-A/status_reply'],
    ['thing/product/DOCK-A/requests_reply'],
  ])('the gateway may publish %s', (topic) => {
    expect(mayPublish(GATEWAY, topic, false)).toEqual({ allowed: true });
  });

  it.each([
    [GATEWAY, 'thing/product/DOCK-A/services'],
    [GATEWAY, 'thing/product/DOCK-A/events_reply'],
    [GATEWAY, 'thing/product/DOCK-A/property/set'],
    [GATEWAY, 'sys/product/DOCK-A/status_reply'],
    [DOCK, 'thing/product/DOCK-A/services'],
  ])('nobody retains a command: %o on %s', (identity, topic) => {
    expect(mayPublish(identity, topic, true)).toEqual({ allowed: false, reason: 'retained messages are not allowed on command topics' });
  });

  it.each([[GATEWAY], [OBSERVER], [DOCK]])('nobody publishes on $SYS: %o', (identity) => {
    expect(mayPublish(identity, '$SYS/ota-gateway-embedded/new/clients', false).allowed).toBe(false);
  });

  it.each([['thing/product/DOCK-A/events'], ['thing/product/DOCK-A/services']])('observers publish nothing: %s', (topic) => {
    expect(mayPublish(OBSERVER, topic, false).allowed).toBe(false);
  });
});

describe('what may be subscribed to', () => {
  it.each([
    [DOCK, 'thing/product/DOCK-A/services'],
    [DOCK, 'thing/product/DOCK-A/events_reply'],
    [DOCK, 'thing/product/DOCK-A/requests_reply'],
    [DOCK, 'thing/product/DOCK-A/property/set'],
    [DOCK, 'thing/product/DOCK-A/drc/down'],
    [DOCK, 'sys/product/DOCK-A/status_reply'],
    [DOCK, 'thing/product/AIRCRAFT-A/property/set'],
    [GATEWAY, 'thing/product/+/events'],
    [GATEWAY, 'thing/product/+/services_reply'],
    [GATEWAY, 'sys/product/+/status'],
    [GATEWAY, '$share/ota-gateway/thing/product/+/events'],
    [OBSERVER, '#'],
    [OBSERVER, 'thing/product/+/services'],
  ])('allowed: %o subscribes to %s', (identity, filter) => {
    expect(maySubscribe(identity, filter, WITH_AIRCRAFT)).toEqual({ allowed: true });
  });

  it.each([
    [DOCK, '#'],
    [DOCK, '+/#'],
    [DOCK, 'thing/product/+/services'],
    [DOCK, 'thing/product/DOCK-A/#'],
    [DOCK, 'thing/product/DOCK-B/services'],
    [DOCK, 'thing/product/DOCK-A/events'],
    [DOCK, 'sys/product/DOCK-B/status_reply'],
    [DOCK, 'sys/product/DOCK-A/status'],
    [DOCK, '$SYS/#'],
    [DOCK, '$share/g/thing/product/DOCK-A/services'],
    [GATEWAY, '#'],
    [GATEWAY, '$SYS/#'],
    [GATEWAY, 'thing/product/+/services'],
    [OBSERVER, '$SYS/#'],
    [OBSERVER, '$share/g/#'],
  ])('refused: %o subscribes to %s', (identity, filter) => {
    expect(maySubscribe(identity, filter, WITH_AIRCRAFT).allowed).toBe(false);
  });
});

it.each([
  ['thing/product/X/services', true],
  ['thing/product/X/events_reply', true],
  ['thing/product/X/property/set', true],
  ['sys/product/X/status_reply', true],
  ['thing/product/X/events', false],
  ['sys/product/X/status', false],
  ['anything/else', false],
])('isCommandTopic(%s) is %s', (topic, expected) => {
  expect(isCommandTopic(topic)).toBe(expected);
});

describe('sub-devices learned from update_topo', () => {
  const topo = (subDevices: unknown, method = 'update_topo') => JSON.stringify({ tid: 't', bid: 'b', method, data: { sub_devices: subDevices } });

  it.each([
    [topo([{ sn: 'AIR-1', domain: 0 }]), ['AIR-1']],
    [topo([]), []],
    [topo([{ sn: 'AIR-1' }, { sn: 'AIR-1' }, { sn: 'a/b' }, { sn: '#' }, { sn: 7 }, null]), ['AIR-1']],
    [JSON.stringify({ method: 'update_topo', data: {} }), []],
    [topo([{ sn: 'AIR-1' }], 'other_method'), null],
    ['not json', null],
    ['[1,2]', null],
  ])('%s announces %o', (payload, expected) => {
    expect(announcedSubDevices(payload)).toEqual(expected);
  });

  it('a dock may not claim another dock (or itself) as its sub-device; an empty list takes its aircraft away', () => {
    const registry = new SubDeviceRegistry((sn) => sn === 'DOCK-B');
    expect(registry.announce('DOCK-A', ['AIR-1', 'DOCK-B', 'DOCK-A'])).toEqual(['AIR-1']);
    expect([...registry.scopeOf('DOCK-A').subDevices]).toEqual(['AIR-1']);
    registry.announce('DOCK-A', []);
    expect(registry.scopeOf('DOCK-A').subDevices.size).toBe(0);
  });

  it('remembers a bounded number of docks', () => {
    const registry = new SubDeviceRegistry(() => false, 2);
    registry.announce('D1', ['A1']);
    registry.announce('D2', ['A2']);
    registry.announce('D3', ['A3']);
    expect(registry.scopeOf('D1').subDevices.size).toBe(0);
    expect(registry.scopeOf('D3').subDevices.has('A3')).toBe(true);
  });
});

describe("Mosquitto's password file", () => {
  // Written by mosquitto_passwd 2.0.11: `-b` (PBKDF2-SHA512, $7$) and `-H sha512 -b` ($6$).
  const MOSQUITTO_LINES = [
    'dock1:$7$101$WEOj9GluFyttqOuL$rlZyfdCbQRpjFCsmu/zIY48jH4+cxbqh78X9tbSMLVEmkbBP4DrJSAPYzn6uBsMkrq2n/hX4M3NziKLh8RVd0Q==',
    'dock6:$6$7Bi3RUBEvncrUpg6$yOcZ4d4c7AoSAfEPkORHukPIYZRdkXEEV4fyduFgb1YqWYqnZOK6hMNq+LVmpcQDXWorSBUjghwpQwibSFitGw==',
  ].join('\n');

  it.each([
    ['dock1', 'secret1', true],
    ['dock1', 'secret2', false],
    ['dock1', '', false],
    ['dock6', 'secret6', true],
    ['dock6', 'secret1', false],
  ])('%s with password %j verifies: %s', async (user, password, expected) => {
    const users = parsePasswordFile(`# comment\n\n${MOSQUITTO_LINES}\n`);
    expect(await verifyPassword(password, users.get(user)!)).toBe(expected);
  });

  it('what hashPassword writes verifies, and is what mosquitto_passwd writes', async () => {
    const line = `me:${await hashPassword('p4ss')}`;
    expect(line).toMatch(/^me:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    const users = parsePasswordFile(line);
    expect(await verifyPassword('p4ss', users.get('me')!)).toBe(true);
    expect(await verifyPassword('p4sS', users.get('me')!)).toBe(false);
  });

  const mosquittoPasswd = (() => {
    try {
      execFileSync('which', ['mosquitto_passwd'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (mosquittoPasswd ? it : it.skip)('a file written now by the real mosquitto_passwd verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-pw-'));
    try {
      const file = join(dir, 'passwords');
      execFileSync('mosquitto_passwd', ['-c', '-b', file, 'fresh', 'n3w-secret']);
      execFileSync('mosquitto_passwd', ['-H', 'sha512', '-b', file, 'legacy', 'old-secret']);
      const users = parsePasswordFile(readFileSync(file, 'utf8'));
      expect(await verifyPassword('n3w-secret', users.get('fresh')!)).toBe(true);
      expect(await verifyPassword('old-secret', users.get('legacy')!)).toBe(true);
      expect(await verifyPassword('n3w-secret', users.get('legacy')!)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['dock:plaintext', 'line 1: not a $7$'],
    ['dock', 'line 1: expected username:hash'],
    [':$6$abc$def', 'line 1: expected username:hash'],
    ['dock:$7$0$WEOj9GluFyttqOuL$aGFzaA==', 'line 1: iterations'],
    ['dock:$7$101$WEOj9GluFyttqOuL$aGFzaA==', 'line 1: a $7$ hash is 64 bytes'],
    ['dock:$7$101$not base64!$aGFzaA==', 'line 1: the salt is not base64'],
    ['# ok\nd:$6$YQ==$' + 'A'.repeat(86) + '==\nd:$6$YQ==$' + 'A'.repeat(86) + '==', 'line 3: username "d" appears twice'],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parsePasswordFile(text)).toThrow(PasswordFileError);
    expect(() => parsePasswordFile(text)).toThrow(message);
  });

  it('the identity map: username sn lines', () => {
    expect([...parseIdentityFile('# who is who\nalice DOCK-A\n\n  bob   DOCK-B  \n')]).toEqual([
      ['alice', 'DOCK-A'],
      ['bob', 'DOCK-B'],
    ]);
    expect(() => parseIdentityFile('alice')).toThrow('line 1: expected "username sn"');
    expect(() => parseIdentityFile('alice a/b')).toThrow('line 1');
    expect(() => parseIdentityFile('alice A\nalice B')).toThrow('line 2: username "alice" appears twice');
  });
});
