import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  valueFromASTUntyped,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination';

/** Items assumed per list that has no page size argument (a task's status counts: at most one per status). */
export const UNPAGED_LIST_ESTIMATE = 10;

/** Arguments that set a page size (forward and backward paging). */
const PAGE_SIZE_ARGUMENTS = ['first', 'last'] as const;

/** Arguments that list the objects to return (`nodes(ids: […])`). */
const ID_LIST_ARGUMENTS = ['ids'] as const;

/** What {@link operationCost} needs besides the operation. */
export interface CostInput {
  readonly schema: GraphQLSchema;
  readonly fragments: (name: string) => FragmentDefinitionNode | undefined | null;
  /** The operation's variables when known (the WebSocket path); else a variable page size counts as the largest page. */
  readonly variables?: Readonly<Record<string, unknown>> | null;
}

/**
 * How many objects an operation may return, at most: each field that returns
 * objects costs 1, and a list multiplies the cost of what it selects by the
 * number of items it can return:
 * - a field with `first`/`last` (a connection, or a paged list): that
 *   argument as given (a literal, or the variable's value when known), else
 *   its default from the schema, clamped to 1..{@link MAX_PAGE_SIZE}; a
 *   variable whose value is not known counts as the largest page;
 * - a field with `ids`: the number of ids;
 * - `edges` and `nodes` of a connection (a type with `pageInfo`): 1, since the
 *   connection field already counted its page;
 * - introspection lists (`types`, `fields`, …): 1, they are bounded by the schema;
 * - any other list: {@link UNPAGED_LIST_ESTIMATE}.
 * Fragments, named and inline, count as if written in place.
 */
export function operationCost(operation: OperationDefinitionNode, input: CostInput): number {
  const root = input.schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root, input, 0) : 0;
}

/** The cost of every operation of a document, by operation name (anonymous: ''). */
export function documentCost(document: DocumentNode, schema: GraphQLSchema, variables?: Readonly<Record<string, unknown>> | null): Map<string, number> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const costs = new Map<string, number>();
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    costs.set(d.name?.value ?? '', operationCost(d, { schema, fragments: (name) => fragments.get(name), variables }));
  }
  return costs;
}

function selectionCost(selectionSet: SelectionSetNode, parent: GraphQLCompositeType, input: CostInput, depth: number): number {
  // Deeper documents are refused by the depth limit; this only keeps a fragment cycle from looping.
  if (depth > 64) return 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      cost += fieldCost(selection, parent, input, depth + 1);
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : input.fragments(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition ? input.schema.getType(fragment.typeCondition.name.value) : parent;
      cost += selectionCost(fragment.selectionSet, condition && isCompositeType(condition) ? condition : parent, input, depth + 1);
    }
  }
  return cost;
}

function fieldCost(field: FieldNode, parent: GraphQLCompositeType, input: CostInput, depth: number): number {
  if (!field.selectionSet) return 1;
  const definition = fieldDefinition(field.name.value, parent, input.schema);
  if (!definition) return 1; // an unknown field: FieldsOnCorrectTypeRule reports it
  const type = getNamedType(definition.type);
  const inner = isCompositeType(type) ? selectionCost(field.selectionSet, type, input, depth) : 0;
  return 1 + inner * multiplier(field, definition, parent, input);
}

function fieldDefinition(name: string, parent: GraphQLCompositeType, schema: GraphQLSchema): GraphQLField<unknown, unknown> | undefined {
  if (name === '__typename') return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === '__schema') return SchemaMetaFieldDef;
    if (name === '__type') return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

function multiplier(field: FieldNode, definition: GraphQLField<unknown, unknown>, parent: GraphQLCompositeType, input: CostInput): number {
  const pageArguments = definition.args.filter((a) => (PAGE_SIZE_ARGUMENTS as readonly string[]).includes(a.name));
  if (pageArguments.length > 0) {
    let size = 0;
    let given = false;
    for (const argument of pageArguments) {
      const node = field.arguments?.find((a) => a.name.value === argument.name);
      if (!node) continue;
      const value = node.value.kind === Kind.VARIABLE ? variableValue(node.value.name.value, input) : valueFromASTUntyped(node.value);
      // A known variable left out or null is no size at all: the resolver's default applies, as below.
      if (value === null || (value === undefined && node.value.kind === Kind.VARIABLE && input.variables)) continue;
      given = true;
      size = Math.max(size, value === undefined ? MAX_PAGE_SIZE : pageSize(value));
    }
    if (!given) {
      // No size: the schema's default, else the one the resolvers take (pageRequest's DEFAULT_PAGE_SIZE).
      const defaults = pageArguments.map((a) => a.defaultValue).filter((v) => v !== undefined && v !== null);
      size = defaults.length > 0 ? Math.max(...defaults.map(pageSize)) : DEFAULT_PAGE_SIZE;
    }
    return size;
  }
  const ids = definition.args.find((a) => (ID_LIST_ARGUMENTS as readonly string[]).includes(a.name));
  if (ids) {
    const node = field.arguments?.find((a) => a.name.value === ids.name);
    const value = !node ? undefined : node.value.kind === Kind.VARIABLE ? variableValue(node.value.name.value, input) : valueFromASTUntyped(node.value);
    return Array.isArray(value) ? Math.max(1, value.length) : MAX_PAGE_SIZE;
  }
  if (!isListType(getNullableType(definition.type))) return 1;
  if (isConnection(parent)) return 1;
  // Introspection lists (types, fields, args…) are as long as the schema is, whatever the data:
  // the introspection switch and the depth limit govern them, not the list cost.
  if (getNamedType(definition.type).name.startsWith('__')) return 1;
  return UNPAGED_LIST_ESTIMATE;
}

/** A variable's value when known; undefined when not (validation without variables), counted as the largest page. */
function variableValue(name: string, input: CostInput): unknown {
  if (!input.variables || !(name in input.variables)) return undefined;
  const value = input.variables[name];
  return value === null ? undefined : value;
}

/** A page size as the resolvers would take it: 1..MAX_PAGE_SIZE (a bad one fails there; it must not lower the price here). */
function pageSize(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return MAX_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.ceil(n)));
}

/** A Relay connection: an object type with `pageInfo` (its `edges` and `nodes` hold the one page). */
function isConnection(type: GraphQLCompositeType): boolean {
  return (isObjectType(type) || isInterfaceType(type)) && 'pageInfo' in type.getFields();
}

/**
 * Refuses operations whose nested lists could return more than `maxCost`
 * objects (see {@link operationCost}). Give it the operation's `variables`
 * where they are known (a request being run): then a page size passed as a
 * variable counts as given, as it does for the resolvers; without them it
 * counts as the largest page.
 */
export function listCostRule(maxCost: number, variables?: Readonly<Record<string, unknown>> | null): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const cost = operationCost(operation, { schema: context.getSchema(), fragments: (name) => context.getFragment(name), variables });
      if (cost > maxCost) {
        context.reportError(
          new GraphQLError(`Operation may return about ${cost} objects; the limit is ${maxCost}. Ask for smaller pages or fewer nested lists.`, {
            nodes: [operation],
          }),
        );
      }
    },
  });
}
