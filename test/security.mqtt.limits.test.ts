/**
 * The embedded broker's bounds under attack: a subscriber that does not read,
 * packets announcing 64 MiB, floods of retained and junk messages, silent
 * clients and too many connections. Everything asserted is a count or a size,
 * never a duration.
 */
import { randomUUID } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/embedded-broker';
import { LEDGER_KEPT_CHARS_OF_REFUSED } from '../src/recorder/recorder';
import { InboundMessage } from '../src/store/entities';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';

const newSn = (prefix = 'DOCK') => `${prefix}${randomUUID().slice(0, 8).toUpperCase()}`;

function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Resolves once `client` has been disconnected by the broker. */
const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));

/** A raw TCP connection speaking MQTT 3.1.1 by hand: for clients that misbehave below what MQTT.js allows. */
async function rawClient(port: number, clientId: string, username?: string): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60, ...(username ? { username } : {}) }));
  // The CONNACK (4 bytes).
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return socket;
}

describe('a subscriber that does not read', () => {
  let broker: EmbeddedBroker;
  const clients: MqttClient[] = [];
  let slow: Socket;
  beforeAll(async () => {
    broker = await startEmbeddedBroker('127.0.0.1', 0, undefined, { observers: ['slow-observer', 'fast-observer'], limits: { maxQueuedMessages: 50 } });
  });
  afterAll(async () => {
    slow?.destroy();
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  test('is dropped for alone: every dock gets all its acknowledgements, another subscriber gets everything, and its queue stays within the limit', async () => {
    // Subscribes to everything (an observer, allowed by the ACL for this test), then never reads again.
    slow = await rawClient(broker.port, 'slow-observer');
    slow.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }] }));
    await new Promise<void>((resolve) => slow.once('data', () => resolve())); // SUBACK
    slow.pause();

    const fast = await connect(broker.url, { clientId: 'fast-observer' });
    clients.push(fast);
    let fastReceived = 0;
    fast.on('message', () => fastReceived++);
    await fast.subscribeAsync('#', { qos: 1 });

    const docks = await Promise.all(Array.from({ length: 4 }, () => newSn()).map(async (sn) => ({ sn, client: await connect(broker.url, { clientId: sn }) })));
    clients.push(...docks.map((d) => d.client));
    const perDock = 200;
    const payload = Buffer.alloc(32 * 1024, 'x');
    // 4 × 200 × 32 KiB = 25 MiB towards a socket nobody reads: without a bound, aedes waits for it and every PUBACK stalls.
    await Promise.all(
      docks.map(async ({ sn, client }) => {
        for (let i = 0; i < perDock; i++) await client.publishAsync(`thing/product/${sn}/osd`, payload, { qos: 1 });
      }),
    );
    await eventually(() => fastReceived === docks.length * perDock, 20_000, `all ${docks.length * perDock} messages at the reading subscriber (got ${fastReceived})`);
    const stats = broker.stats();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.maxQueued).toBeLessThanOrEqual(50);
    console.log(`slow subscriber: ${stats.dropped} of ${docks.length * perDock} messages dropped for it, at most ${stats.maxQueued} queued; ${fastReceived} delivered to the reading one`);
  });
});

describe('limits of the embedded broker', () => {
  test('a keep-alive of 0, or one over the maximum, is held to the maximum: a silent client is disconnected', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, undefined, { limits: { maxKeepaliveSeconds: 1 } });
    try {
      const none = await connect(broker.url, { clientId: newSn(), keepalive: 0 });
      const long = await connect(broker.url, { clientId: newSn(), keepalive: 3600 });
      await Promise.all([closed(none), closed(long)]);
      expect(none.connected).toBe(false);
      expect(long.connected).toBe(false);
    } finally {
      await broker.close();
    }
  });

  test('connections from one address are capped; a slot freed is usable again', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, undefined, { limits: { maxConnectionsPerAddress: 3 } });
    const open: MqttClient[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await connect(broker.url, { clientId: newSn() }));
      // The fourth is closed at once, before any CONNACK.
      const fourth = tcpConnect(broker.port, '127.0.0.1');
      fourth.on('error', () => undefined);
      let answered = false;
      fourth.on('data', () => (answered = true));
      fourth.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: newSn(), keepalive: 60 }));
      await new Promise<void>((resolve) => fourth.once('close', () => resolve()));
      expect(answered).toBe(false);
      await open.pop()!.endAsync(true);
      await eventually(async () => {
        try {
          open.push(await connect(broker.url, { clientId: newSn() }));
          return true;
        } catch {
          return false;
        }
      }, 5000, 'a connection once one closed');
    } finally {
      await Promise.all(open.map((c) => c.endAsync(true)));
      await broker.close();
    }
  });

  test('a connection that never sends CONNECT is closed after the connect timeout', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, undefined, { limits: { connectTimeoutMs: 300 } });
    try {
      const socket = tcpConnect(broker.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(socket.destroyed).toBe(true);
    } finally {
      await broker.close();
    }
  });

  test('retained messages are bounded in count and size: beyond, they are delivered but not kept', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, undefined, { observers: ['watcher', 'late'], limits: { maxRetainedMessages: 10, maxRetainedBytes: 1024 } });
    const clients: MqttClient[] = [];
    try {
      const watcher = await connect(broker.url, { clientId: 'watcher' });
      clients.push(watcher);
      let live = 0;
      watcher.on('message', () => live++);
      await watcher.subscribeAsync('#', { qos: 1 });
      for (let i = 0; i < 30; i++) {
        const sn = newSn();
        const dock = await connect(broker.url, { clientId: sn });
        clients.push(dock);
        await dock.publishAsync(`thing/product/${sn}/state`, Buffer.alloc(i === 0 ? 4096 : 500, 'r'), { qos: 1, retain: true });
      }
      await eventually(() => live === 30, 5000, 'every message delivered live');
      expect(broker.stats().retained).toBe(10);
      const late = await connect(broker.url, { clientId: 'late' });
      clients.push(late);
      const retained: number[] = [];
      late.on('message', (_topic, payload, packet) => packet.retain && retained.push(payload.length));
      await late.subscribeAsync('#', { qos: 1 });
      await eventually(() => retained.length >= 10, 5000, '10 retained messages');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The 4 KiB one (over the size bound) was not kept; then 10 of the 500-byte ones.
      expect(retained).toEqual(Array(10).fill(500));
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.close();
    }
  });
});

describe('floods against the gateway', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  test('packets announcing 64 MiB are refused from their header: the connection is closed long before the body, nothing is stored', async () => {
    const sn = newSn();
    const port = Number(new URL(gateway.mqttUrl).port);
    const ledger = gateway.dataSource.getRepository(InboundMessage);
    const rowsBefore = await ledger.count();
    const announced = 64 * 1024 * 1024;
    const written: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const socket = await rawClient(port, `${sn}-${attempt}`, sn);
      const topic = Buffer.from(`thing/product/${sn}/events`);
      // PUBLISH QoS 0: fixed header, remaining length as a variable byte integer, topic; then the body in 256 KiB pieces.
      const header = Buffer.concat([Buffer.from([0x30]), variableByteInteger(announced), Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]);
      let sent = header.length;
      let open = true;
      socket.once('close', () => (open = false));
      socket.write(header);
      const piece = Buffer.alloc(256 * 1024, 'x');
      while (open && sent < announced) {
        // Write only what the kernel takes: what the broker refuses to read stops here.
        if (!socket.write(piece)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), new Promise((resolve) => socket.once('close', resolve))]);
        sent += piece.length;
      }
      socket.destroy();
      written.push(sent);
    }
    console.log(`64 MiB packets: connections closed after ${written.map((b) => `${(b / 1024 / 1024).toFixed(1)} MiB`).join(', ')} were handed to the kernel`);
    for (const bytes of written) expect(bytes).toBeLessThan(announced / 4);
    expect(await ledger.count()).toBe(rowsBefore);
  });

  test('a flood of junk keeps at most 4 KiB of each message in the ledger', async () => {
    const sn = newSn();
    const dock = await connect(gateway.mqttUrl, { clientId: sn });
    const ledger = gateway.dataSource.getRepository(InboundMessage);
    try {
      const before = await ledger.count();
      const junk = 200;
      const body = `not json ${'y'.repeat(200 * 1024)}`;
      for (let i = 0; i < junk; i++) await dock.publishAsync(`thing/product/${sn}/events`, `${i} ${body}`, { qos: 1 });
      await eventually(async () => (await ledger.count()) >= before + junk, 30_000, 'every junk message in the ledger');
      const rows = await ledger
        .createQueryBuilder('m')
        .select('COUNT(*)', 'rows')
        .addSelect('MAX(LENGTH(m.payload))', 'longest')
        .addSelect('SUM(LENGTH(m.payload))', 'total')
        .where('m.id > :after', { after: 0 })
        .andWhere('m.outcome = :rejected', { rejected: 'REJECTED' })
        .andWhere('m.payload LIKE :junk', { junk: '% not json %' })
        .getRawOne<{ rows: number; longest: number; total: number }>();
      expect(Number(rows!.rows)).toBe(junk);
      expect(Number(rows!.longest)).toBe(LEDGER_KEPT_CHARS_OF_REFUSED);
      console.log(`junk flood: ${junk} messages of ${(body.length / 1024).toFixed(0)} KiB took ${(Number(rows!.total) / 1024).toFixed(0)} KiB of payload in the ledger`);
    } finally {
      await dock.endAsync(true);
    }
  });
});

/** MQTT's remaining-length encoding. */
function variableByteInteger(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}
