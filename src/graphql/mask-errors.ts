import { GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from './errors';

/** What a client sees instead of an internal error's text. */
export const MASKED_MESSAGE = 'Internal server error';

/**
 * True for an error the client did not cause and should not read: a resolver
 * that crashed (a database error, a bug), or one already coded
 * INTERNAL_SERVER_ERROR. Errors the API raises on purpose carry their own
 * code; parse and validation errors come from graphql-js itself.
 */
export function isInternalError(error: GraphQLError): boolean {
  const code = error.extensions?.code;
  if (code === ErrorCode.INTERNAL_SERVER_ERROR) return true;
  if (code !== undefined) return false;
  return error.originalError !== undefined && error.originalError !== null && !(error.originalError instanceof GraphQLError);
}

/**
 * An execution result as clients may see it outside development: internal
 * errors keep their path and get a generic message and code (Apollo's
 * `formatError` does the same for HTTP; this is the WebSocket side). Returns
 * undefined when there is nothing to mask, so the result goes out as it is
 * (shared results are never mutated).
 */
export function maskExecutionResult(result: ExecutionResult, onInternal: (error: GraphQLError) => void): FormattedExecutionResult | undefined {
  if (!result.errors?.some(isInternalError)) return undefined;
  const errors: GraphQLFormattedError[] = result.errors.map((error) => {
    if (!isInternalError(error)) return error.toJSON();
    onInternal(error);
    return { message: MASKED_MESSAGE, path: error.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  });
  return { ...(result.data !== undefined ? { data: result.data } : {}), errors };
}
