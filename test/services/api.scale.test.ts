import { ShadowStatus, UpgradeSource, UpgradeStatus, type InboundEnvelope } from '../../src/domain';
import { HUAWEI_CALLBACK_PATH } from '../../src/ingest/huawei/webhook.plugin';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from '../support/gateway';
import { djiEnvelope, huaweiEnvelope } from '../support/observations';
import { createTestDatabase, describeWith, endMqttSessions, runId, SERVICE_URLS, type TestDatabase } from './support/services';
import { flat, rowNumberOf } from '../support/relay';

/*
 * The API of two gateway instances sharing PostgreSQL, Redis and Mosquitto,
 * in this process: what one records, the other serves, over HTTP and over
 * graphql-ws, once.
 */

const PROGRESS = /* GraphQL */ `
  subscription($taskId: ID, $gatewaySn: String, $after: String) {
    upgradeProgress(taskId: $taskId, gatewaySn: $gatewaySn, after: $after) {
      cursor
      task { id externalId gatewaySn status progress createdAt updatedAt }
      subTask { id deviceId status percent updatedAt }
      event { id status percent applied occurredAt receivedAt }
    }
  }
`;

const TASKS = /* GraphQL */ `
  query($filter: UpgradeTaskFilter, $first: Int, $after: String) {
    upgradeTasks(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id externalId status progress createdAt statusCounts { status count } subTasks { nodes { deviceId status percent events { nodes { id status applied } } } } } }
    }
  }
`;

function shadow(deviceId: string, properties: Record<string, unknown>, dedupeKey: string): InboundEnvelope {
  return {
    source: UpgradeSource.HUAWEI,
    channel: 'deviceDesiredPropertiesModifyStatusChanged',
    dedupeKey,
    raw: '{}',
    receivedAt: new Date(),
    content: {
      kind: 'observation',
      observation: { type: 'shadow', source: UpgradeSource.HUAWEI, deviceId, serviceId: 'Device', properties, status: ShadowStatus.DELIVERED },
    },
  };
}

describeWith(['postgres', 'redis', 'mqtt'])('two gateways on PostgreSQL, Redis and Mosquitto', () => {
  const run = runId();
  const dock = `DOCK-${run}`;
  let db: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;

  const env = (name: string) => ({
    DATABASE_URL: db.url,
    REDIS_URL: SERVICE_URLS.redis,
    MQTT_URL: SERVICE_URLS.mqtt,
    MQTT_SHARED_GROUP: `ota-test-${run}`,
    MQTT_CLIENT_ID: `ota-test-${run}-${name}`,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([startTestGateway(env('a')), startTestGateway(env('b'))]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await endMqttSessions([`ota-test-${run}-a`, `ota-test-${run}-b`]);
    await db?.drop();
  });

  test('what one instance records, the other serves: filters, cursors, statusCounts, histories', async () => {
    const t0 = Date.UTC(2026, 10, 21, 10, 0, 0);
    await a.recorder.record(huaweiEnvelope({ operationId: `op-${run}`, deviceId: 'd1', status: UpgradeStatus.IN_PROGRESS, percent: 20 }));
    await b.recorder.record(huaweiEnvelope({ operationId: `op-${run}`, deviceId: 'd2', status: UpgradeStatus.FAILED }));
    await a.recorder.record(huaweiEnvelope({ operationId: `op-${run}`, deviceId: 'd1', status: UpgradeStatus.SUCCEEDED }));
    await b.recorder.record(huaweiEnvelope({ operationId: `op-${run}`, deviceId: 'd1', status: UpgradeStatus.IN_PROGRESS, percent: 50 }));
    for (let i = 0; i < 5; i++) {
      const instance = i % 2 === 0 ? a : b;
      await instance.recorder.record(
        djiEnvelope({ bid: `page-${run}-${i}`, gatewaySn: dock, status: UpgradeStatus.IN_PROGRESS, percent: i, occurredAt: new Date(t0 + i) }),
      );
    }

    const { body } = await b.gql<any>(TASKS, { filter: { source: 'HUAWEI', appId: 'app-1' }, first: 50 });
    expect(body.errors).toBeUndefined();
    const op = flat(body.data.upgradeTasks.edges.map((e: any) => e.node)).find((n: any) => n.externalId === `op-${run}`);
    // d1 SUCCEEDED counts 100, d2 FAILED without a percent counts 0.
    expect(op).toMatchObject({ status: 'FAILED', progress: 50 });
    expect(op.statusCounts.sort((x: any, y: any) => x.status.localeCompare(y.status))).toEqual([
      { status: 'FAILED', count: 1 },
      { status: 'SUCCEEDED', count: 1 },
    ]);
    const d1 = op.subTasks.find((s: any) => s.deviceId === 'd1');
    expect(d1.events.map((e: any) => [e.status, e.applied])).toEqual([
      ['IN_PROGRESS', true],
      ['SUCCEEDED', true],
      ['SUCCEEDED', false],
    ]);
    expect(new Date(op.createdAt).toISOString()).toBe(op.createdAt);

    // Cursor pages served alternately by both instances: each task once, newest first.
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      const server: TestGateway = page % 2 === 0 ? a : b;
      const result: any = (await server.gql<any>(TASKS, { filter: { gatewaySn: dock }, first: 2, after })).body;
      expect(result.errors).toBeUndefined();
      expect(result.data.upgradeTasks.totalCount).toBe(5);
      seen.push(...result.data.upgradeTasks.edges.map((e: any) => e.node.externalId));
      if (!result.data.upgradeTasks.pageInfo.hasNextPage) break;
      after = result.data.upgradeTasks.pageInfo.endCursor;
    }
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `page-${run}-${i}`));
  });

  test('the same Huawei push sent to both instances at once is recorded once; every copy is answered 200', async () => {
    const body = JSON.stringify({
      notifyType: 'fwUpgradeStateChangeNotify',
      deviceId: `hw-${run}`,
      appId: 'app-1',
      operationId: `push-${run}`,
      subOperationId: `push-${run}-sub`,
      step: '3',
      stepDesc: 'updating',
    });
    const post = (gateway: TestGateway) =>
      fetch(`${gateway.url}${HUAWEI_CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 ? a : b)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    const rows = await db.query<{ outcome: string }>(`SELECT outcome FROM inbound_message WHERE payload = $1`, [body]);
    expect(rows.map((r) => r.outcome).sort()).toEqual(['RECORDED', ...Array(9).fill('DUPLICATE')].sort());
    const events = await db.query(
      `SELECT e.id FROM progress_event e JOIN upgrade_task t ON t.id = e.task_id WHERE t.external_id = $1`,
      [`push-${run}`],
    );
    expect(events).toHaveLength(1);
  });

  test('shadow events with properties, through either instance', async () => {
    const properties = { 'Firmware Version': 'v2', nested: { 'a b': [1, 2] } };
    const sub = collect<any>(a.ws(), `subscription($d: String) { shadowStatusChanged(deviceId: $d) { id deviceId properties status receivedAt } }`, {
      d: `sd-${run}`,
    });
    await subscriptionsRunning(a, 1);
    await b.recorder.record(shadow(`sd-${run}`, properties, `shadow-${run}-1`));
    const [live] = await sub.until(1);
    expect(live.shadowStatusChanged).toMatchObject({ deviceId: `sd-${run}`, properties, status: 'DELIVERED' });
    expect(new Date(live.shadowStatusChanged.receivedAt).toISOString()).toBe(live.shadowStatusChanged.receivedAt);
    const { body } = await a.gql<any>(`query($d: String) { shadowEvents(deviceId: $d) { totalCount edges { node { id properties } } } }`, {
      d: `sd-${run}`,
    });
    expect(body.data.shadowEvents.totalCount).toBe(1);
    expect(body.data.shadowEvents.edges[0].node).toEqual({ id: live.shadowStatusChanged.id, properties });
    sub.unsubscribe();
  });

  test('a subscriber on either instance gets every event either records, once, with its dates', async () => {
    const bid = `live-${run}`;
    const onA = collect<any>(a.ws(), PROGRESS, { gatewaySn: dock });
    const onB = collect<any>(b.ws(), PROGRESS, { gatewaySn: dock });
    await Promise.all([subscriptionsRunning(a, 1), subscriptionsRunning(b, 1)]);

    const written: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const instance = i % 2 === 0 ? b : a;
      const result = await instance.recorder.record(
        djiEnvelope({ bid, gatewaySn: dock, status: UpgradeStatus.IN_PROGRESS, percent: i * 10, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }),
      );
      written.push(result.progress[0].event.id);
    }
    await Promise.all([onA.until(6), onB.until(6)]);
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes
    for (const sub of [onA, onB]) {
      expect(sub.errors).toEqual([]);
      expect(sub.received.map((m) => rowNumberOf(m.upgradeProgress.event.id))).toEqual(written);
      expect(sub.received.map((m) => m.upgradeProgress.event.percent)).toEqual([10, 20, 30, 40, 50, 60]);
      const first = sub.received[0].upgradeProgress;
      // Dates crossed Redis as JSON strings and still serialise as DateTime.
      expect(first.event.occurredAt).toBe('2026-01-01T00:00:01.000Z');
      expect(new Date(first.event.receivedAt).toISOString()).toBe(first.event.receivedAt);
      expect(new Date(first.task.createdAt).toISOString()).toBe(first.task.createdAt);
    }
    // The same data as the HTTP API serves.
    const taskId = onA.received[5].upgradeProgress.task.id;
    const { body } = await b.gql<any>(`query($id: ID!) { upgradeTask(id: $id) { updatedAt subTasks { nodes { events { nodes { id occurredAt receivedAt } } } } } }`, { id: taskId });
    const events = flat(body.data.upgradeTask).subTasks[0].events;
    expect(events.map((e: any) => [e.id, e.occurredAt, e.receivedAt])).toEqual(
      onB.received.map((m) => [m.upgradeProgress.event.id, m.upgradeProgress.event.occurredAt, m.upgradeProgress.event.receivedAt]),
    );
    expect(body.data.upgradeTask.updatedAt).toBe(onB.received[5].upgradeProgress.task.updatedAt);
    onA.unsubscribe();
    onB.unsubscribe();
  });

  test('a subscription resumed on the other instance gets exactly what it missed, then live events', async () => {
    const rdock = `DOCK-R-${run}`;
    const record = (gateway: TestGateway, percent: number) =>
      gateway.recorder.record(
        djiEnvelope({ bid: `resume-${run}`, gatewaySn: rdock, status: UpgradeStatus.IN_PROGRESS, percent, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 1, percent)) }),
      );
    const first = collect<any>(a.ws(), PROGRESS, { gatewaySn: rdock });
    await subscriptionsRunning(a, 1);
    for (const p of [1, 2, 3]) await record(p % 2 ? a : b, p);
    const seen = await first.until(3);
    const lastSeen = seen[2].upgradeProgress.cursor;
    first.unsubscribe();

    for (const p of [4, 5, 6]) await record(p % 2 ? a : b, p);
    await a.recorder.record(djiEnvelope({ bid: `other-${run}`, gatewaySn: `DOCK-X-${run}`, status: UpgradeStatus.IN_PROGRESS, percent: 99 }));

    // Resume on B while both instances keep recording: replay of 4..6, then 7..10 live.
    const resumed = collect<any>(b.ws(), PROGRESS, { gatewaySn: rdock, after: lastSeen });
    await record(a, 7);
    await record(b, 8);
    await subscriptionsRunning(b, 1);
    await record(a, 9);
    await record(b, 10);
    await resumed.until(7);
    await new Promise((r) => setTimeout(r, 300));
    expect(resumed.errors).toEqual([]);
    expect(resumed.received.map((m) => m.upgradeProgress.event.percent)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    const ids = resumed.received.map((m) => rowNumberOf(m.upgradeProgress.event.id));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    resumed.unsubscribe();
  });
});
