import { Arg, Ctx, Field, FieldResolver, ID, Info, InterfaceType, Query, Resolver, Root } from 'type-graphql';
import { isInterfaceType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context';
import { badUserInput } from './errors';

/*
 * Relay Global Object Identification. Every object type with an identity
 * implements `Node`; its `id` is opaque and unique across types: base64url of
 * `Type:localId` (tasks and sub-tasks keep their UUIDs inside, events their row
 * numbers). `node(id:)` and `nodes(ids:)` fetch any of them back.
 *
 * A new type joins with two lines:
 *   @ObjectType('Rollout', { implements: NodeInterface })   // its `id` becomes global
 *   registerNodeType('Rollout', (ctx, ids) => ctx.rollouts.rollouts.byIds(ids));
 * and its resolvers read incoming ids with `localIdOf('Rollout', id)`. A type
 * whose row id is not what names it (a device is named by source and serial
 * number) passes `localIdOfRow` too.
 */

/** Most ids one `nodes` call takes. */
export const MAX_NODES = 100;

/** The global id of a row of `type`. */
export function toGlobalId(type: string, localId: string | number): string {
  return Buffer.from(`${type}:${localId}`, 'utf8').toString('base64url');
}

/** The type and local id inside a global id; null when it is not one. */
export function fromGlobalId(id: string): { type: string; localId: string } | null {
  if (!/^[A-Za-z0-9_-]{4,400}$/.test(id)) return null;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const match = /^([A-Z][A-Za-z0-9]{0,63}):(.+)$/s.exec(text);
  return match ? { type: match[1], localId: match[2] } : null;
}

/**
 * The local id of `type` inside `id`, for arguments that name an object:
 * a global id of that type gives its local id, a global id of another type
 * gives null (nothing of this type has it), and anything else is taken as a
 * local id as is, so the raw ids older clients stored keep working.
 */
export function localIdOf(type: string, id: string): string | null {
  const global = fromGlobalId(id);
  if (!global) return id;
  return global.type === type ? global.localId : null;
}

/** Loads objects of one type by local ids, in order, null where there is none. */
export type NodeLoader = (ctx: GraphQLContext, localIds: readonly string[]) => Promise<readonly (object | null | undefined)[]>;

/** Rows put in the order of the local ids asked for, null where there is none. */
export function inIdOrder<T extends { id: string | number }>(localIds: readonly string[], rows: readonly T[]): (T | null)[] {
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  return localIds.map((id) => byId.get(id) ?? null);
}

/** The local id of a row of one type, where it is not the row's `id`. */
export type LocalIdOfRow = (row: any) => string | number;

const nodeLoaders = new Map<string, NodeLoader>();
const localIdsOfRows = new Map<string, LocalIdOfRow>();

/** Makes a `Node` type fetchable by `node(id:)`/`nodes(ids:)`. */
export function registerNodeType(type: string, load: NodeLoader, localIdOfRow?: LocalIdOfRow): void {
  nodeLoaders.set(type, load);
  if (localIdOfRow) localIdsOfRows.set(type, localIdOfRow);
}

/** Rows fetched by `node`/`nodes`, tagged with their GraphQL type (rows are the store's entities). */
const typeOfNode = new WeakMap<object, string>();

/** Loads objects in bulk by id list order: one loader call per type. */
async function loadNodes(ctx: GraphQLContext, ids: readonly string[]): Promise<(object | null)[]> {
  const byType = new Map<string, { index: number; localId: string }[]>();
  ids.forEach((id, index) => {
    const global = fromGlobalId(id);
    if (!global || !nodeLoaders.has(global.type)) return;
    const list = byType.get(global.type) ?? [];
    list.push({ index, localId: global.localId });
    byType.set(global.type, list);
  });
  const result: (object | null)[] = ids.map(() => null);
  await Promise.all(
    [...byType].map(async ([type, wanted]) => {
      const rows = await nodeLoaders.get(type)!(ctx, wanted.map((w) => w.localId));
      wanted.forEach((w, i) => {
        const row = rows[i];
        if (row) {
          typeOfNode.set(row, type);
          result[w.index] = row;
        }
      });
    }),
  );
  return result;
}

/** The global id of a row of the object type being resolved: the `id` field of every Node type. */
function globalIdOfRow(row: { id: string | number }, _args: unknown, _context: unknown, info: GraphQLResolveInfo): string {
  const type = info.parentType.name;
  return toGlobalId(type, localIdsOfRows.get(type)?.(row) ?? row.id);
}

/**
 * Resolves the `id` of every Node type with {@link globalIdOfRow} itself
 * rather than through type-graphql's field-resolver wrapper, which for each
 * call builds a resolver-data object, asks the container for the resolver
 * instance and sorts and maps the parameter list. `id` is resolved for every
 * Node of every result: three times per live progress message, for each
 * distinct subscription document. The field, its type and its value are the
 * same; only the wrapper is gone.
 */
export function resolveNodeIdsDirectly(schema: GraphQLSchema): void {
  const node = schema.getType('Node');
  if (!isInterfaceType(node)) return;
  for (const type of schema.getImplementations(node).objects) {
    const field = type.getFields().id;
    if (field) field.resolve = globalIdOfRow;
  }
}

@InterfaceType('Node', {
  description: 'An object with a globally unique, opaque id; `node(id:)` fetches it back (Relay Global Object Identification).',
  resolveType: (value: object) => typeOfNode.get(value),
})
export abstract class NodeInterface {
  /** The row's local id in TypeScript; the field resolver below makes it global. */
  @Field(() => ID, { description: 'Globally unique and opaque. Use it as is; do not parse it.' })
  id: string | number;
}

/** The `id` of every Node type, and the `node`/`nodes` entry points. */
@Resolver(() => NodeInterface)
export class NodeResolver {
  @FieldResolver(() => ID)
  id(@Root() row: { id: string | number }, @Info() info: GraphQLResolveInfo): string {
    return globalIdOfRow(row, undefined, undefined, info);
  }

  @Query(() => NodeInterface, { nullable: true, description: 'Any object by its global id; null when there is none.' })
  async node(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<object | null> {
    const [row] = await loadNodes(ctx, [id]);
    return row;
  }

  @Query(() => [NodeInterface], { nullable: 'items', description: `Objects by global ids, in order, null where there is none; at most ${MAX_NODES}.` })
  nodes(@Ctx() ctx: GraphQLContext, @Arg('ids', () => [ID]) ids: string[]): Promise<(object | null)[]> {
    if (ids.length > MAX_NODES) throw badUserInput('Too many ids', [{ field: 'ids', message: `at most ${MAX_NODES}` }]);
    return loadNodes(ctx, ids);
  }
}
