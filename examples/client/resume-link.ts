import { ApolloLink } from '@apollo/client';
import { getMainDefinition } from '@apollo/client/utilities';
import { Kind, OperationTypeNode, type DocumentNode } from 'graphql';
import { tap } from 'rxjs';

/**
 * Makes subscriptions survive a reconnect without losing events. graphql-ws
 * reconnects by itself and sends the subscription again with the same
 * variables, so whatever was recorded while the socket was down would be lost.
 * For every subscription that declares an `$after` variable, this link keeps
 * the `cursor` of the last message received (`data.<field>.cursor`) and makes
 * `after` read it at each (re)send: the gateway replays what was missed, then
 * goes live, with no gap and no duplicate. Once resuming, `fromStart` is
 * dropped (the cursor is further along).
 *
 * Put it before the GraphQLWsLink: `ApolloLink.from([new ResumeLink(), new GraphQLWsLink(ws)])`.
 * It works because GraphQLWsLink hands graphql-ws the operation's variables
 * object, which graphql-ws serialises anew for every send.
 */
export class ResumeLink extends ApolloLink {
  constructor() {
    super((operation, forward) => {
      if (!declaresVariable(operation.query, 'after')) return forward(operation);
      const original = operation.variables;
      let cursor: string | null = typeof original.after === 'string' ? original.after : null;
      const variables: Record<string, unknown> = { ...original };
      Object.defineProperty(variables, 'after', { enumerable: true, get: () => cursor });
      if ('fromStart' in original) {
        Object.defineProperty(variables, 'fromStart', { enumerable: true, get: () => (cursor === null ? original.fromStart : null) });
      }
      operation.variables = variables;
      return forward(operation).pipe(
        tap((result) => {
          const data = result.data as Record<string, { cursor?: unknown } | null> | null | undefined;
          for (const value of Object.values(data ?? {})) {
            if (value && typeof value.cursor === 'string') cursor = value.cursor;
          }
        }),
      );
    });
  }
}

function declaresVariable(query: DocumentNode, name: string): boolean {
  const definition = getMainDefinition(query);
  return (
    definition.kind === Kind.OPERATION_DEFINITION &&
    definition.operation === OperationTypeNode.SUBSCRIPTION &&
    (definition.variableDefinitions ?? []).some((v) => v.variable.name.value === name)
  );
}
