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
  close(): Promise<void>;
}

/**
 * In-memory pub/sub for one instance, or Redis-backed (`REDIS_URL`) so that a
 * subscriber on any instance gets what any instance recorded.
 */
export function createGatewayPubSub(redisUrl: string | undefined): PubSubHandle {
  let eventTarget: EventTarget;
  let close = async () => {};
  if (redisUrl) {
    const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
    eventTarget = createRedisEventTarget({ publishClient, subscribeClient }) as unknown as EventTarget;
    close = async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    };
  } else {
    eventTarget = new EventTarget();
  }
  const pubSub = createPubSub({ eventTarget: eventTarget as never }) as GatewayPubSub;
  return { pubSub, listen: (topic) => listenToTopic(eventTarget, topic), close };
}

/** The recorder's bus, publishing to the GraphQL pub/sub. */
export function pubSubEventBus(pubSub: GatewayPubSub): EventBus {
  return {
    publishProgress: (message: UpgradeProgressMessage) => pubSub.publish(TOPICS.UPGRADE_PROGRESS, message),
    publishShadow: (event: ShadowEvent) => pubSub.publish(TOPICS.SHADOW_STATUS, event),
  };
}
