import { createPubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import { FixedBuffer } from '@repeaterjs/repeater';
import type { GatewayPubSub } from '../graphql/context';
import { TOPICS, type EventBus, type UpgradeProgressMessage } from '../recorder/event-bus';
import type { ShadowEvent } from '../store/entities';

/**
 * Messages a subscriber may fall behind by before its subscription ends with
 * an error (it can resume with `after`); bounds memory per slow socket.
 */
const SUBSCRIBER_BUFFER = 10_000;

/** The pub/sub and what it holds open. */
export interface PubSubHandle {
  readonly pubSub: GatewayPubSub;
  close(): Promise<void>;
}

/**
 * In-memory pub/sub for one instance, or Redis-backed (`REDIS_URL`) so that a
 * subscriber on any instance gets what any instance recorded.
 */
export function createGatewayPubSub(redisUrl: string | undefined): PubSubHandle {
  if (!redisUrl) {
    return { pubSub: createPubSub({ repeaterBuffer: new FixedBuffer(SUBSCRIBER_BUFFER) }) as GatewayPubSub, close: async () => {} };
  }
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  return {
    pubSub: createPubSub({ eventTarget, repeaterBuffer: new FixedBuffer(SUBSCRIBER_BUFFER) }) as GatewayPubSub,
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/** The recorder's bus, publishing to the GraphQL pub/sub. */
export function pubSubEventBus(pubSub: GatewayPubSub): EventBus {
  return {
    publishProgress: (message: UpgradeProgressMessage) => pubSub.publish(TOPICS.UPGRADE_PROGRESS, message),
    publishShadow: (event: ShadowEvent) => pubSub.publish(TOPICS.SHADOW_STATUS, event),
  };
}
