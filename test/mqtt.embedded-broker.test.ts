import mqtt from 'mqtt';
import { startEmbeddedBroker, topicMatcher } from '../src/mqtt/embedded-broker';

test('topicMatcher follows MQTT wildcards: + one level, # the rest, no wildcard match on $ topics', () => {
  const matches = topicMatcher(['thing/product/+/events', 'sys/#', '#']);
  expect(matches('thing/product/DOCK/events')).toBe(true);
  expect(matches('$SYS/broker/uptime')).toBe(false);
  const dji = topicMatcher(['thing/product/+/events', 'thing/product/+/services_reply']);
  expect(dji('thing/product/DOCK/events')).toBe(true);
  expect(dji('thing/product/DOCK/services_reply')).toBe(true);
  expect(dji('thing/product/DOCK/services')).toBe(false);
  expect(dji('thing/product/DOCK/events/extra')).toBe(false);
  expect(dji('thing/product/events')).toBe(false);
  const rest = topicMatcher(['sys/#']);
  expect(rest('sys')).toBe(true);
  expect(rest('sys/a/b')).toBe(true);
  expect(rest('system')).toBe(false);
  expect(topicMatcher([])('anything')).toBe(false);
});

test('a message on an ingest topic is acknowledged only once its handler resolves; a rejection leaves it with the publisher, which sends it again', async () => {
  const handled: string[] = [];
  let failNext = true;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const broker = await startEmbeddedBroker('127.0.0.1', 0, {
    filters: ['thing/product/+/events'],
    onMessage: async (_topic, payload) => {
      handled.push(payload.toString());
      if (failNext) {
        failNext = false;
        throw new Error('storage unavailable');
      }
      await gate;
    },
  }, { observers: ['ingest-watcher'] });
  const dock = await mqtt.connectAsync(broker.url, { clientId: 'ingest-dock', username: 'DOCK', protocolVersion: 4, reconnectPeriod: 100 });
  const watcher = await mqtt.connectAsync(broker.url, { clientId: 'ingest-watcher', protocolVersion: 4 });
  try {
    const seen: string[] = [];
    watcher.on('message', (topic) => seen.push(topic));
    await watcher.subscribeAsync(['thing/product/+/events', 'thing/product/+/state'], { qos: 1 });

    // Other topics pass straight through.
    await dock.publishAsync('thing/product/DOCK/state', 'x', { qos: 1 });
    expect(handled).toEqual([]);

    let acknowledged = false;
    const published = dock.publishAsync('thing/product/DOCK/events', 'm1', { qos: 1 }).then(() => (acknowledged = true));
    // The first try fails (the connection is dropped), the dock reconnects and sends it again, which waits on the gate.
    for (let i = 0; i < 100 && handled.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handled).toEqual(['m1', 'm1']);
    expect(acknowledged).toBe(false);
    release();
    await published;
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    // Subscribers get the message once the gateway has it.
    expect(seen).toEqual(['thing/product/DOCK/state', 'thing/product/DOCK/events']);
  } finally {
    await dock.endAsync(true);
    await watcher.endAsync(true);
    await broker.close();
  }
});
