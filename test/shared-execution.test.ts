import { buildSchema, GraphQLError, parse, type ExecutionArgs, type ExecutionResult, type GraphQLObjectType } from 'graphql';
import { createSharedSubscribe, type SharedSubscribeOptions } from '../src/graphql/shared-execution';
import { TOPICS } from '../src/recorder/event-bus';
import { createGatewayPubSub } from '../src/server/pubsub';

const schema = buildSchema(/* GraphQL */ `
  type Query {
    ok: Boolean
  }
  type Message {
    id: ID!
    text(suffix: String): String
    boom: String
  }
  type Subscription {
    message(after: String, tag: String): Message
  }
`);

// The event's own functions answer `text` and `boom` (resolvers, so that graphql-jit and graphql-js call them alike).
const messageFields = (schema.getType('Message') as GraphQLObjectType).getFields();
messageFields.text.resolve = (source: { text: (args: unknown) => string }, args) => source.text(args);
messageFields.boom.resolve = (source: { boom: () => string }) => source.boom();

const TEXT = 'subscription($after: String, $tag: String) { message(after: $after, tag: $tag) { id text } }';

/**
 * A tiny gateway: every subscriber listens to one topic of the gateway's own
 * in-memory pub/sub, every event is one object dispatched to all,
 * and the resolvers of `Message` count their calls.
 */
function setup(options?: SharedSubscribeOptions) {
  const { pubSub, listen } = createGatewayPubSub(undefined);
  const calls = { text: 0, boom: 0, sourceReturns: 0 };
  let sequence = 0;
  const rootValue = {
    message: (args: { after?: string | null }) => {
      if (args.after === 'bad') throw new GraphQLError('Invalid after');
      const source = listen<unknown>(TOPICS.UPGRADE_PROGRESS);
      return {
        next: () => source.next(),
        return: () => {
          calls.sourceReturns++;
          return source.return!();
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
  const publish = () => {
    const id = String(++sequence);
    const payload = {
      message: {
        id,
        text: ({ suffix }: { suffix?: string | null }) => {
          calls.text++;
          return `event ${id}${suffix ?? ''}`;
        },
        boom: () => {
          calls.boom++;
          throw new Error(`boom ${id}`);
        },
      },
    };
    pubSub.publish(TOPICS.UPGRADE_PROGRESS, payload as never);
  };
  const sharedSubscribe = createSharedSubscribe(options);
  // Every subscriber parses its own copy, as graphql-ws's onSubscribe does.
  const subscribe = async (query: string, variableValues?: Record<string, unknown>, operationName?: string) => {
    const args: ExecutionArgs = { schema, document: parse(query), rootValue, variableValues, operationName, contextValue: {} };
    const result = await sharedSubscribe(args);
    if (!(Symbol.asyncIterator in result)) throw new Error(`not a stream: ${JSON.stringify(result)}`);
    return result;
  };
  return { calls, publish, subscribe, sharedSubscribe, rootValue };
}

const nextOfEach = (streams: AsyncIterator<ExecutionResult>[]) =>
  Promise.all(streams.map(async (stream) => (await stream.next()).value as ExecutionResult));

test('one execution per event for N subscribers of the same document, whatever their `after`', async () => {
  const { calls, publish, subscribe } = setup();
  const streams = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0
        ? subscribe(TEXT, { tag: 't', after: String(i) })
        : i % 3 === 1
          ? subscribe(TEXT, { after: null, tag: 't' }) // another key order, a null after
          : subscribe(TEXT, { tag: 't' }), // no after at all
    ),
  );

  for (const round of [1, 2, 3]) {
    publish();
    const results = await nextOfEach(streams);
    expect(calls.text).toBe(round);
    expect(results[0]).toEqual({ data: { message: { id: String(round), text: `event ${round}` } } });
    // The very same result object for everyone.
    for (const result of results) expect(result).toBe(results[0]);
  }
});

test('a literal `after` does not split the key either', async () => {
  const { calls, publish, subscribe } = setup();
  const streams = await Promise.all(
    Array.from({ length: 10 }, (_, i) => subscribe(`subscription($tag: String) { message(tag: $tag, after: "${i}") { id text } }`, { tag: 't' })),
  );
  publish();
  const results = await nextOfEach(streams);
  expect(calls.text).toBe(1);
  for (const result of results) expect(result).toEqual({ data: { message: { id: '1', text: 'event 1' } } });
});

test('different documents, variables or operation names do not share', async () => {
  const { calls, publish, subscribe } = setup();
  const streams = await Promise.all([
    subscribe(TEXT, { tag: 'a' }),
    subscribe(TEXT, { tag: 'a', after: '7' }), // shares with the first
    subscribe(TEXT, { tag: 'b' }),
    subscribe('subscription { message { text id } }'),
    subscribe('subscription { message { id text(suffix: "!") } }'),
    subscribe('subscription($s: String) { message { id text(suffix: $s) } }', { s: '?' }),
    subscribe('subscription($s: String) { message { id text(suffix: $s) } }', { s: '.' }),
    subscribe('subscription A { message { id text } } subscription B { message { id text } }', {}, 'A'),
    subscribe('subscription A { message { id text } } subscription B { message { id text } }', {}, 'B'),
    // A variable used as `after` and elsewhere stays in the key.
    subscribe('subscription($x: String) { message(after: $x) { id text(suffix: $x) } }', { x: '1' }),
    subscribe('subscription($x: String) { message(after: $x) { id text(suffix: $x) } }', { x: '2' }),
  ]);

  publish();
  const results = await nextOfEach(streams);
  expect(calls.text).toBe(streams.length - 1);
  expect(results[1]).toBe(results[0]);
  expect(results.map((r) => (r.data as { message: { text: string } }).message.text)).toEqual([
    'event 1',
    'event 1',
    'event 1',
    'event 1',
    'event 1!',
    'event 1?',
    'event 1.',
    'event 1',
    'event 1',
    'event 11',
    'event 12',
  ]);
});

test('a resolver error reaches every subscriber sharing the execution as a GraphQL error, and the streams go on', async () => {
  const { calls, publish, subscribe } = setup();
  const streams = await Promise.all(Array.from({ length: 20 }, () => subscribe('subscription { message { id boom } }')));

  publish();
  const results = await nextOfEach(streams);
  expect(calls.boom).toBe(1);
  for (const result of results) {
    expect(result.data).toEqual({ message: { id: '1', boom: null } });
    expect(result.errors?.map((e) => [e.message, e.path])).toEqual([['boom 1', ['message', 'boom']]]);
  }

  publish();
  const again = await nextOfEach(streams);
  expect(calls.boom).toBe(2);
  for (const result of again) expect(result.errors?.[0]?.message).toBe('boom 2');
});

test('an execution that fails outside any resolver gives every subscriber an errors-only result', async () => {
  let contexts = 0;
  const { publish, subscribe } = setup({
    executionContext: () => {
      if (++contexts === 1) throw new Error('no context today');
      return {};
    },
  });
  const streams = await Promise.all(Array.from({ length: 5 }, () => subscribe(TEXT)));

  publish();
  const results = await nextOfEach(streams);
  expect(contexts).toBe(1);
  for (const result of results) expect(result).toEqual({ errors: [expect.objectContaining({ message: 'no context today' })] });

  publish();
  expect(await nextOfEach(streams)).toEqual(Array(5).fill({ data: { message: { id: '2', text: 'event 2' } } }));
  expect(contexts).toBe(2);
});

test('a source stream error comes back as a result, as graphql-js subscribe does', async () => {
  const { sharedSubscribe, rootValue } = setup();
  const result = await sharedSubscribe({ schema, document: parse(TEXT), rootValue, variableValues: { after: 'bad' } });
  expect(result).toEqual({ errors: [expect.objectContaining({ message: 'Invalid after', path: ['message'] })] });
});

test('return() ends the source at once, even while waiting for an event', async () => {
  const { calls, publish, subscribe } = setup();
  const [stopping, staying] = await Promise.all([subscribe(TEXT), subscribe(TEXT)]);

  const pending = stopping.next();
  await expect(stopping.return!()).resolves.toEqual({ value: undefined, done: true });
  expect(calls.sourceReturns).toBe(1);
  await expect(pending).resolves.toEqual({ value: undefined, done: true });

  publish();
  expect((await staying.next()).value).toEqual({ data: { message: { id: '1', text: 'event 1' } } });
  await expect(stopping.next()).resolves.toEqual({ value: undefined, done: true });
});

test('a subscriber that reaches an event later still gets the shared result', async () => {
  const { calls, publish, subscribe } = setup();
  const [early, late] = await Promise.all([subscribe(TEXT), subscribe(TEXT)]);
  publish();
  publish();
  const earlyResults = [(await early.next()).value, (await early.next()).value];
  const lateResults = [(await late.next()).value, (await late.next()).value];
  expect(calls.text).toBe(2);
  expect(lateResults[0]).toBe(earlyResults[0]);
  expect(lateResults[1]).toBe(earlyResults[1]);
});

test('events executed by graphql-js (compileEvents off) give the very results the compiled document gives', async () => {
  const query = 'subscription($suffix: String) { message { id text(suffix: $suffix) boom } }';
  const results: ExecutionResult[] = [];
  for (const compileEvents of [true, false]) {
    const { publish, subscribe } = setup({ compileEvents });
    const stream = await subscribe(query, { suffix: '!' });
    publish();
    results.push((await stream.next()).value as ExecutionResult);
  }
  expect(results[0]).toEqual({ data: { message: { id: '1', text: 'event 1!', boom: null } }, errors: [expect.objectContaining({ message: 'boom 1', path: ['message', 'boom'] })] });
  // The same members, errors with their locations and paths included (the order of data and errors aside).
  expect(JSON.parse(JSON.stringify(results[0]))).toEqual(JSON.parse(JSON.stringify(results[1])));
});
