import { SqliteQueryRunner } from 'typeorm/driver/sqlite/SqliteQueryRunner';
import { UpgradeStatus } from '../src/domain';
import { startTestGateway, type TestGateway } from './support/gateway';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
  // 60 Huawei tasks (2 devices each, app A or B) and 5 DJI tasks on two docks.
  for (let i = 0; i < 60; i++) {
    const operationId = `op-${String(i).padStart(3, '0')}`;
    const appId = i % 2 === 0 ? 'app-A' : 'app-B';
    await gateway.recorder.record(huaweiEnvelope({ operationId, deviceId: `dev-${i}-a`, status: UpgradeStatus.IN_PROGRESS, percent: 10, task: { externalId: operationId, appId } }));
    await gateway.recorder.record(
      huaweiEnvelope({ operationId, deviceId: `dev-${i}-b`, status: i % 3 === 0 ? UpgradeStatus.SUCCEEDED : UpgradeStatus.IN_PROGRESS, task: { externalId: operationId, appId } }),
    );
  }
  for (let i = 0; i < 5; i++) {
    await gateway.recorder.record(djiEnvelope({ bid: `bid-${i}`, gatewaySn: i < 3 ? 'DOCK-A' : 'DOCK-B', status: UpgradeStatus.IN_PROGRESS, percent: 20 * i }));
  }
});
afterAll(() => gateway.stop());

const LIST = /* GraphQL */ `
  query List($filter: UpgradeTaskFilter, $first: Int, $after: String) {
    upgradeTasks(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id externalId source appId gatewaySn status statusCounts { status count } subTasks { nodes { deviceId status } } } }
    }
  }
`;

async function allPages(filter: Record<string, unknown>, first: number) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const { body }: { body: any } = await gateway.gql<any>(LIST, { filter, first, after });
    expect(body.errors).toBeUndefined();
    const connection: any = body.data!.upgradeTasks;
    seen.push(...connection.edges.map((e: any) => e.node.externalId));
    if (!connection.pageInfo.hasNextPage) return { seen, totalCount: connection.totalCount };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

test('paging through every task: newest first, no duplicates, no gaps, stable while new tasks arrive', async () => {
  const { body } = await gateway.gql<any>(LIST, { first: 7 });
  const firstPage = body.data!.upgradeTasks;
  expect(firstPage.totalCount).toBe(65);
  expect(firstPage.edges[0].node.externalId).toBe('bid-4');

  // A task recorded mid-way appears on no later page and shifts nothing.
  const rest: string[] = [];
  let after = firstPage.pageInfo.endCursor;
  await gateway.recorder.record(huaweiEnvelope({ operationId: 'late-arrival', status: UpgradeStatus.PENDING }));
  for (;;) {
    const page = (await gateway.gql<any>(LIST, { first: 7, after })).body.data!.upgradeTasks;
    rest.push(...page.edges.map((e: any) => e.node.externalId));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const all = [...firstPage.edges.map((e: any) => e.node.externalId), ...rest];
  expect(all).toHaveLength(65);
  expect(new Set(all).size).toBe(65);
  expect(all).not.toContain('late-arrival');
  expect(all.slice(0, 5)).toEqual(['bid-4', 'bid-3', 'bid-2', 'bid-1', 'bid-0']);
  expect(all.at(-1)).toBe('op-000');
});

test.each([
  [{ source: 'DJI' }, 5],
  [{ source: 'HUAWEI', appId: 'app-A' }, 30],
  [{ gatewaySn: 'DOCK-A' }, 3],
  [{ deviceId: 'dev-7-b' }, 1],
  [{ status: 'SUCCEEDED' }, 0],
  [{ source: 'HUAWEI', kind: 'SOFTWARE' }, 0],
])('filter %j (combined with AND) over every page', async (filter, expected) => {
  const { seen, totalCount } = await allPages(filter, 4);
  expect(totalCount).toBe(expected);
  expect(new Set(seen).size).toBe(expected);
});

test('sub-task filters and pages', async () => {
  const query = `query($filter: UpgradeSubTaskFilter, $after: String) { upgradeSubTasks(filter: $filter, first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { deviceId status task { externalId } } } } }`;
  const byStatus = await gateway.gql<any>(query, { filter: { status: 'SUCCEEDED' } });
  expect(byStatus.body.data.upgradeSubTasks.totalCount).toBe(20);
  const byGateway = await gateway.gql<any>(query, { filter: { gatewaySn: 'DOCK-B' } });
  expect(byGateway.body.data.upgradeSubTasks.edges.map((e: any) => e.node.task.externalId).sort()).toEqual(['bid-3', 'bid-4']);
  const task = (await gateway.gql<any>(LIST, { filter: { deviceId: 'dev-5-a' } })).body.data.upgradeTasks.edges[0].node;
  const byTask = await gateway.gql<any>(query, { filter: { taskId: task.id, deviceId: 'dev-5-b' } });
  expect(byTask.body.data.upgradeSubTasks.edges.map((e: any) => e.node.deviceId)).toEqual(['dev-5-b']);
});

test.each([0, 201, -1])('first: %p is refused with BAD_USER_INPUT', async (first) => {
  const { body } = await gateway.gql(LIST, { first });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(body.errors?.[0].message).toMatch(/first must be between 1 and 200/);
});

test('a cursor the API did not give out is refused with BAD_USER_INPUT', async () => {
  const { body } = await gateway.gql(LIST, { after: 'not-a-cursor' });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

test('a missing task is null, not an error', async () => {
  const { body } = await gateway.gql(`{ upgradeTask(id: "nope") { id } }`);
  expect(body).toEqual({ data: { upgradeTask: null } });
});

test('statusCounts are counted by the database', async () => {
  const { body } = await gateway.gql<any>(LIST, { filter: { deviceId: 'dev-3-a' } });
  expect(body.data.upgradeTasks.edges[0].node.statusCounts).toEqual([
    { status: 'IN_PROGRESS', count: 1 },
    { status: 'SUCCEEDED', count: 1 },
  ]);
});

test('a page of 50 tasks with their sub-tasks, counts and histories costs a fixed, small number of SQL queries', async () => {
  const query = `{ upgradeTasks(first: 50) { totalCount edges { node { id statusCounts { status count } subTasks { totalCount nodes { deviceId task { id } events { totalCount nodes { id status } } } } } } } }`;
  // Only the API's reads: they have a connection of their own, apart from the writer's.
  const reader = gateway.readDataSource.createQueryRunner() as SqliteQueryRunner;
  const spy = jest.spyOn(reader, 'query');
  try {
    const { body } = await gateway.gql<any>(query);
    expect(body.errors).toBeUndefined();
    expect(body.data.upgradeTasks.edges).toHaveLength(50);
    // count + page + subTasks (window, rows, count) + statusCounts + events (window, rows, count) + tasks by id (subTask.task).
    expect(spy.mock.calls.length).toBeLessThanOrEqual(10);
  } finally {
    spy.mockRestore();
  }
});

test('shadow events page newest first', async () => {
  for (let i = 0; i < 5; i++) {
    await gateway.recorder.record({
      source: 'HUAWEI' as never, channel: 'deviceDesiredPropertiesModifyStatusChanged', dedupeKey: `shadow-${i}`, raw: '{}', receivedAt: new Date(),
      content: { kind: 'observation', observation: { type: 'shadow', source: 'HUAWEI' as never, deviceId: i < 3 ? 'sd-1' : 'sd-2', serviceId: 'Device', properties: { n: i }, status: 'DELIVERED' as never } },
    });
  }
  const query = `query($after: String) { shadowEvents(deviceId: "sd-1", first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { properties } } } }`;
  const first = (await gateway.gql<any>(query)).body.data.shadowEvents;
  const second = (await gateway.gql<any>(query, { after: first.pageInfo.endCursor })).body.data.shadowEvents;
  expect(first.totalCount).toBe(3);
  expect([...first.edges, ...second.edges].map((e: any) => e.node.properties.n)).toEqual([2, 1, 0]);
  expect(second.pageInfo.hasNextPage).toBe(false);
});
