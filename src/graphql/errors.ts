import { GraphQLError } from 'graphql';

/** The `extensions.code` values the API uses; frontends branch on these. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_IMPLEMENTED = 'NOT_IMPLEMENTED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** The upstream platform (Huawei) refused or failed a call; its own code is in `extensions.platformCode`. */
  UPSTREAM_ERROR = 'UPSTREAM_ERROR',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** A field of an input that failed validation. */
export interface InvalidField {
  readonly field: string;
  readonly message: string;
}

/** A BAD_USER_INPUT error naming every bad field in `extensions.fields`. */
export function badUserInput(message: string, fields: readonly InvalidField[] = []): GraphQLError {
  const detail = fields.length > 0 ? `: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : '';
  return new GraphQLError(`${message}${detail}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, fields },
  });
}

/** An error with a code and no further detail. */
export function codedError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}
