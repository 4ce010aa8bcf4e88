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
    recorderBatchSize: new Histogram({
      name: 'ota_recorder_batch_size',
      help: 'Units of work committed together (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
  };
}

/** The gateway's metrics. */
export type Metrics = ReturnType<typeof createMetrics>;
