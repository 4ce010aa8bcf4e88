import type { IncomingMessage } from 'node:http';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { Duplex } from 'node:stream';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo from '@as-integrations/fastify';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  specifiedRules,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type ValidationRule,
} from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { sharedResultReplacer } from './shared-result-json';
import { TurnBatchedWebSocket } from './turn-batched-websocket';
import { createContext, type GraphQLContext, type GraphQLServices } from '../graphql/context';
import { ErrorCode } from '../graphql/errors';
import { documentCost, listCostRule } from '../graphql/list-cost';
import { maskExecutionResult } from '../graphql/mask-errors';
import { ParsedDocuments } from '../graphql/parsed-documents';
import { SUBSCRIPTION_FILTER_ARGUMENTS } from '../graphql/schema';
import { createSharedSubscribe } from '../graphql/shared-execution';
import { hideSuggestions, withoutSuggestions } from '../graphql/suggestions';
import { type ApiAuth, type AuthResult, connectionParamsToken, normaliseOrigin, originAllowed, type Principal, Role } from './auth';
import type { Metrics } from './metrics';
import { SubscriptionBudget, type SubscriptionLimits } from './subscription-budget';

/** Where both the HTTP endpoint and the WebSocket endpoint live. */
export const GRAPHQL_PATH = '/graphql';

/** Most subscriptions one socket may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

/** Most objects an operation's nested lists may return (see listCostRule). */
export const MAX_LIST_COST = 100_000;

/** Caps on running subscriptions, priced by the objects one event makes them return (see SubscriptionBudget). */
export const SUBSCRIPTION_LIMITS: SubscriptionLimits = Object.freeze({
  perSocket: MAX_SUBSCRIPTIONS_PER_SOCKET,
  costPerSocket: 10_000,
  perPrincipal: 2_000,
  costPerPrincipal: 100_000,
});

/** Largest WebSocket message accepted (ws closes the socket with 1009 above it, before reading it whole). */
export const MAX_WS_PAYLOAD = 1024 * 1024;

/** Most tokens in one document, enforced by the parser on both paths. */
const MAX_TOKENS = 2000;

/** WebSocket close codes for refused connections (graphql-ws's own 4401/4403, with a reason saying why). */
export const WS_CLOSE = Object.freeze({ UNAUTHENTICATED: 4401, FORBIDDEN: 4403 });

/** Options of {@link graphqlPlugin}. */
export interface GraphQLPluginOptions {
  readonly schema: GraphQLSchema;
  readonly services: GraphQLServices;
  readonly metrics: Metrics;
  /** Who may call (API_TOKENS / API_TOKEN, or this machine only without tokens). */
  readonly auth: ApiAuth;
  /** Browser origins allowed besides the server's own (GRAPHQL_ALLOWED_ORIGINS). */
  readonly allowedOrigins: readonly string[];
  readonly sandbox: boolean;
  readonly introspection: boolean;
  /** Real error text and stack traces only in development. */
  readonly development: boolean;
}

/** A GraphQL error with a code, as an HTTP body. */
const errorBody = (code: ErrorCode, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** A WebSocket close reason: at most 123 bytes, as the protocol allows. */
function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123 ? reason : bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD*$/, '') + '...';
}

/**
 * The GraphQL API: Apollo Server over HTTP and graphql-ws on the same path for
 * subscriptions. Both paths get the same rules: the same authentication
 * (ApiAuth) and Origin policy, the same roles, validation rules, cost limit,
 * introspection switch and error masking. Apollo's plugins do not see
 * WebSocket operations, so `onSubscribe` parses and validates them itself.
 */
const plugin: FastifyPluginAsync<GraphQLPluginOptions> = async (app, options) => {
  const { schema, services, metrics, auth, allowedOrigins } = options;
  const log = app.log;
  const hidingSuggestions = !options.development || !options.introspection;
  if (!auth.required) {
    if (auth.openToAll) log.warn('API_ALLOW_ANONYMOUS=true and no API token: GraphQL (mutations included) is open to EVERY client that can reach the port');
    else log.info('no API token configured (API_TOKENS / API_TOKEN): GraphQL is open to clients on this machine only');
  }

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
    // Its filter misses enum-value suggestions; hideSuggestions (formatError, onSubscribe) covers all.
    blockFieldSuggestion: { enabled: false },
  });
  const protection = armor.protect();
  // The list cost needs the operation's variables (a page size is usually one), which validation does not
  // see: on HTTP it is checked once the operation is resolved (listCostPlugin), on the WebSocket per subscribe.
  const validationRules = [...protection.validationRules];
  // Apollo enforces `introspection: false` on HTTP with its own rule; the WebSocket path gets graphql-js's.
  const wsValidationRules = options.introspection ? validationRules : [...validationRules, NoSchemaIntrospectionCustomRule];

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: options.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Off: a cache any client can fill, and a second way to name an operation (a hash) that every
    // rule would have to follow. A request with a hash gets 400 PERSISTED_QUERY_NOT_SUPPORTED, which
    // Apollo Client's persisted-query link takes as "send the full query".
    persistedQueries: false,
    includeStacktraceInErrorResponses: options.development,
    parseOptions: { maxTokens: MAX_TOKENS },
    validationRules,
    plugins: [
      ...protection.plugins,
      listCostPlugin(schema),
      authorizationPlugin(log, metrics),
      // Apollo installs its cache-control plugin unless told not to; it hooks every field's resolver to
      // compute a cache policy, and with no @cacheControl hints in the schema that policy never allows
      // caching, so no response ever carried its header: the hook cost a tenth of a dashboard page for nothing.
      ApolloServerPluginCacheControlDisabled(),
      options.sandbox ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
    formatError: (formatted, error) => {
      const code = formatted.extensions?.code;
      if (!options.development && (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR)) {
        log.error({ err: error }, 'graphql internal error');
        return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
      }
      return hidingSuggestions ? { ...formatted, message: withoutSuggestions(formatted.message) } : formatted;
    },
  });
  await apollo.start();

  const principals = new WeakMap<object, Principal>();
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return;
    if (!originAllowed(request.headers.origin, request.headers.host, allowedOrigins)) {
      log.info({ origin: request.headers.origin }, 'graphql request from a foreign origin refused');
      metrics.graphqlRefused.inc({ transport: 'http', reason: 'origin' });
      return reply.code(403).send(errorBody(ErrorCode.FORBIDDEN, `Origin ${String(request.headers.origin).slice(0, 100)} is not allowed (GRAPHQL_ALLOWED_ORIGINS)`));
    }
    // A listed origin (another host than the gateway's) may read the answers: CORS for it alone.
    const origin = request.headers.origin;
    if (origin !== undefined && allowedOrigins.includes(normaliseOrigin(origin) ?? '')) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'WWW-Authenticate');
    }
    // A preflight carries no credentials; the request it announces is authenticated as any other.
    if (request.method === 'OPTIONS') {
      if (reply.hasHeader('access-control-allow-origin')) {
        reply
          .header('access-control-allow-methods', 'GET, POST')
          .header('access-control-allow-headers', 'Authorization, Content-Type, Apollo-Require-Preflight, X-Apollo-Operation-Name')
          .header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    }
    // A browser opening the endpoint gets the Sandbox page; it sends the token with its operations.
    // Only a bare GET: a query string may carry an operation (`query`, or `extensions` with a hash).
    if (request.method === 'GET' && !request.url.includes('?')) return;
    const result = authenticate(auth, request.headers.authorization, request.raw);
    if (!result.ok) {
      metrics.graphqlRefused.inc({ transport: 'http', reason: result.status === 401 ? 'unauthenticated' : 'not_local' });
      if (result.status === 401) reply.header('www-authenticate', 'Bearer realm="ota-gateway"');
      const code = result.status === 401 ? ErrorCode.UNAUTHENTICATED : ErrorCode.FORBIDDEN;
      return reply.code(result.status).send(errorBody(code, result.reason));
    }
    principals.set(request, result.principal);
  });

  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    context: async (request: FastifyRequest) => createContext(services, principals.get(request) ?? unauthenticatedPrincipal()),
  });

  // noServer: the HTTP server's own errors (a taken port) stay with Fastify instead of
  // being re-emitted by ws; only upgrades to the GraphQL path are accepted.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, WebSocket: TurnBatchedWebSocket });
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== GRAPHQL_PATH) {
      socket.destroy();
      return;
    }
    // Browsers let any page open a WebSocket anywhere (no CORS): the Origin is all that tells them apart.
    if (!originAllowed(request.headers.origin, request.headers.host, allowedOrigins)) {
      log.info({ origin: request.headers.origin }, 'graphql WebSocket from a foreign origin refused');
      metrics.graphqlRefused.inc({ transport: 'websocket', reason: 'origin' });
      const body = `Origin not allowed (GRAPHQL_ALLOWED_ORIGINS)\n`;
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => {
      ws.writesTo(socket);
      quietOversizedFrames(ws, log);
      wsServer.emit('connection', ws, request);
    });
  });

  type Extra = { socket: WebSocket; request: IncomingMessage };
  type Ctx = WsContext<Record<string, unknown> | undefined, Extra>;
  const principalOf = (ctx: object): Principal => principals.get(ctx) ?? unauthenticatedPrincipal();
  const budget = new SubscriptionBudget(SUBSCRIPTION_LIMITS);
  // Every socket of a dashboard sends the same documents: parsed once (see ParsedDocuments).
  const documents = new ParsedDocuments({ max: 500, maxTotalLength: 256 * 1024, maxLength: 16 * 1024, parseOptions: { maxTokens: MAX_TOKENS } });
  const release = (ctx: object, id: string) => {
    if (budget.release(ctx, id)) metrics.activeSubscriptions.dec();
  };
  const wsDisposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      context: (ctx) => createContext(services, principalOf(ctx)),
      // One execution per event and document, shared by its subscribers (see shared-execution.ts);
      // each execution gets fresh DataLoaders, so that no subscription's cache feeds another's results.
      // Nothing a subscription resolves depends on who asked (authorization happens in onSubscribe).
      subscribe: createSharedSubscribe({
        // Filters and stream starts: one execution per event whatever each subscriber filters on.
        streamOnlyArguments: SUBSCRIPTION_FILTER_ARGUMENTS,
        executionContext: (args) => createContext(services, (args.contextValue as GraphQLContext).principal),
      }),
      onConnect: (ctx: Ctx) => {
        const { request, socket } = ctx.extra;
        // The token from connection_init, in any usual spelling; else from the upgrade request (non-browser clients).
        const presented = connectionParamsToken(ctx.connectionParams) ?? request.headers.authorization;
        const result = authenticate(auth, presented, request);
        if (!result.ok) {
          metrics.graphqlRefused.inc({ transport: 'websocket', reason: result.status === 401 ? 'unauthenticated' : 'not_local' });
          // graphql-ws would close with a bare 4403 Forbidden: say which it is, and why.
          socket.close(result.status === 401 ? WS_CLOSE.UNAUTHENTICATED : WS_CLOSE.FORBIDDEN, closeReason(result.reason));
          return false;
        }
        principals.set(ctx, result.principal);
        return true;
      },
      onSubscribe: (ctx: Ctx, id, payload) => {
        const principal = principalOf(ctx);
        const prepared = prepareOperation(documents, schema, [...wsValidationRules, listCostRule(MAX_LIST_COST, payload.variables)], payload);
        if (!('document' in prepared)) return prepared.map((e) => (hidingSuggestions ? hideSuggestions(e) : e));
        const refused = authorize(principal, prepared.operation, log, 'websocket');
        if (refused) {
          metrics.graphqlRefused.inc({ transport: 'websocket', reason: 'role' });
          return [refused];
        }
        if (prepared.operation.operation === 'subscription') {
          const cost = documentCost(prepared.document, schema, payload.variables).get(prepared.operation.name?.value ?? '') ?? 0;
          const overBudget = budget.acquire(ctx, principal.name, id, Math.max(1, cost));
          if (overBudget) {
            metrics.graphqlRefused.inc({ transport: 'websocket', reason: 'subscription_budget' });
            return [overBudget];
          }
          metrics.activeSubscriptions.inc();
        }
        return prepared.args;
      },
      onComplete: (ctx, id) => release(ctx, id),
      onClose: (ctx) => {
        const released = budget.releaseAll(ctx);
        if (released > 0) metrics.activeSubscriptions.dec(released);
      },
      // A shared result's data is serialised once for all its subscribers (see shared-result-json.ts);
      // the server's sockets (TurnBatchedWebSocket, above) put it back into each text they send.
      jsonMessageReplacer: sharedResultReplacer,
      // Apollo's formatError does not see this path: mask internal errors and suggestions here too.
      onNext: (_ctx, _id, _payload, _args, result) => formatWsResult(result as ExecutionResult, options.development, hidingSuggestions, log),
      onError: (ctx, id, _payload, errors) => {
        release(ctx, id);
        return hidingSuggestions ? errors.map((e) => hideSuggestions(e).toJSON()) : undefined;
      },
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

/**
 * A frame over maxPayload: ws has already closed the socket with 1009 when it
 * emits the error, and graphql-ws would print it with console.error as an
 * "internal error" for every such frame an attacker sends. Logged at info instead.
 */
function quietOversizedFrames(ws: WebSocket, log: FastifyBaseLogger): void {
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'error' && (args[0] as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      log.info({ limit: MAX_WS_PAYLOAD }, 'graphql WebSocket closed: frame over the size limit');
      return true;
    }
    return emit(event, ...args);
  }) as WebSocket['emit'];
}

/** Never used for an operation: every path authenticates before one runs. A viewer, should that ever change. */
function unauthenticatedPrincipal(): Principal {
  return { name: 'unauthenticated', role: Role.VIEWER, anonymous: true };
}

function authenticate(auth: ApiAuth, presented: unknown, request: IncomingMessage): AuthResult {
  return auth.authenticate({
    presented: typeof presented === 'string' ? presented : undefined,
    remoteAddress: request.socket.remoteAddress,
    host: request.headers.host,
  });
}

/** The operation's name for the audit log: its own, or its root fields. */
function operationLabel(operation: OperationDefinitionNode): string {
  if (operation.name) return operation.name.value;
  const fields = operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD).map((s) => s.name.value);
  return `(anonymous: ${fields.join(', ')})`;
}

/**
 * Roles: a viewer's mutation is FORBIDDEN. Every mutation, allowed or not,
 * leaves one audit line (token name, role, operation; never the token).
 * Returns the error to answer with, or null.
 */
function authorize(principal: Principal, operation: OperationDefinitionNode, log: FastifyBaseLogger, transport: string): GraphQLError | null {
  if (operation.operation !== 'mutation') return null;
  const allowed = principal.role === Role.OPERATOR;
  log.info(
    { audit: { principal: principal.name, role: principal.role, operation: operationLabel(operation), transport, outcome: allowed ? 'allowed' : 'forbidden' } },
    'mutation',
  );
  if (allowed) return null;
  return new GraphQLError(`The API token "${principal.name}" has the role ${principal.role}, which may not run mutations (operator only)`, {
    extensions: { code: ErrorCode.FORBIDDEN, http: { status: 403 } },
  });
}

/**
 * The list-cost rule on the HTTP path, with the request's variables: run when
 * the operation is resolved, before it executes; a refusal is a 400
 * GRAPHQL_VALIDATION_FAILED like any other validation error.
 */
function listCostPlugin(schema: GraphQLSchema): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const errors = validate(schema, document, [listCostRule(MAX_LIST_COST, request.variables)]);
          if (errors.length > 0) {
            throw new GraphQLError(errors[0].message, {
              nodes: errors[0].nodes,
              extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** Roles and the audit line on the HTTP path; persisted-query refusals as 400. */
function authorizationPlugin(log: FastifyBaseLogger, metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (!operation) return;
          const refused = authorize(contextValue.principal, operation, log, 'http');
          if (refused) {
            metrics.graphqlRefused.inc({ transport: 'http', reason: 'role' });
            throw refused;
          }
        },
        async willSendResponse({ response, errors }) {
          const persisted = errors?.some((e) => String(e.extensions?.code).startsWith('PERSISTED_QUERY_'));
          if (persisted) response.http.status = 400;
        },
      };
    },
  };
}

type SubscribeMessagePayload = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };

/** Parses and validates a WebSocket operation as Apollo does an HTTP one; the errors to answer with otherwise. */
function prepareOperation(
  documents: ParsedDocuments,
  schema: GraphQLSchema,
  rules: readonly ValidationRule[],
  payload: SubscribeMessagePayload,
): { document: import('graphql').DocumentNode; operation: OperationDefinitionNode; args: ExecutionArgs } | readonly GraphQLError[] {
  let document;
  try {
    document = documents.parse(payload.query);
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
  }
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  if (errors.length > 0) return errors;
  const operation = getOperationAST(document, payload.operationName ?? undefined);
  if (!operation) return [new GraphQLError('Unable to identify the operation: name it with operationName')];
  const args = { schema, document, operationName: payload.operationName, variableValues: payload.variables ?? undefined } as ExecutionArgs;
  return { document, operation, args };
}

/** A WebSocket result as clients may see it: internal errors masked outside development, suggestions hidden. */
function formatWsResult(result: ExecutionResult, development: boolean, hidingSuggestions: boolean, log: FastifyBaseLogger) {
  // Nothing to mask: the result itself is the payload. (graphql-ws would copy it twice to leave out an
  // `errors` it does not have, for every subscriber of every event, and shared-result-json.ts keys on its data.)
  if (result.errors === undefined) return result;
  const masked = development ? undefined : maskExecutionResult(result, (error) => log.error({ err: error }, 'graphql internal error'));
  if (!hidingSuggestions) return masked;
  const errors = masked?.errors ?? result.errors?.map((e) => e.toJSON());
  if (!errors?.some((e) => e.message.includes('Did you mean'))) return masked;
  return {
    ...(result.data !== undefined ? { data: result.data } : {}),
    errors: errors.map((e) => ({ ...e, message: withoutSuggestions(e.message) })),
  };
}

/** The GraphQL endpoint (HTTP and WebSocket) as a Fastify plugin. */
export const graphqlPlugin = fp(plugin, { name: 'graphql', fastify: '5.x' });
