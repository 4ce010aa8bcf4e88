import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { GatewayPubSub, TopicListener } from '../graphql/context';
import { TOPICS, type EventBus, type UpgradeProgressMessage } from '../recorder/event-bus';
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
 * Listens to one topic of an event target as an async iterator, with a bounded
 * buffer of its own. (graphql-yoga's `subscribe` shares one buffer object
 * among all subscribers when given one, and without one its overflow throws
 * inside the publisher's dispatch; neither is acceptable for slow sockets.)
 * The listener is attached at once, which resumable subscriptions rely on.
 */
export function listenToTopic<T>(target: EventTarget, topic: string, capacity = SUBSCRIBER_BUFFER): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  let failure: Error | null = null;
  let finished = false;

  const listener = (event: Event) => {
    if (finished) return;
    const value = (event as CustomEvent<T>).detail;
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
  const stop = () => {
    finished = true;
    target.removeEventListener(topic, listener);
    if (waiter) {
      const w = waiter;
      waiter = null;
      if (failure) w.reject(failure);
      else w.resolve({ value: undefined, done: true });
    }
  };
  target.addEventListener(topic, listener);

  return {
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
  return { pubSub, listen: (topic) => listenToTopic(eventTarget, topic), ready, connected, close };
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
