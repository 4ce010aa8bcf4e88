import {
  createSourceEventStream,
  execute,
  GraphQLError,
  Kind,
  print,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** Numbers schemas in execution keys, so that one memo never mixes two schemas. */
let nextSchemaId = 1;

/** Options of {@link createSharedSubscribe}. */
export interface SharedSubscribeOptions {
  /**
   * Arguments of root subscription fields that only select where the source
   * stream starts and never change how an event executes.
   * @default ['after']
   */
  readonly streamOnlyArguments?: readonly string[];
  /**
   * The context of each shared execution. Without it, the context of the
   * subscriber that reached the event first is used; with per-operation
   * caches (DataLoaders) in the context, a fresh one per execution keeps one
   * subscriber's cache out of everyone else's results.
   */
  readonly executionContext?: (args: ExecutionArgs) => unknown;
  /**
   * Execute events with the document compiled by graphql-jit (once per
   * document) rather than interpreted by graphql-js's `execute`. The result is
   * the same; an event costs a fraction of the work and of the allocations:
   * graphql-js builds argument maps and collects fields anew for every field
   * of every event, which was a quarter of what the MQTT ingest bench
   * allocated. A document graphql-jit cannot compile is executed by
   * graphql-js. The source stream (`subscribe`) stays graphql-js's.
   * @default true
   */
  readonly compileEvents?: boolean;
}

/** What graphql-ws calls for a subscription operation, as graphql-js's `subscribe` does. */
export type SharedSubscribe = (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

type SharedResult = ExecutionResult | Promise<ExecutionResult>;

/** What of a document the execution key keeps. */
interface DocumentShape {
  /** The document printed without the stream-only arguments of its root subscription fields. */
  readonly printed: string;
  /** Variables the printed document still uses (the others cannot change an execution). */
  readonly variables: readonly string[];
}

/**
 * A `subscribe` that executes each event once per execution key and shares
 * the result among the subscribers that have that key.
 *
 * graphql-js's `subscribe` maps every subscriber's source stream through its
 * own `execute`: one event reaching 1 000 subscribers of the same document is
 * executed 1 000 times, interleaved, so the first socket write waits until
 * most of those executions are done (the fan-out bench measured it). What
 * those executions compute does not depend on the subscriber here: sockets
 * are authenticated once at connect time and operations authorized (roles,
 * budgets) before they run, the context carries services, DataLoaders and the
 * caller's principal, which no subscription field reads, and the root value is the committed message itself, the
 * same object for every subscriber of the instance (the pub/sub dispatches one
 * object, also over Redis, where it is parsed once per message).
 *
 * So this builds a drop-in replacement for `subscribe` (graphql-ws
 * `ServerOptions.subscribe`): the source stream is still created per subscriber (filters, replay, buffer and unsubscription
 * stay theirs), but each event is executed once per *execution key* (schema,
 * document, variables, operation name) and the result, a promise while it
 * runs, is handed to every subscriber with that key. The memo is a `WeakMap`
 * keyed by the event object, so it lives exactly as long as some subscriber
 * still holds the event; events that are not objects are executed per
 * subscriber.
 *
 * Arguments of root subscription fields named in `streamOnlyArguments`
 * (`after` by default) only shape the source stream (where a replay starts),
 * never what one event executes to: they are left out of the key, both as
 * literals and as variables used nowhere else, so that a resumed subscriber
 * shares with everyone else once it is live (the events it replays are its
 * own objects, read from the database, and executed for it alone). A variable
 * that is also used anywhere else stays in the key.
 *
 * Consequences, on purpose: every subscriber of a key gets the same
 * `ExecutionResult` object (whoever sends it must not mutate it), computed
 * once, when the first of them reached the event; a resolver error becomes a
 * GraphQL error in that one result, so it reaches every subscriber sharing it,
 * and an unexpected rejection of `execute` does too, as an errors-only result,
 * never as a thrown error that would end their subscriptions.
 */
export function createSharedSubscribe(options: SharedSubscribeOptions = {}): SharedSubscribe {
  const streamOnly = new Set(options.streamOnlyArguments ?? ['after']);
  const executionContext = options.executionContext;
  const compileEvents = options.compileEvents ?? true;
  const shapes = new WeakMap<DocumentNode, DocumentShape>();
  const schemaIds = new WeakMap<GraphQLSchema, number>();
  const results = new WeakMap<object, Map<string, SharedResult>>();

  const shapeOf = (document: DocumentNode): DocumentShape => {
    let shape = shapes.get(document);
    if (!shape) {
      shape = documentShape(document, streamOnly);
      shapes.set(document, shape);
    }
    return shape;
  };

  const schemaId = (schema: GraphQLSchema): number => {
    let id = schemaIds.get(schema);
    if (id === undefined) {
      id = nextSchemaId++;
      schemaIds.set(schema, id);
    }
    return id;
  };

  const compiledQueries = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, CompiledQuery | null>>>();
  /** The document compiled for executing events (see `compileEvents`), once per schema, document and operation; null when it cannot be. */
  const compiledFor = (args: ExecutionArgs): CompiledQuery | null => {
    if (!compileEvents) return null;
    let byDocument = compiledQueries.get(args.schema);
    if (!byDocument) compiledQueries.set(args.schema, (byDocument = new WeakMap()));
    let byOperation = byDocument.get(args.document);
    if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
    const operation = args.operationName ?? '';
    let compiled = byOperation.get(operation);
    if (compiled === undefined) {
      try {
        const made = compileQuery(args.schema, args.document, args.operationName ?? undefined);
        compiled = isCompiledQuery(made) ? made : null;
      } catch {
        // Whatever graphql-jit cannot take, graphql-js executes.
        compiled = null;
      }
      byOperation.set(operation, compiled);
    }
    return compiled;
  };

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;

    const shape = shapeOf(args.document);
    const variables: Record<string, unknown> = {};
    for (const name of shape.variables) {
      if (args.variableValues && name in args.variableValues) variables[name] = args.variableValues[name];
    }
    const key = `${schemaId(args.schema)}\n${args.operationName ?? ''}\n${stableJson(variables)}\n${shape.printed}`;

    const compiled = compiledFor(args);
    const executeOnce = (payload: unknown): SharedResult => {
      try {
        const contextValue = executionContext ? executionContext(args) : args.contextValue;
        const result = compiled
          ? compiled.query(payload, contextValue, args.variableValues)
          : execute({ ...args, rootValue: payload, contextValue });
        return isPromiseLike(result) ? Promise.resolve(result).catch(errorResult) : result;
      } catch (error) {
        return errorResult(error);
      }
    };

    const resultOf = (payload: unknown): SharedResult => {
      if (payload === null || (typeof payload !== 'object' && typeof payload !== 'function')) return executeOnce(payload);
      let byKey = results.get(payload);
      if (!byKey) {
        byKey = new Map();
        results.set(payload, byKey);
      }
      let result = byKey.get(key);
      if (result === undefined) {
        result = executeOnce(payload);
        byKey.set(key, result);
      }
      return result;
    };

    return mapSource(stream[Symbol.asyncIterator](), resultOf);
  };
}

/**
 * The source mapped through `resultOf`. `return` goes straight to the source:
 * a subscriber waiting for its next event stops at once (see progressStream).
 */
function mapSource(source: AsyncIterator<unknown>, resultOf: (payload: unknown) => SharedResult): AsyncIterableIterator<ExecutionResult> {
  const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });
  const map = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> =>
    step.done ? done() : { value: await resultOf(step.value), done: false };
  return {
    next: async () => map(await source.next()),
    return: async () => {
      await source.return?.();
      return done();
    },
    throw: async (error?: unknown) => {
      if (source.throw) return map(await source.throw(error));
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** An errors-only result for a failure outside any resolver (execute rejected or threw). */
function errorResult(error: unknown): ExecutionResult {
  if (error instanceof GraphQLError) return { errors: [error] };
  const originalError = error instanceof Error ? error : new Error(String(error));
  return { errors: [new GraphQLError(originalError.message, { originalError })] };
}

/**
 * The document printed without the stream-only arguments of the fields
 * selected directly by its subscription operations, and the variables it
 * still uses anywhere (variable definitions aside).
 */
function documentShape(document: DocumentNode, streamOnly: ReadonlySet<string>): DocumentShape {
  const rootFields = new Set<FieldNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'subscription') continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) rootFields.add(selection);
    }
  }
  const used = new Set<string>();
  const stripped = visit(document, {
    VariableDefinition: () => false,
    Field: (node) => {
      if (!rootFields.has(node) || !node.arguments?.some((a) => streamOnly.has(a.name.value))) return undefined;
      return { ...node, arguments: node.arguments.filter((a) => !streamOnly.has(a.name.value)) };
    },
    Variable: (node) => {
      used.add(node.name.value);
    },
  });
  return { printed: print(stripped), variables: [...used].sort() };
}

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` give the same key. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof Object(value)[Symbol.asyncIterator] === 'function';
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
