import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

export { GraphQLJSONObject as JSONObjectScalar, GraphQLSafeInt as SafeIntScalar } from 'graphql-scalars';

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 date-time');
  return date;
}

/**
 * ISO-8601 date-time, always serialised in UTC (`2026-11-21T10:00:00.000Z`).
 * Accepts Dates, ISO strings and epoch milliseconds on the way out, because
 * payloads that crossed a Redis pub/sub arrive as JSON.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time in UTC, e.g. 2026-11-21T10:00:00.000Z.',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string');
    return toDate(ast.value);
  },
});
