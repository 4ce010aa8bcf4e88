import type { Logger } from 'pino';
import { envelopeOf, type InboundEnvelope } from '../../domain';
import type { MessageHandler } from '../../mqtt/connection';
import { type Clock, systemClock } from '../../recorder/clock';
import type { Recorder } from '../../recorder/recorder';
import { mqttMethodLabel, type Metrics } from '../../server/metrics';
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
  return async (topic, payload, delivery) => {
    const receivedAt = clock.now();
    const inbound = parseDjiMessage(topic, payload, receivedAt, () => clock.now().getTime(), { answerStatus: deps.answerStatus });
    const envelope = delivery?.redelivered ? markRedelivered(inbound.envelope) : inbound.envelope;
    const result = await deps.recorder.record(envelope);
    deps.metrics.mqttMessages.inc({ method: mqttMethodLabel(envelope.channel), outcome: result.outcome.toLowerCase() });
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

/**
 * The envelope of a message its transport marks as a possible late copy (MQTT
 * DUP): its observation says so, so that the ordering rules hold its device
 * time against the last report applied (see `decideTransition`).
 */
function markRedelivered(envelope: InboundEnvelope): InboundEnvelope {
  const { content } = envelope;
  if (content.kind !== 'observation' || content.observation.type !== 'upgrade') return envelope;
  return envelopeOf(envelope, envelope.channel, envelope.dedupeKey, { kind: 'observation', observation: Object.assign({}, content.observation, { redelivered: true }) });
}
