import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics, on a registry of its own so that several
 * gateways in one process (tests) do not collide.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'ota_http_requests_total',
      help: 'HTTP requests served, by route and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    webhookPushes: new Counter({
      name: 'ota_webhook_pushes_total',
      help: 'Huawei pushes, by notifyType and outcome (recorded, duplicate, unhandled, rejected, unauthorized, unavailable).',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    mqttMessages: new Counter({
      name: 'ota_mqtt_messages_total',
      help: 'DJI MQTT messages, by method and outcome.',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    activeSubscriptions: new Gauge({
      name: 'ota_graphql_active_subscriptions',
      help: 'GraphQL subscriptions currently open over WebSockets.',
      registers: [registry],
    }),
    recorderCommitSeconds: new Histogram({
      name: 'ota_recorder_commit_seconds',
      help: 'Time to run and commit one writer batch.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    mqttBrokerRefused: new Counter({
      name: 'ota_mqtt_broker_refused_total',
      help: 'Embedded broker: connections, publishes and subscriptions refused (authentication, ACL, limits), by action.',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    mqttBrokerDropped: new Counter({
      name: 'ota_mqtt_broker_dropped_total',
      help: 'Embedded broker: messages dropped for a subscriber whose queue was full (it alone misses them).',
      registers: [registry],
    }),
    mqttBrokerUnretained: new Counter({
      name: 'ota_mqtt_broker_unretained_total',
      help: 'Embedded broker: retained messages delivered but not retained (over the count or size bound).',
      registers: [registry],
    }),
    recorderBatchSize: new Histogram({
      name: 'ota_recorder_batch_size',
      help: 'Units of work committed together (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
  };
}

/**
 * The `method` label values of `ota_mqtt_messages_total`: a fixed list, so a
 * client inventing methods cannot grow the metrics without bound. DJI methods
 * the gateway knows, and the ledger channels of messages without a usable one.
 */
export const MQTT_METHOD_LABELS: readonly string[] = [
  'ota_progress',
  'ota_create',
  'update_topo',
  'events',
  'services_reply',
  'status',
  'state',
  'osd',
  'unknown_topic',
];

/** The label for a message's method (its ledger channel): itself if in {@link MQTT_METHOD_LABELS}, else `other`. */
export function mqttMethodLabel(method: string): string {
  return MQTT_METHOD_LABELS.includes(method) ? method : 'other';
}

/** The gateway's metrics. */
export type Metrics = ReturnType<typeof createMetrics>;
