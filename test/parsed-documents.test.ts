/**
 * WebSocket operations are parsed once per distinct text (a dashboard's
 * sockets all send the same subscription), within bounds whatever clients send.
 */
import { GraphQLError, print } from 'graphql';
import { ParsedDocuments } from '../src/graphql/parsed-documents';

const SUBSCRIPTION = 'subscription Watch($taskId: ID) { upgradeProgress(taskId: $taskId) { cursor } }';

test('the same text gives the same document, parsed once', () => {
  const documents = new ParsedDocuments({ max: 10, maxTotalLength: 10_000, maxLength: 1_000 });
  const first = documents.parse(SUBSCRIPTION);
  expect(documents.parse(SUBSCRIPTION)).toBe(first);
  expect(print(first)).toContain('upgradeProgress(taskId: $taskId)');
});

test('a syntax error is thrown every time it is sent', () => {
  const documents = new ParsedDocuments({ max: 10, maxTotalLength: 10_000, maxLength: 1_000 });
  expect(() => documents.parse('subscription {')).toThrow(GraphQLError);
  expect(() => documents.parse('subscription {')).toThrow(GraphQLError);
});

test('parse options apply to cached and uncached texts alike', () => {
  const documents = new ParsedDocuments({ max: 10, maxTotalLength: 10_000, maxLength: 20, parseOptions: { maxTokens: 5 } });
  expect(() => documents.parse(SUBSCRIPTION)).toThrow(/tokens/); // longer than maxLength: parsed, not kept
  expect(() => documents.parse('{ a { b { c } } }')).toThrow(/tokens/);
});

test('texts longer than maxLength are parsed every time, never kept', () => {
  const documents = new ParsedDocuments({ max: 10, maxTotalLength: 10_000, maxLength: 20 });
  expect(documents.parse(SUBSCRIPTION)).not.toBe(documents.parse(SUBSCRIPTION));
});

test('the least recently used text goes first when the count or the total length is reached', () => {
  const texts = Array.from({ length: 4 }, (_, i) => `query Q${i} { a }`);
  const byCount = new ParsedDocuments({ max: 3, maxTotalLength: 10_000, maxLength: 1_000 });
  const kept = texts.slice(0, 3).map((t) => byCount.parse(t));
  byCount.parse(texts[0]); // used again: the oldest is now texts[1]
  byCount.parse(texts[3]);
  expect(byCount.parse(texts[0])).toBe(kept[0]);
  expect(byCount.parse(texts[1])).not.toBe(kept[1]);

  const byLength = new ParsedDocuments({ max: 100, maxTotalLength: texts[0].length * 2, maxLength: 1_000 });
  const a = byLength.parse(texts[0]);
  byLength.parse(texts[1]);
  byLength.parse(texts[2]);
  expect(byLength.parse(texts[0])).not.toBe(a);
});
