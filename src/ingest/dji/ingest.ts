import type { Logger } from 'pino';
import type { MessageHandler } from '../../mqtt/connection';
import { type Clock, systemClock } from '../../recorder/clock';
import type { Recorder } from '../../recorder/recorder';
import type { Metrics } from '../../server/metrics';
import { parseDjiMessage } from './protocol';

/** What the DJI ingest needs. */
export interface DjiIngestDependencies {
  readonly recorder: Recorder;
  /** Publishes a cloud-to-dock message (QoS 1). */
  readonly publish: (topic: string, payload: string) => Promise<void>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Stamps the receive time and the events_reply `timestamp`. @default the system clock */
  readonly clock?: Clock;
  /** Answer `update_topo` with `status_reply` (`DJI_ANSWER_STATUS`). @default true */
  readonly answerStatus?: boolean;
}

/**
 * Handles one message from a dock: parse it (the protocol module never throws),
 * record it (the ledger keeps even what is rejected), then answer `events_reply`
 * when the dock asked for one. The returned promise resolves once the message
 * is durable, which is when the connection sends its PUBACK; it rejects only
 * when storage failed, and then neither PUBACK nor reply is sent, so the broker
 * and the dock both deliver it again.
 */
export function djiMessageHandler(deps: DjiIngestDependencies): MessageHandler {
  const clock = deps.clock ?? systemClock;
  return async (topic, payload) => {
    const receivedAt = clock.now();
    const inbound = parseDjiMessage(topic, payload, receivedAt, () => clock.now().getTime(), { answerStatus: deps.answerStatus });
    const { envelope } = inbound;
    const result = await deps.recorder.record(envelope);
    deps.metrics.mqttMessages.inc({ method: envelope.channel, outcome: result.outcome.toLowerCase() });
    if (envelope.content.kind === 'rejected') {
      deps.logger.warn({ topic, reason: envelope.content.reason }, 'dji message rejected');
    }
    if (inbound.reply) {
      // Even when the event moved nothing (stale, after the end, duplicate): the dock stops resending.
      deps.publish(inbound.reply.topic, inbound.reply.payload).catch((error) =>
        deps.logger.warn({ err: error, topic: inbound.reply?.topic }, 'reply not sent'),
      );
    }
  };
}
