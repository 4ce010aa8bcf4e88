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
  /** Largest body accepted, in bytes (413 above). @default {@link DEFAULT_WEBHOOK_BODY_LIMIT} */
  readonly bodyLimit?: number;
}

/** Real pushes are under 1 KiB; anything near this is not from the platform. */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 64 * 1024;

/** Decodes strictly: a body that is not valid UTF-8 is refused rather than stored with U+FFFD in it. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The Huawei callback. It answers 200 only once the push is committed (the
 * platform re-pushes on timeouts and 5xx, so at-least-once in and the dedupe
 * key make exactly-once recorded), 400 naming each bad field for input it can
 * never accept, and 503 when storage cannot take it right now, so that the
 * platform tries again later.
 */
const plugin: FastifyPluginAsync<HuaweiWebhookOptions> = async (app, { recorder, metrics, token, bodyLimit }) => {
  const limit = Math.min(bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT, HUAWEI_LIMITS.bodyChars);
  await app.register(async (scope) => {
    // The parser wants the bytes as received: they are decoded strictly below, the JSON is validated
    // by the parser, and the text is kept raw in the ledger.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));

    scope.post(HUAWEI_CALLBACK_PATH, {
      bodyLimit: limit,
      // Before the body is read: a caller without the token cannot make the gateway read 64 KiB.
      onRequest: async (request, reply) => {
        if (token === undefined) return;
        const presented = (request.query as Record<string, unknown>)?.token;
        if (!secretMatches(typeof presented === 'string' ? presented : undefined, token)) {
          metrics.webhookPushes.inc({ type: 'unknown', outcome: 'unauthorized' });
          return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'missing or wrong token in the callback URL' });
        }
      },
    }, async (request, reply) => {
      let raw: string;
      try {
        raw = Buffer.isBuffer(request.body) ? utf8.decode(request.body) : '';
      } catch {
        metrics.webhookPushes.inc({ type: 'invalid', outcome: 'rejected' });
        return reply.code(400).send({ error: 'BAD_REQUEST', message: 'the body is not valid UTF-8', fields: [{ field: 'body', message: 'must be UTF-8' }] });
      }
      const parsed = parseHuaweiPush(raw, new Date());
      if (!parsed.ok) {
        metrics.webhookPushes.inc({ type: 'invalid', outcome: 'rejected' });
        return reply.code(400).send({ error: 'BAD_REQUEST', message: 'invalid push', fields: parsed.errors });
      }
      const { envelope } = parsed;
      // Only the handled types name a series: any other notifyType is the sender's free text,
      // and one series per distinct text would grow the registry without bound.
      const type = envelope.content.kind === 'unhandled' ? 'unhandled' : envelope.channel;
      try {
        const result = await recorder.record(envelope);
        metrics.webhookPushes.inc({ type, outcome: result.outcome.toLowerCase() });
        return reply.code(200).type('text/plain').send('ok');
      } catch (error) {
        request.log.error({ err: storageError(error), notifyType: envelope.channel, bodyChars: raw.length }, 'push not stored');
        metrics.webhookPushes.inc({ type, outcome: 'unavailable' });
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'SERVICE_UNAVAILABLE', message: 'the push could not be stored; retry later' });
      }
    });
  });
};

/**
 * A storage error as logged: its kind, message, driver code and stack, but not
 * the extras TypeORM attaches (`query`, `parameters`), since the parameters
 * hold the whole push body, up to 1 MiB per re-push during an outage.
 */
function storageError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const { code, driverError } = error as Error & { code?: unknown; driverError?: { code?: unknown } };
  return { type: error.name, message: error.message, code: code ?? driverError?.code, stack: error.stack };
}

/** The Huawei push receiver as a Fastify plugin. */
export const huaweiWebhookPlugin = fp(plugin, { name: 'huawei-webhook', fastify: '5.x' });
