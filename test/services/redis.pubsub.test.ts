import { Redis } from 'ioredis';
import { TOPICS } from '../../src/recorder/event-bus';
import { createGatewayPubSub, type PubSubHandle } from '../../src/server/pubsub';
import { describeWith, runId, SERVICE_URLS } from './support/services';

/** Collects `count` messages of `topic` from a handle's listener, or fails after `timeoutMs`. */
async function take<T>(handle: PubSubHandle, topic: string, count: number, timeoutMs = 3000): Promise<T[]> {
  const iterator = handle.listen<T>(topic);
  const got: T[] = [];
  const timer = setTimeout(() => void iterator.return?.(), timeoutMs);
  for await (const value of iterator) {
    got.push(value);
    if (got.length === count) break;
  }
  clearTimeout(timer);
  return got;
}

describeWith(['redis'])('Redis pub/sub', () => {
  const handles: PubSubHandle[] = [];
  const open = (prefix: string) => {
    const handle = createGatewayPubSub(SERVICE_URLS.redis, { channelPrefix: prefix });
    handles.push(handle);
    return handle;
  };
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
  });

  test('every topic is subscribed from the start, under the prefix, before anyone listens', async () => {
    const prefix = `ota-test-${runId()}:`;
    const handle = open(prefix);
    await handle.ready;
    expect(handle.connected()).toBe(true);
    const probe = new Redis(SERVICE_URLS.redis);
    try {
      const channels = await probe.pubsub('CHANNELS', `${prefix}*`);
      expect((channels as string[]).sort()).toEqual(Object.values(TOPICS).map((t) => prefix + t).sort());
    } finally {
      probe.disconnect();
    }
  });

  test('each instance hears what any instance publishes, once; other prefixes hear nothing', async () => {
    const prefix = `ota-test-${runId()}:`;
    const one = open(prefix);
    const two = open(prefix);
    const stranger = open(`ota-other-${runId()}:`);
    await Promise.all([one.ready, two.ready, stranger.ready]);
    const onOne = take<any>(one, TOPICS.SHADOW_STATUS, 2);
    const onTwo = take<any>(two, TOPICS.SHADOW_STATUS, 2);
    const onStranger = take<any>(stranger, TOPICS.SHADOW_STATUS, 1, 800);
    const at = new Date('2026-11-21T10:00:00.000Z');
    one.pubSub.publish(TOPICS.SHADOW_STATUS, { id: 1, receivedAt: at } as never);
    two.pubSub.publish(TOPICS.SHADOW_STATUS, { id: 2, receivedAt: at } as never);
    const [a, b, c] = await Promise.all([onOne, onTwo, onStranger]);
    // JSON on the wire: the Date arrives as its ISO string.
    expect(a).toEqual([{ id: 1, receivedAt: at.toISOString() }, { id: 2, receivedAt: at.toISOString() }]);
    expect(b).toEqual(a);
    expect(c).toEqual([]);
  });

  test('close lets published messages reach Redis first', async () => {
    const prefix = `ota-test-${runId()}:`;
    const listener = open(prefix);
    await listener.ready;
    const publisher = createGatewayPubSub(SERVICE_URLS.redis, { channelPrefix: prefix });
    await publisher.ready;
    const got = take<any>(listener, TOPICS.UPGRADE_PROGRESS, 50);
    for (let i = 0; i < 50; i++) publisher.pubSub.publish(TOPICS.UPGRADE_PROGRESS, { n: i } as never);
    await publisher.close();
    expect((await got).map((m) => m.n)).toEqual([...Array(50).keys()]);
  });
});
