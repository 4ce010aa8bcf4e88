import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo from '@as-integrations/fastify';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { GraphQLError, type GraphQLSchema, getOperationAST, parse, specifiedRules, validate, type ExecutionArgs } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createContext, type GraphQLContext, type GraphQLServices } from '../graphql/context';
import { ErrorCode } from '../graphql/errors';
import { listCostRule } from '../graphql/list-cost';
import { maskExecutionResult } from '../graphql/mask-errors';
import { createSharedSubscribe } from '../graphql/shared-execution';
import type { Metrics } from './metrics';
import { bearerMatches } from './tokens';

/** Where both the HTTP endpoint and the WebSocket endpoint live. */
export const GRAPHQL_PATH = '/graphql';

/** Most subscriptions one socket may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

/** Most objects an operation's nested lists may return (see listCostRule). */
export const MAX_LIST_COST = 100_000;

/** Most tokens in one document, enforced by the parser on both paths. */
const MAX_TOKENS = 2000;

/** Options of {@link graphqlPlugin}. */
export interface GraphQLPluginOptions {
  readonly schema: GraphQLSchema;
  readonly services: GraphQLServices;
  readonly metrics: Metrics;
  readonly apiToken: string | undefined;
  readonly sandbox: boolean;
  readonly introspection: boolean;
  /** Real error text and stack traces only in development. */
  readonly development: boolean;
}

const unauthenticated = () =>
  new GraphQLError('Missing or wrong API token: send Authorization: Bearer <API_TOKEN>', {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
  });

/**
 * The GraphQL API: Apollo Server over HTTP and graphql-ws on the same path for
 * subscriptions. Both paths get the same limits: Apollo's plugins do not see
 * WebSocket operations, so `onSubscribe` parses and validates them with the
 * same rules.
 */
const plugin: FastifyPluginAsync<GraphQLPluginOptions> = async (app, options) => {
  const { schema, services, metrics, apiToken } = options;
  const armor = new ApolloArmor({
    maxDepth: { n: 10 },
    maxAliases: { n: 15 },
    maxDirectives: { n: 50 },
    // Armor's token plugin parses in a hook and throws, which Apollo answers with a 500 for every
    // syntax error; Apollo's own parser enforces the same limit as a 400 (parseOptions below).
    maxTokens: { enabled: false },
    // Armor's cost weighs fields by depth; the list sizes are listCostRule's business.
    // (At 5 000 it refused the dashboard's own page when written inline.)
    costLimit: { maxCost: 20_000 },
    blockFieldSuggestion: { enabled: !options.development },
  });
  const protection = armor.protect();
  const validationRules = [...protection.validationRules, listCostRule(MAX_LIST_COST)];

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: options.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: options.development,
    parseOptions: { maxTokens: MAX_TOKENS },
    validationRules,
    plugins: [
      ...protection.plugins,
      options.sandbox ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
    formatError: (formatted, error) => {
      const code = formatted.extensions?.code;
      if (!options.development && (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR)) {
        app.log.error({ err: error }, 'graphql internal error');
        return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
      }
      return formatted;
    },
  });
  await apollo.start();

  if (apiToken !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url !== GRAPHQL_PATH) return;
      // A browser opening the endpoint gets the Sandbox page; it sends the token with its operations.
      const wantsLandingPage = request.method === 'GET' && !('query' in ((request.query as object) ?? {}));
      if (wantsLandingPage || bearerMatches(request.headers.authorization, apiToken)) return;
      const error = unauthenticated();
      return reply.code(401).send({ errors: [{ message: error.message, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
    });
  }

  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    context: async () => createContext(services),
  });

  // noServer: the HTTP server's own errors (a taken port) stay with Fastify instead of
  // being re-emitted by ws; only upgrades to the GraphQL path are accepted.
  const wsServer = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== GRAPHQL_PATH) {
      socket.destroy();
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request));
  });
  const subscriptionsOf = new WeakMap<object, Set<string>>();
  const wsDisposable = useServer<Record<string, unknown> | undefined, { socket?: unknown }>(
    {
      schema,
      context: () => createContext(services),
      // One execution per event and document, shared by its subscribers (see shared-execution.ts);
      // each execution gets fresh DataLoaders, so that no subscription's cache feeds another's results.
      subscribe: createSharedSubscribe({ executionContext: () => createContext(services) }),
      onConnect: (ctx) => {
        if (apiToken === undefined) return true;
        // false closes the socket with 4403 Forbidden before any operation runs.
        return bearerMatches(ctx.connectionParams?.authorization as string | undefined, apiToken);
      },
      onSubscribe: (ctx, id, payload) => subscribeArgs(ctx, id, payload, schema, validationRules, subscriptionsOf, metrics),
      onComplete: (ctx, id) => release(ctx, id, subscriptionsOf, metrics),
      // Apollo's formatError does not see this path: mask internal errors here too.
      onNext: (_ctx, _id, _payload, _args, result) =>
        options.development ? undefined : maskExecutionResult(result, (error) => app.log.error({ err: error }, 'graphql internal error')),
      onError: (ctx, id) => void release(ctx, id, subscriptionsOf, metrics),
    },
    wsServer,
  );

  app.addHook('preClose', async () => {
    // Closes every socket with 1001 Going Away (the client knows to reconnect later) and stops the server.
    await wsDisposable.dispose();
  });
  app.addHook('onClose', async () => {
    // Fastify has already drained in-flight requests; Apollo's drain plugin would wait on this very close.
    await apollo.stop();
  });
};

type SubscribeMessagePayload = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };

function subscribeArgs(
  ctx: WsContext<Record<string, unknown> | undefined, unknown>,
  id: string,
  payload: SubscribeMessagePayload,
  schema: GraphQLSchema,
  rules: readonly import('graphql').ValidationRule[],
  subscriptionsOf: WeakMap<object, Set<string>>,
  metrics: Metrics,
): ExecutionArgs | readonly GraphQLError[] {
  let document;
  try {
    document = parse(payload.query, { maxTokens: MAX_TOKENS });
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
  }
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  if (errors.length > 0) return errors;
  const operation = getOperationAST(document, payload.operationName ?? undefined);
  if (operation?.operation === 'subscription') {
    const open = subscriptionsOf.get(ctx) ?? new Set<string>();
    if (open.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      return [
        new GraphQLError(`At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket`, {
          extensions: { code: ErrorCode.FORBIDDEN },
        }),
      ];
    }
    open.add(id);
    subscriptionsOf.set(ctx, open);
    metrics.activeSubscriptions.inc();
  }
  return {
    schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables ?? undefined,
  } as ExecutionArgs;
}

function release(ctx: object, id: string, subscriptionsOf: WeakMap<object, Set<string>>, metrics: Metrics): void {
  const open = subscriptionsOf.get(ctx);
  if (open?.delete(id)) metrics.activeSubscriptions.dec();
}


/** The GraphQL endpoint (HTTP and WebSocket) as a Fastify plugin. */
export const graphqlPlugin = fp(plugin, { name: 'graphql', fastify: '5.x' });
