/**
 * Subscriptions naming one task, dock, device or rollout are handed only that
 * one's messages by the pub/sub, so a published event wakes the subscriptions
 * it concerns, not every running one (with a thousand per-task screens open,
 * each event used to wake a thousand of them to be filtered out).
 */
import { createGatewayPubSub, SubscriberOverflowError, SUBSCRIBER_BUFFER } from '../src/server/pubsub';
import { routeKey, TOPICS, type UpgradeProgressMessage } from '../src/recorder/event-bus';

const message = (taskId: string, gatewaySn: string, deviceId: string, id: number) =>
  ({ task: { id: taskId, gatewaySn }, subTask: { deviceId }, event: { id } }) as unknown as UpgradeProgressMessage;

/** Everything an iterator holds right now, without waiting for more. */
async function drain<T>(iterator: AsyncIterableIterator<T>): Promise<T[]> {
  const got: T[] = [];
  for (;;) {
    const next = await Promise.race([iterator.next(), new Promise<'idle'>((resolve) => setImmediate(() => resolve('idle')))]);
    if (next === 'idle' || next.done) return got;
    got.push(next.value);
  }
}

test('each subscriber gets the messages of the key it listens under, and one without a key gets them all', async () => {
  const { pubSub, listen, close } = createGatewayPubSub(undefined);
  const all = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS);
  const taskA = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.task('A'));
  const dock1 = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.gateway('DOCK1'));
  const aircraft = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.device('UAV1'));
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('A', 'DOCK1', 'DOCK1', 1));
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('A', 'DOCK1', 'UAV1', 2));
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('B', 'DOCK2', 'DOCK2', 3));
  const ids = async (it: AsyncIterableIterator<UpgradeProgressMessage>) => (await drain(it)).map((m) => m.event.id);
  expect(await ids(all)).toEqual([1, 2, 3]);
  expect(await ids(taskA)).toEqual([1, 2]);
  expect(await ids(dock1)).toEqual([1, 2]);
  expect(await ids(aircraft)).toEqual([2]);
  await close();
});

test('a thousand per-task subscribers: a message reaches its task\'s only, and an ended subscriber hears nothing more', async () => {
  const { pubSub, listen, close } = createGatewayPubSub(undefined);
  const subscribers = Array.from({ length: 1000 }, (_, i) => listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.task(`T${i}`)));
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('T500', 'D', 'D', 7));
  const received = await Promise.all(subscribers.map((s) => drain(s)));
  expect(received.map((r) => r.length).reduce((a, b) => a + b)).toBe(1);
  expect(received[500].map((m) => m.event.id)).toEqual([7]);

  await subscribers[500].return!();
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('T500', 'D', 'D', 8));
  expect(await subscribers[500].next()).toEqual({ value: undefined, done: true });
  await close();
});

test('a keyed subscriber that falls too far behind ends with an overflow, the others go on', async () => {
  const { pubSub, listen, close } = createGatewayPubSub(undefined);
  const slow = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.task('A'));
  const other = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.task('A'));
  for (let i = 0; i <= SUBSCRIBER_BUFFER; i++) pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('A', 'D', 'D', i));
  // What it holds is still read, then the overflow ends it.
  for (let i = 0; i < SUBSCRIBER_BUFFER; i++) expect((await slow.next()).value?.event.id).toBe(i);
  await expect(slow.next()).rejects.toBeInstanceOf(SubscriberOverflowError);
  // The other one read nothing either, and overflowed the same way; a fresh one under the key still hears.
  const fresh = listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, routeKey.task('A'));
  pubSub.publish(TOPICS.UPGRADE_PROGRESS, message('A', 'D', 'D', -1));
  expect((await drain(fresh)).map((m) => m.event.id)).toEqual([-1]);
  await other.return!();
  await close();
});
