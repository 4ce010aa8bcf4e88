import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { GatewayPubSub, TopicListener } from '../graphql/context';
import { TOPICS, routeKey, type EventBus, type UpgradeProgressMessage } from '../recorder/event-bus';
import type { ShadowEvent } from '../store/entities';

/**
 * Messages a subscriber may fall behind by before its subscription ends with
 * an error (it can resume with `after`); bounds memory per slow socket.
 */
export const SUBSCRIBER_BUFFER = 10_000;

/** Raised into a subscription whose consumer fell too far behind. */
export class SubscriberOverflowError extends Error {
  constructor() {
    super(`Subscriber fell more than ${SUBSCRIBER_BUFFER} messages behind; resubscribe with after: <last event id>`);
    this.name = 'SubscriberOverflowError';
  }
}

/**
 * One subscriber's bounded buffer as an async iterator: `push` hands it a
 * message, `detach` is called once when it ends (its consumer returned, or it
 * fell more than `capacity` messages behind: then its next read throws
 * {@link SubscriberOverflowError}). (graphql-yoga's `subscribe` shares one
 * buffer object among all subscribers when given one, and without one its
 * overflow throws inside the publisher's dispatch; neither is acceptable for
 * slow sockets.)
 */
function bufferedSubscriber<T>(capacity: number, detach: () => void): { push: (value: T) => void; iterator: AsyncIterableIterator<T> } {
  const queue: T[] = [];
  let waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  let failure: Error | null = null;
  let finished = false;

  const stop = () => {
    if (finished) return;
    finished = true;
    detach();
    if (waiter) {
      const w = waiter;
      waiter = null;
      if (failure) w.reject(failure);
      else w.resolve({ value: undefined, done: true });
    }
  };
  const push = (value: T) => {
    if (finished) return;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve({ value, done: false });
    } else if (queue.length >= capacity) {
      failure = new SubscriberOverflowError();
      stop();
    } else {
      queue.push(value);
    }
  };
  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (failure) return Promise.reject(failure);
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      queue.length = 0;
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { push, iterator };
}

type RoutingKeys = (message: never) => readonly (string | null | undefined)[];

/**
 * The routing keys of a message of each topic: a subscription that names a
 * task, a dock, a device or a rollout listens under that key and is handed
 * only the messages carrying it (see {@link TopicRouter}).
 */
const ROUTING_KEYS: Record<string, RoutingKeys> = {
  [TOPICS.UPGRADE_PROGRESS]: (m: UpgradeProgressMessage) => [
    routeKey.task(m.task?.id),
    routeKey.gateway(m.task?.gatewaySn),
    routeKey.device(m.subTask?.deviceId),
  ],
  [TOPICS.SHADOW_STATUS]: (e: ShadowEvent) => [routeKey.device(e.deviceId)],
  [TOPICS.DEVICE_CHANGED]: (d: { deviceId?: string; gatewaySn?: string | null }) => [routeKey.device(d.deviceId), routeKey.gateway(d.gatewaySn)],
  [TOPICS.ROLLOUT_CHANGED]: (r: { id?: string }) => [routeKey.rollout(r.id)],
};

/**
 * Hands each message of one topic only to the subscribers that want it. A
 * subscriber listens under one routing key (a task, a dock, a device), or
 * under none to hear everything; the router is the topic's one listener and
 * looks up the message's keys, so a message costs the subscribers it reaches,
 * not one wake-up of every running subscription (with a thousand
 * subscriptions each naming its own task, that was a thousand promise
 * resolutions per event).
 */
class TopicRouter<T> {
  private readonly everyone = new Set<(value: T) => void>();
  private readonly byKey = new Map<string, Set<(value: T) => void>>();

  constructor(target: EventTarget, topic: string, private readonly keysOf: (value: T) => readonly (string | null | undefined)[]) {
    target.addEventListener(topic, (event) => this.dispatch((event as CustomEvent<T>).detail));
  }

  private dispatch(value: T): void {
    for (const push of this.everyone) push(value);
    if (this.byKey.size === 0) return;
    for (const key of this.keysOf(value)) {
      if (!key) continue;
      const subscribers = this.byKey.get(key);
      if (subscribers) for (const push of subscribers) push(value);
    }
  }

  /** A subscriber under `key` (null: every message), attached at once. */
  listen(key: string | null, capacity = SUBSCRIBER_BUFFER): AsyncIterableIterator<T> {
    let set = this.everyone;
    if (key !== null) {
      const existing = this.byKey.get(key);
      if (existing) set = existing;
      else this.byKey.set(key, (set = new Set()));
    }
    const subscriber = bufferedSubscriber<T>(capacity, () => {
      set.delete(subscriber.push);
      if (key !== null && set.size === 0) this.byKey.delete(key);
    });
    set.add(subscriber.push);
    return subscriber.iterator;
  }
}

/** The pub/sub and what it holds open. */
export interface PubSubHandle {
  /** Publishing side, handed to type-graphql. */
  readonly pubSub: GatewayPubSub;
  /** Subscribing side, with a bounded buffer per subscriber. */
  readonly listen: TopicListener;
  /**
   * Resolves once both Redis connections are up and every topic is subscribed
   * (at once in memory): from then on, nothing another instance publishes is missed.
   */
  readonly ready: Promise<void>;
  /** False while a Redis connection is down (events then reach no subscriber of this instance): for readiness. */
  connected(): boolean;
  close(): Promise<void>;
}

/** Options of {@link createGatewayPubSub}. */
export interface GatewayPubSubOptions {
  /**
   * Prefix of the Redis channel names, so that deployments sharing a Redis
   * server (whose pub/sub ignores the database number) do not hear each other.
   * @default 'ota-gateway:'
   */
  readonly channelPrefix?: string;
}

/** Longest wait for Redis to confirm a graceful QUIT before the connection is cut. */
const REDIS_QUIT_TIMEOUT_MS = 2000;

/**
 * In-memory pub/sub for one instance, or Redis-backed (`REDIS_URL`) so that a
 * subscriber on any instance gets what any instance recorded, once: every
 * instance publishes what it committed to Redis only, and hears it back from
 * there like everyone else.
 *
 * Over Redis, payloads travel as JSON (Dates become ISO strings; the DateTime
 * scalar accepts both). Every topic's channel stays subscribed for the life of
 * the pub/sub, so a first or a resumed subscriber never waits on a SUBSCRIBE
 * round trip during which events would pass by unheard.
 */
export function createGatewayPubSub(redisUrl: string | undefined, options: GatewayPubSubOptions = {}): PubSubHandle {
  let eventTarget: EventTarget;
  let close = async () => {};
  let ready = Promise.resolve();
  let connected = () => true;
  if (redisUrl) {
    const prefix = options.channelPrefix ?? 'ota-gateway:';
    const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
    eventTarget = prefixed(createRedisEventTarget({ publishClient, subscribeClient }) as unknown as EventTarget, prefix);
    const topics = Object.values(TOPICS);
    const keepSubscribed = () => undefined;
    for (const topic of topics) eventTarget.addEventListener(topic, keepSubscribed);
    // The event target subscribed these already; this answers once Redis has (and the publisher is connected too).
    ready = Promise.all([subscribeClient.subscribe(...topics.map((topic) => prefix + topic)), publishClient.ping()]).then(() => undefined);
    ready.catch(() => undefined);
    connected = () => publishClient.status === 'ready' && subscribeClient.status === 'ready';
    close = async () => {
      // QUIT lets what was published reach Redis first; a Redis that is away gets cut off.
      await Promise.all(
        [publishClient, subscribeClient].map(async (client) => {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, REDIS_QUIT_TIMEOUT_MS)));
          await Promise.race([client.quit().catch(() => undefined), timeout]);
          clearTimeout(timer);
          client.disconnect();
        }),
      );
    };
  } else {
    eventTarget = new EventTarget();
    // One listener per running subscription, bounded per socket and token elsewhere: Node's warning at 10 would be noise.
    setMaxListeners(0, eventTarget);
  }
  const pubSub = createPubSub({ eventTarget: eventTarget as never }) as GatewayPubSub;
  const routers = new Map<string, TopicRouter<unknown>>();
  const listen: TopicListener = <T>(topic: string, key: string | null = null) => {
    let router = routers.get(topic);
    if (!router) routers.set(topic, (router = new TopicRouter<unknown>(eventTarget, topic, (ROUTING_KEYS[topic] ?? (() => [])) as (value: unknown) => readonly (string | null | undefined)[])));
    return router.listen(key) as AsyncIterableIterator<T>;
  };
  return { pubSub, listen, ready, connected, close };
}

/** An event target whose topic names carry `prefix` underneath (the Redis channel names). */
function prefixed(target: EventTarget, prefix: string): EventTarget {
  return {
    addEventListener: (type, listener, options) => target.addEventListener(prefix + type, listener, options),
    removeEventListener: (type, listener, options) => target.removeEventListener(prefix + type, listener, options),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: (event as CustomEvent).detail })),
  };
}

/** The recorder's bus, publishing to the GraphQL pub/sub. */
export function pubSubEventBus(pubSub: GatewayPubSub): EventBus {
  return {
    publishProgress: (message: UpgradeProgressMessage) => pubSub.publish(TOPICS.UPGRADE_PROGRESS, message),
    publishShadow: (event: ShadowEvent) => pubSub.publish(TOPICS.SHADOW_STATUS, event),
  };
}
