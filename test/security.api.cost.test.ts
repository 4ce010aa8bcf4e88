/**
 * The list cost rule prices what a query can really return: by the page
 * size a list is asked for (its `first`/`last`, their schema default when
 * absent, the largest page when a variable is not known), `edges` and
 * `nodes` of a connection once, `ids` by their number. Checked on the
 * gateway's schema and on a connection-shaped one (where every list is a
 * Relay connection, as the API's lists are becoming), so that the rule
 * stays right when fields turn into connections.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, getIntrospectionQuery, parse, validate, type GraphQLSchema } from 'graphql';
import { documentCost, listCostRule, UNPAGED_LIST_ESTIMATE } from '../src/graphql/list-cost';
import { MAX_PAGE_SIZE } from '../src/graphql/pagination';

const CONNECTIONS = buildSchema(`
  interface Node { id: ID! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type ProgressEvent implements Node { id: ID! status: String }
  type ProgressEventEdge { cursor: String! node: ProgressEvent! }
  type ProgressEventConnection { edges: [ProgressEventEdge!]! nodes: [ProgressEvent!]! pageInfo: PageInfo! totalCount: Int! }
  type UpgradeSubTask implements Node { id: ID! events(first: Int = 50, after: String, last: Int, before: String): ProgressEventConnection! }
  type UpgradeSubTaskEdge { cursor: String! node: UpgradeSubTask! }
  type UpgradeSubTaskConnection { edges: [UpgradeSubTaskEdge!]! nodes: [UpgradeSubTask!]! pageInfo: PageInfo! totalCount: Int! }
  type StatusCount { status: String count: Int }
  type UpgradeTask implements Node { id: ID! statusCounts: [StatusCount!]! subTasks(first: Int = 20, after: String): UpgradeSubTaskConnection! }
  type UpgradeTaskEdge { cursor: String! node: UpgradeTask! }
  type UpgradeTaskConnection { edges: [UpgradeTaskEdge!]! nodes: [UpgradeTask!]! pageInfo: PageInfo! totalCount: Int! }
  type Query {
    upgradeTasks(first: Int = 20, after: String, last: Int, before: String): UpgradeTaskConnection!
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
  }
`);
const GATEWAY = buildSchema(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

const cost = (schema: GraphQLSchema, query: string, variables?: Record<string, unknown>) => documentCost(parse(query), schema, variables).get('')!;

describe('on connections', () => {
  // A task page with one scalar per task: the page (1) + size × (edges 1 + node 1 + id 1).
  const page = (size: number) => 1 + size * 3;

  it.each([
    ['the schema default of first', '{ upgradeTasks { edges { node { id } } } }', undefined, page(20)],
    ['first as a literal', '{ upgradeTasks(first: 5) { edges { node { id } } } }', undefined, page(5)],
    ['first above the largest page counts as the largest page', '{ upgradeTasks(first: 100000) { edges { node { id } } } }', undefined, page(MAX_PAGE_SIZE)],
    ['first as a variable, known', 'query($n: Int) { upgradeTasks(first: $n) { edges { node { id } } } }', { n: 7 }, page(7)],
    ['first as a variable, unknown (validation)', 'query($n: Int) { upgradeTasks(first: $n) { edges { node { id } } } }', undefined, page(MAX_PAGE_SIZE)],
    ['last (backward paging)', '{ upgradeTasks(last: 10) { edges { node { id } } } }', undefined, page(10)],
    ['first and last together: the larger', '{ upgradeTasks(first: 3, last: 9) { edges { node { id } } } }', undefined, page(9)],
  ])('%s', (_name, query, variables, expected) => {
    expect(cost(CONNECTIONS, query, variables)).toBe(expected);
  });

  it('nodes costs what edges { node } costs, less the edge object', () => {
    expect(cost(CONNECTIONS, '{ upgradeTasks(first: 10) { nodes { id } } }')).toBe(1 + 10 * 2);
  });

  it('nested connections multiply, each by its own page size or default', () => {
    // tasks 20 × subTasks default 20 × events default 50
    const query = '{ upgradeTasks { nodes { subTasks { nodes { events { nodes { id status } } } } } } }';
    const events = 1 + 50 * (1 + 2);
    const subTasks = 1 + 20 * (1 + events);
    expect(cost(CONNECTIONS, query)).toBe(1 + 20 * (1 + subTasks));
  });

  it('nodes(ids:) costs by the number of ids; fragments on an interface count as written in place', () => {
    const query = '{ nodes(ids: ["a", "b", "c"]) { id ... on UpgradeTask { subTasks(first: 2) { nodes { id } } } } }';
    expect(cost(CONNECTIONS, query)).toBe(1 + 3 * (1 + (1 + 2 * 2)));
    expect(cost(CONNECTIONS, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ['a', 'b'] })).toBe(1 + 2);
  });

  it('an unpaged list (statusCounts) counts as a small list', () => {
    expect(cost(CONNECTIONS, '{ upgradeTasks(first: 1) { nodes { statusCounts { status count } } } }')).toBe(1 + 1 * (1 + (1 + UNPAGED_LIST_ESTIMATE * 2)));
  });

  it('the rule refuses three nested pages of 200, allows the default pages', () => {
    const rule = listCostRule(100_000);
    const heavy = '{ upgradeTasks(first: 200) { nodes { subTasks(first: 200) { nodes { events(first: 200) { nodes { id } } } } } } }';
    expect(validate(CONNECTIONS, parse(heavy), [rule]).map((e) => e.message)).toEqual([expect.stringMatching(/the limit is 100000/)]);
    expect(validate(CONNECTIONS, parse('{ upgradeTasks { nodes { subTasks { nodes { id } } } } }'), [rule])).toEqual([]);
  });
});

describe("on the gateway's schema", () => {
  it('the dashboard page is priced by its page size', () => {
    expect(cost(GATEWAY, '{ upgradeTasks(first: 50) { totalCount edges { node { id status } } } }')).toBe(1 + 50 * (1 + (1 + (1 + 2))));
  });

  it("introspection lists are as long as the schema, not the data: GraphiQL's and Sandbox's full introspection query stays cheap", () => {
    expect(cost(GATEWAY, '{ __schema { types { name fields { name } } } }')).toBe(1 + (1 + (1 + (1 + 1))));
    const full = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true });
    expect(documentCost(parse(full), GATEWAY).get('IntrospectionQuery')).toBeLessThan(1000);
  });
});
