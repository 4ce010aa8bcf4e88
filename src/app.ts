import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Config } from './config';
import type { GraphQLServices } from './graphql/context';
import { huaweiWebhookPlugin } from './ingest/huawei/webhook.plugin';
import type { Recorder } from './recorder/recorder';
import { graphqlPlugin } from './server/graphql.plugin';
import { ApiAuth } from './server/auth';
import { healthPlugin } from './server/health.plugin';
import { maskQuerySecrets } from './server/log-redaction';
import type { Metrics } from './server/metrics';

/** What the HTTP app is built from: the composition root provides it. */
export interface AppDependencies {
  readonly config: Config;
  /** Fastify logs through a child of it (request logs with tokens masked). */
  readonly logger: Logger;
  readonly schema: GraphQLSchema;
  readonly services: GraphQLServices;
  readonly recorder: Recorder;
  readonly metrics: Metrics;
  /** Readiness checks by name. */
  readonly readiness: Readonly<Record<string, () => boolean | Promise<boolean>>>;
  /** Shown by `/readyz` without deciding readiness. */
  readonly readinessReports?: Readonly<Record<string, () => unknown>>;
  /** Registers further routes (the dashboard) before the app is ready. */
  readonly extraPlugins?: readonly ((app: FastifyInstance) => Promise<void>)[];
}

/** The request URL with secret query values masked (`token`, `%74oken`, `token[]`, any case): they must never reach a log. */
export function redactUrl(url: string): string {
  return maskQuerySecrets(url);
}

/** Fastify's options for the gateway: body limit, HTTPS, logging through the gateway's logger. */
export function serverOptions(
  config: Config,
  logger: Logger,
): FastifyServerOptions & { http?: ServerOptions; https?: { cert: Buffer; key: Buffer } & ServerOptions } {
  // Node checks request timeouts every connectionsCheckingInterval (30 s by default), which would let a
  // stalled body live up to twice HTTP_REQUEST_TIMEOUT_MS; headers count against the same deadline.
  const timeouts = {
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(config.httpRequestTimeoutMs / 4))),
    headersTimeout: Math.min(60_000, config.httpRequestTimeoutMs),
  };
  const httpLogger = logger.child(
    { component: 'http' },
    {
      serializers: {
        req: (request: { method: string; url: string; ip?: string }) => ({
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
        }),
      },
    },
  );
  return {
    bodyLimit: 1024 * 1024,
    // Huawei re-pushes after 15 s without an answer; a request should never wait that long here.
    // A client that sends its headers or body too slowly (slowloris) gets 408 and is disconnected.
    requestTimeout: config.httpRequestTimeoutMs,
    http: timeouts,
    forceCloseConnections: 'idle',
    loggerInstance: httpLogger as unknown as FastifyBaseLogger,
    ...(config.tls ? { https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), ...timeouts } } : {}),
  };
}

/**
 * The gateway's HTTP side as one Fastify app: health and metrics, the Huawei
 * callback and the GraphQL endpoint (HTTP and WebSocket). It does not listen;
 * the composition root does, and tests may `inject()` without a port.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(deps.config, deps.logger) as FastifyServerOptions);
  // Fastify's own 404 names the URL, query string included: never echo or log a token.
  app.setNotFoundHandler((request, reply) => {
    const url = redactUrl(request.url);
    request.log.info({ method: request.method, url }, 'route not found');
    return reply.code(404).send({ error: 'NOT_FOUND', message: `Route ${request.method}:${url.split('?')[0]} not found` });
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
    }
    // Client errors (413 body too large, 415, bad JSON on /graphql) keep their own message.
    return reply.code(status).send({ error: error.name, message: error.message });
  });

  await app.register(healthPlugin, { metrics: deps.metrics, checks: deps.readiness, reports: deps.readinessReports });
  await app.register(huaweiWebhookPlugin, {
    recorder: deps.recorder,
    metrics: deps.metrics,
    token: deps.config.webhookToken,
    bodyLimit: deps.config.webhookBodyLimit,
  });
  await app.register(graphqlPlugin, {
    schema: deps.schema,
    services: deps.services,
    metrics: deps.metrics,
    auth: new ApiAuth(deps.config.apiTokens, { allowAnonymous: deps.config.apiAllowAnonymous }),
    allowedOrigins: deps.config.graphqlAllowedOrigins,
    sandbox: deps.config.graphqlSandbox,
    introspection: deps.config.graphqlIntrospection,
    development: deps.config.env === 'development',
  });
  for (const register of deps.extraPlugins ?? []) await register(app);
  app.addHook('onSend', async (_request, reply) => {
    if (CLOSING.has(app)) reply.header('connection', 'close');
  });
  return app;
}

const CLOSING = new WeakSet<FastifyInstance>();

/**
 * Stops the app: no new connections, requests in flight finished. Their
 * keep-alive connections would then hold the close until their keep-alive
 * timeout (72 s, past the 10 s a shutdown may take): answers given while
 * closing say `Connection: close`, and connections left idle are closed as
 * they appear.
 */
export async function closeApp(app: FastifyInstance): Promise<void> {
  CLOSING.add(app);
  const idle = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
  }
}
