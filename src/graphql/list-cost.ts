import { GraphQLError, Kind, type ASTVisitor, type FieldNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';
import { MAX_PAGE_SIZE } from './pagination';

/** Items assumed per list that has no `first` argument (a task's devices, a device's history). */
const UNPAGED_LIST_ESTIMATE = 10;

/**
 * Refuses operations whose nested lists could return more than `maxCost`
 * objects: each list multiplies the cost of what it selects by its size, `first`
 * when given as a literal, the largest page when given as a variable (unknown
 * at validation time, and the WebSocket path validates before variables are
 * bound), and {@link UNPAGED_LIST_ESTIMATE} for lists without paging.
 */
export function listCostRule(maxCost: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    // Fields of a selection set, through inline fragments and named fragment spreads.
    const costOfSelections = (selectionSet: SelectionSetNode, depth: number): number => {
      if (depth > 32) return 0;
      let cost = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) cost += costOf(selection, depth + 1);
        else if (selection.kind === Kind.INLINE_FRAGMENT) cost += costOfSelections(selection.selectionSet, depth + 1);
        else {
          const fragment = context.getFragment(selection.name.value);
          if (fragment) cost += costOfSelections(fragment.selectionSet, depth + 1);
        }
      }
      return cost;
    };
    const costOf = (field: FieldNode, depth: number): number =>
      field.selectionSet ? 1 + costOfSelections(field.selectionSet, depth) * multiplierOf(field) : 1;
    const multiplierOf = (field: FieldNode): number => {
      const first = field.arguments?.find((a) => a.name.value === 'first');
      if (first) {
        if (first.value.kind === Kind.INT) return Math.max(1, Number(first.value.value));
        return MAX_PAGE_SIZE;
      }
      if (field.name.value === 'edges') return 1;
      return ['subTasks', 'events', 'statusCounts', 'subDevices', 'firmwareVersions'].includes(field.name.value) ? UNPAGED_LIST_ESTIMATE : 1;
    };
    return {
      OperationDefinition(operation) {
        const cost = costOfSelections(operation.selectionSet, 0);
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(`Operation may return about ${cost} objects; the limit is ${maxCost}. Ask for smaller pages or fewer nested lists.`, {
              nodes: [operation],
            }),
          );
        }
      },
    };
  };
}
