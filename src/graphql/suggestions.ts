import { GraphQLError } from 'graphql';

/**
 * graphql-js's "Did you mean …?" hints, for fields, arguments, types and enum
 * values (`Did you mean the enum value "FAILED"?`). graphql-armor's filter
 * only knows the field form, so enum values leaked through it.
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** A message without its suggestions. */
export function withoutSuggestions(message: string): string {
  return message.includes('Did you mean') ? message.replace(SUGGESTION, '').trim() : message;
}

/**
 * The same error without suggestions in its message: with introspection off,
 * a client must not be able to read the schema out of error messages either.
 */
export function hideSuggestions(error: GraphQLError): GraphQLError {
  const message = withoutSuggestions(error.message);
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}
