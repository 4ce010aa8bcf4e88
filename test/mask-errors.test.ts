import { GraphQLError } from 'graphql';
import { codedError, ErrorCode } from '../src/graphql/errors';
import { MASKED_MESSAGE, isInternalError, maskExecutionResult } from '../src/graphql/mask-errors';

const crash = new GraphQLError('SQLITE_ERROR: no such table: progress_event', { path: ['upgradeProgress', 'subTask', 'events'], originalError: new Error('SQLITE_ERROR') });
const mine = codedError(ErrorCode.BAD_USER_INPUT, 'Invalid after');
const validation = new GraphQLError('Cannot query field "nope" on type "Query".');

test('internal errors are told apart from the API\'s own and from graphql-js\'s', () => {
  expect([crash, mine, validation].map(isInternalError)).toEqual([true, false, false]);
  expect(isInternalError(codedError(ErrorCode.INTERNAL_SERVER_ERROR, 'x'))).toBe(true);
});

test('a result with an internal error goes out masked, keeping data, path and the other errors; nothing to mask: untouched', () => {
  const logged: GraphQLError[] = [];
  const result = { data: { upgradeProgress: null }, errors: [crash, mine] };
  expect(maskExecutionResult(result, (e) => logged.push(e))).toEqual({
    data: { upgradeProgress: null },
    errors: [
      { message: MASKED_MESSAGE, path: ['upgradeProgress', 'subTask', 'events'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      mine.toJSON(),
    ],
  });
  expect(logged).toEqual([crash]);
  expect(result.errors[0]).toBe(crash); // the shared result itself is not changed
  expect(maskExecutionResult({ data: { ok: 1 }, errors: [mine] }, () => {})).toBeUndefined();
  expect(maskExecutionResult({ data: { ok: 1 } }, () => {})).toBeUndefined();
});
