import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import Aedes from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { MqttConnection } from '../src/mqtt/connection';
import { eventually, sleep } from './support/gateway';

/**
 * A broker the test can stop and start again on the same port (in memory: a
 * restart loses every session and subscription, the harder case for the
 * client). `published` sees every message clients publish, `subscribed` every
 * subscription made. aedes has no shared subscriptions, which the gateway uses
 * with an external broker: the whole gateway through a broker outage is
 * test/services/faults.broker.test.ts, on Mosquitto.
 */
async function startBroker(port = 0) {
  const aedes = new Aedes();
  const sockets = new Set<Socket>();
  const published: { topic: string; payload: string; clientId: string | undefined }[] = [];
  const subscribed: { topic: string; clientId: string }[] = [];
  aedes.on('publish', (packet, client) => {
    if (client) published.push({ topic: packet.topic, payload: packet.payload.toString(), clientId: client.id });
  });
  aedes.on('subscribe', (subscriptions, client) => {
    for (const s of subscriptions) subscribed.push({ topic: s.topic, clientId: client.id });
  });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `mqtt://127.0.0.1:${actual}`,
    published,
    subscribed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        aedes.close(() => server.close(() => resolve()));
      }),
  };
}


const TOPIC = 'thing/product/+/events';

test('through a broker outage the connection backs off (doubling, capped), reconnects, subscribes again and receives again', async () => {
  let broker = await startBroker();
  const port = broker.port;
  const received: string[] = [];
  const connection = new MqttConnection({
    url: broker.url,
    clientId: 'outage-client',
    subscriptions: [TOPIC],
    logger: pino({ level: 'silent' }),
    onMessage: async (_topic, payload) => void received.push(payload.toString()),
    minReconnectMs: 50,
    maxReconnectMs: 400,
  });
  try {
    await connection.waitConnected(5000);
    await eventually(() => broker.subscribed.some((s) => s.clientId === 'outage-client' && s.topic === TOPIC), 5000, 'subscribed');
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'outage-dock', protocolVersion: 4, reconnectPeriod: 0 });
    await dock.publishAsync('thing/product/D1/events', 'before', { qos: 1 });
    await eventually(() => received.includes('before'), 5000, 'a message before the outage');
    await dock.endAsync(true);

    await broker.close();
    await eventually(() => !connection.connected, 5000, 'disconnected');
    // Attempts keep failing: the delay doubles up to its cap and stays there.
    const delays = new Set<number>();
    await eventually(
      () => {
        delays.add(connection.client.options.reconnectPeriod ?? 0);
        return delays.has(400);
      },
      20_000,
      'the reconnect delay at its cap',
    );
    expect([...delays].filter((d) => d > 0).sort((a, b) => a - b)).toEqual(expect.arrayContaining([100, 200, 400]));
    await sleep(500);
    expect(connection.client.options.reconnectPeriod).toBe(400);

    broker = await startBroker(port);
    await connection.waitConnected(10_000);
    expect(connection.client.options.reconnectPeriod).toBe(50);
    // The new broker knew nothing of the client: it subscribed again.
    await eventually(() => broker.subscribed.some((s) => s.clientId === 'outage-client' && s.topic === TOPIC), 5000, 'subscribed again');
    const again = await mqtt.connectAsync(broker.url, { clientId: 'outage-dock', protocolVersion: 4, reconnectPeriod: 0 });
    for (let i = 0; i < 5; i++) await again.publishAsync('thing/product/D1/events', `after-${i}`, { qos: 1 });
    await eventually(() => received.filter((r) => r.startsWith('after-')).length === 5, 5000, 'messages after the outage');
    await again.endAsync(true);
    expect(received).toEqual(['before', 'after-0', 'after-1', 'after-2', 'after-3', 'after-4']);
  } finally {
    await connection.close();
    await broker.close();
  }
});

test('a publish made while disconnected is queued by the client and goes out after reconnection', async () => {
  let broker = await startBroker();
  const port = broker.port;
  const connection = new MqttConnection({
    url: broker.url,
    clientId: 'outage-publisher',
    subscriptions: [],
    logger: pino({ level: 'silent' }),
    onMessage: async () => undefined,
    minReconnectMs: 50,
    maxReconnectMs: 200,
  });
  try {
    await connection.waitConnected(5000);
    await broker.close();
    await eventually(() => !connection.connected, 5000, 'disconnected');
    const publishing = connection.publish('thing/product/D1/services', 'queued');
    await sleep(200);
    broker = await startBroker(port);
    await publishing;
    expect(broker.published).toEqual([{ topic: 'thing/product/D1/services', payload: 'queued', clientId: 'outage-publisher' }]);
  } finally {
    await connection.close();
    await broker.close();
  }
});

test('the connection is ready only once the broker confirmed its subscriptions, again after every reconnection', async () => {
  // A broker that holds back its SUBACK until the test lets it go.
  const aedes = new Aedes();
  const held: (() => void)[] = [];
  let subscribeRequests = 0;
  const letSubscribe = () => held.splice(0).forEach((release) => release());
  aedes.authorizeSubscribe = (_client, subscription, callback) => {
    subscribeRequests++;
    held.push(() => callback(null, subscription));
  };
  const server: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const connection = new MqttConnection({
    url,
    clientId: 'ready-test',
    // A clean session: the broker restores nothing, the client subscribes anew after each connection.
    persistentSession: false,
    subscriptions: ['thing/product/+/events'],
    onMessage: async () => undefined,
    logger: pino({ level: 'silent' }),
    minReconnectMs: 50,
  });
  try {
    await connection.waitConnected(5000);
    await eventually(() => subscribeRequests >= 1, 5000, 'the subscription asked for');
    expect(connection.connected).toBe(true);
    expect(connection.ready).toBe(false);
    letSubscribe();
    await eventually(() => connection.ready, 5000, 'ready once subscribed');

    // Dropped: not ready again until the new subscription is confirmed.
    const asked = subscribeRequests;
    for (const client of Object.values((aedes as unknown as { clients: Record<string, { conn: Socket }> }).clients)) client.conn.destroy();
    await eventually(() => subscribeRequests > asked && connection.connected, 5000, 'reconnected and subscribing');
    expect(connection.ready).toBe(false);
    letSubscribe();
    await eventually(() => connection.ready, 5000, 'ready again');
  } finally {
    await connection.close();
    await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
  }
});
