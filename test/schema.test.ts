import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClientSchema, buildSchema, getIntrospectionQuery, type GraphQLObjectType, lexicographicSortSchema, printSchema } from 'graphql';
import { printGatewaySchema } from '../src/graphql/print-schema';
import { SUBSCRIPTION_FILTER_ARGUMENTS } from '../src/graphql/schema';
import { startTestGateway } from './support/gateway';

const checkedIn = () => readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8');

test('schema.graphql is what the code generates (run `npm run schema:print` after changing the API)', async () => {
  expect(checkedIn()).toBe(await printGatewaySchema());
});

test('the running server serves exactly the checked-in schema', async () => {
  const gateway = await startTestGateway();
  try {
    const { body } = await gateway.gql(getIntrospectionQuery({ specifiedByUrl: true }));
    const served = printSchema(lexicographicSortSchema(buildClientSchema(body.data as never)));
    const fromFile = checkedIn().split('\n').filter((line) => !line.startsWith('# ')).join('\n');
    // Introspection loses nothing that matters here except the header comment.
    expect(served.trim()).toBe(fromFile.trim());
  } finally {
    await gateway.stop();
  }
});

test('every argument of a subscription field is one its subscribers may differ in and still share an execution', () => {
  // Such an argument may only choose which events arrive or where the stream starts (see SUBSCRIPTION_FILTER_ARGUMENTS):
  // one that changes what an event executes to must not be added to that list, and then fails here until thought through.
  const subscription = buildSchema(checkedIn()).getSubscriptionType()!;
  const args = Object.values(subscription.getFields()).flatMap((field) => field.args.map((arg) => ({ field: field.name, arg: arg.name })));
  expect(args.length).toBeGreaterThan(0);
  const allowed: readonly string[] = SUBSCRIPTION_FILTER_ARGUMENTS;
  expect(args.filter(({ arg }) => !allowed.includes(arg)).map(({ field, arg }) => `${field}(${arg})`)).toEqual([]);
});

test('the frontends contract: names and shapes they code against', () => {
  const schema = buildSchema(checkedIn());
  const signature = (typeName: string, fieldName: string) => {
    const field = (schema.getType(typeName) as GraphQLObjectType).getFields()[fieldName];
    const args = [...field.args]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((a) => `${a.name}: ${String(a.type)}${a.defaultValue !== undefined ? ` = ${a.defaultValue}` : ''}`);
    return `${fieldName}(${args.join(', ')}): ${String(field.type)}`;
  };
  expect(signature('Query', 'upgradeTasks')).toBe('upgradeTasks(after: String, before: String, filter: UpgradeTaskFilter, first: Int, last: Int): UpgradeTaskConnection!');
  expect(signature('Query', 'upgradeTask')).toBe('upgradeTask(id: ID!): UpgradeTask');
  expect(signature('Query', 'upgradeSubTasks')).toBe('upgradeSubTasks(after: String, before: String, filter: UpgradeSubTaskFilter, first: Int, last: Int): UpgradeSubTaskConnection!');
  expect(signature('Query', 'shadowEvents')).toBe('shadowEvents(after: String, before: String, deviceId: String, first: Int, last: Int): ShadowEventConnection!');
  expect(signature('Query', 'node')).toBe('node(id: ID!): Node');
  expect(signature('Query', 'nodes')).toBe('nodes(ids: [ID!]!): [Node]!');
  expect(signature('UpgradeTask', 'subTasks')).toBe('subTasks(after: String, before: String, first: Int, last: Int): UpgradeSubTaskConnection!');
  expect(signature('UpgradeSubTask', 'events')).toBe('events(after: String, before: String, first: Int, last: Int): ProgressEventConnection!');
  expect(signature('Mutation', 'createFirmwareUpgrade')).toBe('createFirmwareUpgrade(input: CreateFirmwareUpgradeInput!): UpgradeTask!');
  expect(signature('Subscription', 'upgradeProgress')).toBe('upgradeProgress(after: String, deviceId: String, fromStart: Boolean, gatewaySn: String, taskId: ID): UpgradeProgress!');
  expect(signature('Subscription', 'shadowStatusChanged')).toBe('shadowStatusChanged(deviceId: String): ShadowEvent!');
  expect(Object.keys((schema.getType('UpgradeStatus') as any).getValues().reduce((acc: any, v: any) => ({ ...acc, [v.name]: 1 }), {})).sort()).toEqual(
    ['CANCELED', 'FAILED', 'IN_PROGRESS', 'PAUSED', 'PENDING', 'REJECTED', 'SENT', 'SUCCEEDED', 'TIMED_OUT'],
  );
  const task = (schema.getType('UpgradeTask') as GraphQLObjectType).getFields();
  expect(Object.fromEntries(Object.entries(task).map(([k, f]) => [k, String(f.type)]))).toMatchObject({
    id: 'ID!', source: 'UpgradeSource!', kind: 'UpgradeKind!', externalId: 'String!', appId: 'String', gatewaySn: 'String',
    status: 'UpgradeStatus!', progress: 'Int', statusCounts: '[StatusCount!]!', createdAt: 'DateTime!', updatedAt: 'DateTime!',
    subTasks: 'UpgradeSubTaskConnection!',
  });
  const sub = (schema.getType('UpgradeSubTask') as GraphQLObjectType).getFields();
  expect(String(sub.fileSize.type)).toBe('SafeInt');
  expect(String(sub.events.type)).toBe('ProgressEventConnection!');
  expect(String((schema.getType('ShadowEvent') as GraphQLObjectType).getFields().properties.type)).toBe('JSONObject!');
});
