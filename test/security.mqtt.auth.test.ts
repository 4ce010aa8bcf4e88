/**
 * The embedded broker played against as an attacker would, through the real
 * gateway: real MQTT.js clients, a real password file, the real SQLite ledger.
 * Every refusal is paired with the allowed case next to it.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { hashPassword } from '../src/mqtt/password-file';
import { InboundMessage, UpgradeTask } from '../src/store/entities';
import { Dock } from './fixtures/dji/dock';
import { eventually, sleep, startTestGateway, type TestGateway } from './support/gateway';
import { startGatewayProcess } from './support/gateway-process';
import { freePort } from './support/mosquitto';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { id externalId status }
  }
`;

const newSn = (prefix = 'DOCK') => `${prefix}${randomUUID().slice(0, 8).toUpperCase()}`;

/** Connects and resolves with the client, or rejects with the broker's CONNACK refusal (error.code = return code). */
function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** The QoS the broker granted for each filter (128: refused). MQTT.js rejects a SUBACK with any refusal; its packet still says which. */
async function granted(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw error;
    return packet.granted;
  }
}

/** True when `username`/`password` get in. */
async function canConnect(url: string, username: string, password: string): Promise<boolean> {
  try {
    await (await connect(url, { clientId: `probe-${randomUUID().slice(0, 8)}`, username, password })).endAsync(true);
    return true;
  } catch {
    return false;
  }
}

/** The return code the broker refused a CONNECT with. */
async function refusalCode(url: string, options: IClientOptions): Promise<number> {
  try {
    const client = await connect(url, options);
    await client.endAsync(true);
  } catch (error) {
    return (error as { code: number }).code;
  }
  throw new Error('the connection was accepted');
}

/** Publishes with QoS 0 and resolves once the broker has closed the connection (a refused PUBLISH closes it). */
function publishAndWaitForClose(client: MqttClient, topic: string, payload: string, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the broker did not close the connection after ${topic}`)), 5000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.publish(topic, payload, { qos: 0, retain });
  });
}

function otaProgress(bid: string, status = 'ok') {
  return JSON.stringify({
    tid: randomUUID(),
    bid,
    timestamp: Date.now(),
    method: 'ota_progress',
    need_reply: 1,
    data: { result: 0, output: { status, progress: { percent: 100, step_key: 'upgrade_firmware' } } },
  });
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('with MQTT_PASSWORD_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-auth-'));
  const passwordFile = join(dir, 'passwords');
  const identityFile = join(dir, 'identities');
  const DOCK_A = newSn('DOCKA');
  const DOCK_B = newSn('DOCKB');
  const MAPPED = newSn('MAPPED');
  let gateway: TestGateway;
  let log: ReturnType<typeof capturingLogger>;
  const opened: MqttClient[] = [];
  const track = <T extends MqttClient>(client: T) => (opened.push(client), client);

  beforeAll(async () => {
    writeFileSync(
      passwordFile,
      [`${DOCK_A}:${await hashPassword('secret-a')}`, `${DOCK_B}:${await hashPassword('secret-b')}`, `alice:${await hashPassword('secret-alice')}`].join('\n') + '\n',
    );
    writeFileSync(identityFile, `# alice's dock\nalice ${MAPPED}\n`);
    log = capturingLogger();
    gateway = await startTestGateway(
      { MQTT_PASSWORD_FILE: passwordFile, MQTT_IDENTITY_FILE: identityFile, DJI_REPLY_TIMEOUT_MS: '30000', LOG_LEVEL: 'info' },
      { logger: log.logger },
    );
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.endAsync(true).catch(() => undefined)));
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('anonymous clients and wrong passwords are refused; the right password gets in', async () => {
    expect(await refusalCode(gateway.mqttUrl, { clientId: 'anon' })).toBe(5);
    expect(await refusalCode(gateway.mqttUrl, { clientId: 'anon', username: DOCK_A })).toBe(4);
    expect(await refusalCode(gateway.mqttUrl, { clientId: 'x', username: DOCK_A, password: 'secret-b' })).toBe(4);
    expect(await refusalCode(gateway.mqttUrl, { clientId: 'x', username: 'nobody', password: 'secret-a' })).toBe(4);
    const ok = track(await connect(gateway.mqttUrl, { clientId: `ok-${DOCK_A}`, username: DOCK_A, password: 'secret-a' }));
    expect(ok.connected).toBe(true);
    expect(await gateway.metrics.mqttBrokerRefused.get()).toMatchObject({ values: [expect.objectContaining({ labels: { action: 'connect' } })] });
    // No password or hash in the logs.
    expect(log.lines.join('\n')).not.toMatch(/secret-[ab]|\$7\$/);
  });

  test('a dock with credentials runs an upgrade end to end', async () => {
    const dock = await Dock.connect(gateway.mqttUrl, DOCK_A, { password: 'secret-a' });
    try {
      const { body } = await gateway.gql<{ createFirmwareUpgrade: { externalId: string } }>(CREATE, {
        input: {
          gatewaySn: DOCK_A,
          devices: [{ sn: DOCK_A, productVersion: '10.01.3202', fileUrl: 'https://oss.example/fw.zip', md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', fileSize: 1, fileName: 'fw.zip', firmwareUpgradeType: 'REGULAR' }],
        },
      });
      const [create] = await dock.nextOtaCreates(1);
      await dock.replyTo(create);
      await dock.event(JSON.parse(otaProgress(create.json.bid)));
      await dock.nextEventsReplies(1);
      const task = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: body.data!.createFirmwareUpgrade.externalId });
      expect(task.status).toBe('SUCCEEDED');
    } finally {
      await dock.close();
    }
  });

  test('the identity map: alice speaks for her mapped dock, not for "alice"', async () => {
    const alice = track(await connect(gateway.mqttUrl, { clientId: 'alice-1', username: 'alice', password: 'secret-alice' }));
    expect(await granted(alice, [`thing/product/${MAPPED}/services`, 'thing/product/alice/services'])).toEqual([1, 128]);
  });

  test('a forged ota_progress for another dock is refused and nothing is recorded; the real dock is not affected', async () => {
    const bid = randomUUID();
    const ledger = gateway.dataSource.getRepository(InboundMessage);
    const before = await ledger.count();
    const attacker = track(await connect(gateway.mqttUrl, { clientId: `atk-${DOCK_B}`, username: DOCK_B, password: 'secret-b' }));
    await publishAndWaitForClose(attacker, `thing/product/${DOCK_A}/events`, otaProgress(bid));
    // The same dock on its own topic is heard (the message is rejected by the gateway for an unknown task, but recorded).
    const honest = track(await connect(gateway.mqttUrl, { clientId: `honest-${DOCK_B}`, username: DOCK_B, password: 'secret-b' }));
    await honest.publishAsync(`thing/product/${DOCK_B}/events`, otaProgress(randomUUID()), { qos: 1 });
    await eventually(async () => (await ledger.count()) === before + 1, 10_000, 'the honest message recorded');
    await sleep(200);
    expect(await ledger.count()).toBe(before + 1);
    expect(await ledger.createQueryBuilder('m').where('m.payload LIKE :bid', { bid: `%${bid}%` }).getCount()).toBe(0);
    expect(await gateway.dataSource.getRepository(UpgradeTask).countBy({ externalId: bid })).toBe(0);
  });

  test('a retained ota_create on a dock’s services topic is refused; the dock receives nothing when it subscribes', async () => {
    const attacker = track(await connect(gateway.mqttUrl, { clientId: `ret-${DOCK_B}`, username: DOCK_B, password: 'secret-b' }));
    const forged = JSON.stringify({ tid: 't', bid: 'b', method: 'ota_create', data: { devices: [{ sn: DOCK_B, file_url: 'http://evil.example/fw.bin' }] } });
    await publishAndWaitForClose(attacker, `thing/product/${DOCK_B}/services`, forged, true);
    const victim = track(await connect(gateway.mqttUrl, { clientId: `victim-${DOCK_B}`, username: DOCK_B, password: 'secret-b' }));
    const received: string[] = [];
    victim.on('message', (topic) => received.push(topic));
    await victim.subscribeAsync(`thing/product/${DOCK_B}/services`, { qos: 1 });
    await sleep(300);
    expect(received).toEqual([]);
  });

  test('subscribing to #, to + over other docks or to $SYS is refused (SUBACK 0x80); the connection stays for its own topics', async () => {
    const snoop = track(await connect(gateway.mqttUrl, { clientId: `snoop-${DOCK_B}`, username: DOCK_B, password: 'secret-b' }));
    expect(
      await granted(snoop, ['#', 'thing/product/+/services', `thing/product/${DOCK_A}/services`, '$SYS/#', `thing/product/${DOCK_B}/services`]),
    ).toEqual([128, 128, 128, 128, 1]);
    expect(snoop.connected).toBe(true);
  });

  test("nobody takes over the gateway's client id, nor another identity's", async () => {
    const gatewayId = gateway.config.mqttClientId;
    expect(await refusalCode(gateway.mqttUrl, { clientId: gatewayId, username: DOCK_A, password: 'secret-a' })).toBe(2);
    expect(await refusalCode(gateway.mqttUrl, { clientId: gatewayId, username: gatewayId, password: 'guess' })).toBe(2);
    await sleep(200);
    expect(gateway.mqtt.connected).toBe(true);

    const owner = track(await connect(gateway.mqttUrl, { clientId: 'contested-id', username: DOCK_A, password: 'secret-a' }));
    expect(await refusalCode(gateway.mqttUrl, { clientId: 'contested-id', username: DOCK_B, password: 'secret-b' })).toBe(2);
    await sleep(200);
    expect(owner.connected).toBe(true);
    // The owner itself may reconnect with its id (it replaces its own session).
    const again = track(await connect(gateway.mqttUrl, { clientId: 'contested-id', username: DOCK_A, password: 'secret-a' }));
    expect(again.connected).toBe(true);
  });

  test('the password file is reloaded when it changes; a broken one keeps the credentials in force, with a warning', async () => {
    const NEW = newSn('NEW');
    appendFileSync(passwordFile, `${NEW}:${await hashPassword('fresh')}\n`);
    await eventually(() => canConnect(gateway.mqttUrl, NEW, 'fresh'), 10_000, 'the new user let in after the file changed');

    // A broken file: the old credentials stay, a warning says why (never the file's content).
    writeFileSync(passwordFile, `${DOCK_A}:plain-text-password\n`);
    await eventually(() => log.lines.some((l) => l.includes('MQTT credentials not reloaded')), 10_000, 'the warning');
    expect(await canConnect(gateway.mqttUrl, NEW, 'fresh')).toBe(true);
    expect(log.lines.find((l) => l.includes('MQTT credentials not reloaded'))).toContain('line 1');
    expect(log.lines.join('\n')).not.toContain('plain-text-password');

    // A good file again, without NEW.
    writeFileSync(passwordFile, [`${DOCK_A}:${await hashPassword('secret-a')}`, `${DOCK_B}:${await hashPassword('secret-b')}`, `alice:${await hashPassword('secret-alice')}`].join('\n'));
    await eventually(async () => !(await canConnect(gateway.mqttUrl, NEW, 'fresh')), 10_000, 'NEW refused');
    expect(await canConnect(gateway.mqttUrl, DOCK_A, 'secret-a')).toBe(true);
  });

  test('unknown DJI methods are counted as "other" in the metrics', async () => {
    const dock = track(await connect(gateway.mqttUrl, { clientId: `m-${DOCK_A}`, username: DOCK_A, password: 'secret-a' }));
    const before = await gateway.dataSource.getRepository(InboundMessage).count();
    for (let i = 0; i < 5; i++) {
      await dock.publishAsync(`thing/product/${DOCK_A}/events`, JSON.stringify({ tid: randomUUID(), bid: 'b', timestamp: Date.now(), method: `made_up_${i}_${randomUUID()}`, data: {} }), { qos: 1 });
    }
    await eventually(async () => (await gateway.dataSource.getRepository(InboundMessage).count()) >= before + 5, 10_000, 'recorded');
    const labels = (await gateway.metrics.mqttMessages.get()).values.map((v) => v.labels.method);
    expect(labels).toContain('other');
    expect(labels.filter((l) => String(l).startsWith('made_up'))).toEqual([]);
  });
});

test('a gateway process reloads its password file on SIGHUP', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-sighup-'));
  const passwordFile = join(dir, 'passwords');
  const OLD = newSn('OLD');
  const NEW = newSn('NEW');
  writeFileSync(passwordFile, `${OLD}:${await hashPassword('old')}\n`);
  const mqttPort = await freePort();
  const gateway = await startGatewayProcess({
    dir,
    mqttUrl: null,
    clientId: 'sighup-gateway',
    env: { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_PASSWORD_FILE: passwordFile },
  });
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  try {
    expect(await canConnect(url, OLD, 'old')).toBe(true);
    expect(await canConnect(url, NEW, 'new')).toBe(false);
    // Written and signalled at once: the reload is the signal's (the file poll comes up to a second later).
    writeFileSync(passwordFile, `${NEW}:${await hashPassword('new')}\n`);
    gateway.child.kill('SIGHUP');
    await eventually(() => gateway.output().includes('"why":"SIGHUP"'), 5000, 'the reload on SIGHUP');
    expect(await canConnect(url, NEW, 'new')).toBe(true);
    expect(await canConnect(url, OLD, 'old')).toBe(false);
    // SIGHUP does not stop the gateway.
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  } finally {
    expect(await gateway.stop()).toEqual({ code: 0, signal: null });
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('without a password file', () => {
  const externalAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  test('the broker listens on loopback only, even with MQTT_HOST=0.0.0.0, and anonymous docks there are who they say', async () => {
    const log = capturingLogger();
    const gateway = await startTestGateway({ MQTT_HOST: '0.0.0.0', LOG_LEVEL: 'info' }, { logger: log.logger });
    try {
      const listening = log.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'embedded MQTT broker listening');
      expect(listening).toMatchObject({ host: '127.0.0.1', authentication: 'anonymous' });
      expect(log.lines.some((l) => l.includes('listens on loopback only'))).toBe(true);
      const port = Number(new URL(gateway.mqttUrl).port);
      if (externalAddress) {
        const error = await connect(`mqtt://${externalAddress}:${port}`, { clientId: 'outside', connectTimeout: 2000 }).then(
          (c) => (c.end(true), null),
          (e: Error) => e,
        );
        expect(error).not.toBeNull();
      }
      // On loopback an anonymous client is its username (else its client id): it may act only as that dock.
      const sn = newSn();
      const dock = await connect(gateway.mqttUrl, { clientId: 'any-id', username: sn });
      expect(await granted(dock, [`thing/product/${sn}/services`, 'thing/product/OTHER/services'])).toEqual([1, 128]);
      await dock.endAsync(true);
    } finally {
      await gateway.stop();
    }
  });

  test('a dock publishes for the aircraft it announced in update_topo, and only while it is announced', async () => {
    const gateway = await startTestGateway();
    const clients: MqttClient[] = [];
    try {
      const [dockSn, otherSn, aircraft] = [newSn(), newSn(), newSn('AIR')];
      const other = await connect(gateway.mqttUrl, { clientId: `c-${otherSn}`, username: otherSn });
      clients.push(other);
      const topo = (subDevices: { sn: string }[]) => JSON.stringify({ tid: randomUUID(), bid: randomUUID(), timestamp: Date.now(), method: 'update_topo', data: { domain: '3', type: 1, sub_type: 0, sub_devices: subDevices } });
      const osd = JSON.stringify({ tid: randomUUID(), timestamp: Date.now(), data: { height: 1 } });

      // Not announced yet: refused.
      const early = await connect(gateway.mqttUrl, { clientId: `a-${dockSn}`, username: dockSn });
      clients.push(early);
      await publishAndWaitForClose(early, `thing/product/${aircraft}/osd`, osd);

      const dock = await connect(gateway.mqttUrl, { clientId: `b-${dockSn}`, username: dockSn });
      clients.push(dock);
      // Announcing another dock as its aircraft does not give it that dock's topics.
      await dock.publishAsync(`sys/product/${dockSn}/status`, topo([{ sn: aircraft }, { sn: otherSn }]), { qos: 1 });
      await dock.publishAsync(`thing/product/${aircraft}/osd`, osd, { qos: 1 });
      await dock.publishAsync(`thing/product/${aircraft}/state`, osd, { qos: 1 });
      expect(await granted(dock, [`thing/product/${aircraft}/property/set`, `thing/product/${otherSn}/property/set`])).toEqual([1, 128]);
      await publishAndWaitForClose(dock, `thing/product/${otherSn}/osd`, osd);

      // The aircraft goes away (an empty sub_devices): the dock no longer speaks for it.
      const again = await connect(gateway.mqttUrl, { clientId: `d-${dockSn}`, username: dockSn });
      clients.push(again);
      await again.publishAsync(`sys/product/${dockSn}/status`, topo([]), { qos: 1 });
      await publishAndWaitForClose(again, `thing/product/${aircraft}/osd`, osd);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await gateway.stop();
    }
  });

  test('MQTT_ALLOW_ANONYMOUS=true keeps MQTT_HOST and says so loudly', async () => {
    const log = capturingLogger();
    const gateway = await startTestGateway({ MQTT_HOST: '0.0.0.0', MQTT_ALLOW_ANONYMOUS: 'true', LOG_LEVEL: 'info' }, { logger: log.logger });
    try {
      const lines = log.lines.map((l) => JSON.parse(l));
      expect(lines.find((l) => l.msg === 'embedded MQTT broker listening')).toMatchObject({ host: '0.0.0.0' });
      expect(lines.find((l) => String(l.msg).startsWith('MQTT_ALLOW_ANONYMOUS=true'))).toMatchObject({ level: 40 });
    } finally {
      await gateway.stop();
    }
  });
});
