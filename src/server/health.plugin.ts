import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics';

/** Options of {@link healthPlugin}. */
export interface HealthOptions {
  readonly metrics: Metrics;
  /** Each check names a dependency and says whether it is usable now. */
  readonly checks: Readonly<Record<string, () => boolean | Promise<boolean>>>;
  /** Shown by `/readyz` under `reports` without deciding readiness (e.g. `huaweiCallback: "pending"`). */
  readonly reports?: Readonly<Record<string, () => unknown>>;
}

/**
 * `/healthz` (the process serves), `/readyz` (every dependency answers: 503
 * naming the ones that do not) and `/metrics` (Prometheus text). None needs a token.
 */
const plugin: FastifyPluginAsync<HealthOptions> = async (app, { metrics, checks, reports = {} }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const),
    );
    const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
    const body = { status: failing.length === 0 ? 'ready' : 'not ready', checks: Object.fromEntries(results) };
    if (Object.keys(reports).length > 0) Object.assign(body, { reports: Object.fromEntries(Object.entries(reports).map(([name, report]) => [name, report()])) });
    return reply.code(failing.length === 0 ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
};

/** Health, readiness and metrics endpoints as a Fastify plugin. */
export const healthPlugin = fp(plugin, { name: 'health', fastify: '5.x' });
