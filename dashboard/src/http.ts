/*
 * Queries and mutations over HTTP POST /graphql. JSON with
 * `Content-Type: application/json` is what Apollo's CSRF prevention expects.
 */
import { currentToken, tokenRefused } from './auth';

export const GRAPHQL_PATH = '/graphql';

/** One entry of a GraphQL `errors` array, as far as the page reads it. */
export interface GraphQLErrorShape {
  message: string;
  extensions?: {
    code?: string;
    /** BAD_USER_INPUT from the gateway's own validation: paths relative to the input. */
    fields?: { field: string; message: string }[];
    /** UPSTREAM_ERROR from the Huawei platform: the platform's own error code. */
    platformCode?: string | null;
  };
}

/** The gateway answered with GraphQL errors. */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: readonly GraphQLErrorShape[]) {
    super(errors.map((e) => e.message).join('; ') || 'GraphQL error');
    this.name = 'GraphQLRequestError';
  }
}

interface Body<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

/**
 * Runs one operation and returns its `data`. A 401 (or an UNAUTHENTICATED
 * error) asks for the token and tries again with it; other GraphQL errors
 * throw {@link GraphQLRequestError}.
 */
export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  for (;;) {
    const token = currentToken();
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(GRAPHQL_PATH, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    // Apollo answers validation problems with 400 and a JSON body, so the
    // body is read whatever the status.
    const body = (await response.json().catch(() => null)) as Body<T> | null;
    const unauthenticated = body?.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;
    if (response.status === 401 || unauthenticated) {
      await tokenRefused(token);
      continue;
    }
    if (body?.errors?.length) throw new GraphQLRequestError(body.errors);
    if (!response.ok || body?.data == null) throw new Error(`The gateway answered HTTP ${response.status}`);
    return body.data;
  }
}

/** A short sentence for an error, for the page. */
export function describeError(error: unknown): string {
  if (error instanceof GraphQLRequestError) return error.message;
  if (error instanceof TypeError) return 'Could not reach the gateway.'; // what fetch throws on network failure
  return error instanceof Error ? error.message : String(error);
}
