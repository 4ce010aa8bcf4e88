import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Recorder } from '../../recorder/recorder';
import type { Metrics } from '../../server/metrics';
import { secretMatches } from '../../server/tokens';
import { HUAWEI_LIMITS, parseHuaweiPush } from './protocol';

/** Where Huawei's northbound SDK sends pushes; subscriptions name this path in their callback URL. */
export const HUAWEI_CALLBACK_PATH = '/v1.0.0/messageReceiver';

/** Options of {@link huaweiWebhookPlugin}. */
export interface HuaweiWebhookOptions {
  readonly recorder: Recorder;
  readonly metrics: Metrics;
  /** When set, the callback URL must carry `?token=<it>`: the platform can be given only a URL. */
  readonly token: string | undefined;
}

/**
 * The Huawei callback. It answers 200 only once the push is committed (the
 * platform re-pushes on timeouts and 5xx, so at-least-once in and the dedupe
 * key make exactly-once recorded), 400 naming each bad field for input it can
 * never accept, and 503 when storage cannot take it right now, so that the
 * platform tries again later.
 */
const plugin: FastifyPluginAsync<HuaweiWebhookOptions> = async (app, { recorder, metrics, token }) => {
  await app.register(async (scope) => {
    // The parser wants the text as received: it validates JSON itself and keeps it raw in the ledger.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: HUAWEI_LIMITS.bodyChars }, (_req, body, done) =>
      done(null, body),
    );

    scope.post(HUAWEI_CALLBACK_PATH, async (request, reply) => {
      if (token !== undefined) {
        const presented = (request.query as Record<string, unknown>)?.token;
        if (!secretMatches(typeof presented === 'string' ? presented : undefined, token)) {
          metrics.webhookPushes.inc({ type: 'unknown', outcome: 'unauthorized' });
          return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'missing or wrong token in the callback URL' });
        }
      }
      const raw = typeof request.body === 'string' ? request.body : '';
      const parsed = parseHuaweiPush(raw, new Date());
      if (!parsed.ok) {
        metrics.webhookPushes.inc({ type: 'invalid', outcome: 'rejected' });
        return reply.code(400).send({ error: 'BAD_REQUEST', message: 'invalid push', fields: parsed.errors });
      }
      const { envelope } = parsed;
      try {
        const result = await recorder.record(envelope);
        metrics.webhookPushes.inc({ type: envelope.channel, outcome: result.outcome.toLowerCase() });
        return reply.code(200).type('text/plain').send('ok');
      } catch (error) {
        request.log.error({ err: error, notifyType: envelope.channel }, 'push not stored');
        metrics.webhookPushes.inc({ type: envelope.channel, outcome: 'unavailable' });
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'SERVICE_UNAVAILABLE', message: 'the push could not be stored; retry later' });
      }
    });
  });
};

/** The Huawei push receiver as a Fastify plugin. */
export const huaweiWebhookPlugin = fp(plugin, { name: 'huawei-webhook', fastify: '5.x' });
