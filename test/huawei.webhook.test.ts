/**
 * The Huawei callback end to end: vendor pushes go over real HTTP to a running
 * gateway (real SQLite file, real Fastify server), and what was recorded is read
 * back through GraphQL and, where the API cannot show it (the ledger, "nothing
 * written"), straight from the tables.
 *
 * Reference: protocols.md §1.3 (re-push), §1.5 (schemas), §1.9 (examples), §3 (edge cases).
 */
import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { DEFAULT_WEBHOOK_BODY_LIMIT, HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';

const FIXTURES = join(__dirname, 'fixtures', 'huawei');
const TABLES = ['inbound_message', 'progress_event', 'shadow_event', 'upgrade_sub_task', 'upgrade_task'] as const;
const ONE_MIB = 1024 * 1024;
/** The callback's body limit (WEBHOOK_BODY_LIMIT unset). */
const LIMIT = DEFAULT_WEBHOOK_BODY_LIMIT;

type Body = Record<string, unknown>;

function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function fixture(name: string): Body {
  return JSON.parse(fixtureText(name)) as Body;
}

/** Identifiers unique to one test, so tests sharing a gateway never touch each other's tasks. */
function idsFor(tag: string) {
  return { deviceId: `dev-${tag}`, operationId: `op-${tag}`, subOperationId: `sub-${tag}` };
}

/** A fixture with its identifiers replaced by the test's own. */
function fixtureFor(name: string, tag: string, overrides: Body = {}): Body {
  const body = fixture(name);
  const ids = idsFor(tag);
  const own = body.notifyType === 'deviceDesiredPropertiesModifyStatusChanged' ? { deviceId: ids.deviceId } : ids;
  return { ...body, ...own, ...overrides };
}

interface PushResponse {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | null;
  readonly headers: Headers;
}

async function post(gateway: TestGateway, body: string | Body, headers: Record<string, string> = {}): Promise<PushResponse> {
  const response = await fetch(gateway.url + HUAWEI_CALLBACK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type'), headers: response.headers };
}

async function counts(gateway: TestGateway): Promise<Record<(typeof TABLES)[number], number>> {
  const result = {} as Record<(typeof TABLES)[number], number>;
  for (const table of TABLES) {
    const [row] = (await gateway.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }[];
    result[table] = Number(row.n);
  }
  return result;
}

async function ledger(gateway: TestGateway, where = '1 = 1', params: unknown[] = []) {
  return (await gateway.dataSource.query(
    `SELECT id, source, channel, dedupe_key AS dedupeKey, outcome, reason, payload FROM inbound_message WHERE ${where} ORDER BY id`,
    params,
  )) as { id: number; source: string; channel: string; dedupeKey: string | null; outcome: string; reason: string | null; payload: string }[];
}

const SUB_TASK_FIELDS = /* GraphQL */ `
  deviceId externalId status vendorStatus step currentVersion targetVersion sourceVersion statusDesc errorCode upgradeTime
  events { id status vendorStatus step errorCode statusDesc applied }
`;

/** The one Huawei task that has a sub-task for `deviceId`, with its sub-tasks, read through GraphQL. */
async function taskOf(gateway: TestGateway, deviceId: string): Promise<any> {
  const list = await gateway.gql(
    `query($d: String) { upgradeTasks(filter: { source: HUAWEI, deviceId: $d }) { totalCount edges { node { id externalId } } } }`,
    { d: deviceId },
  );
  expect(list.status).toBe(200);
  expect(list.body.errors).toBeUndefined();
  const connection = (list.body.data as any).upgradeTasks;
  expect(connection.totalCount).toBe(1);
  const one = await gateway.gql(
    `query($id: ID!) { upgradeTask(id: $id) { id source kind externalId appId status progress subTasks { ${SUB_TASK_FIELDS} } } }`,
    { id: connection.edges[0].node.id },
  );
  expect(one.body.errors).toBeUndefined();
  return (one.body.data as any).upgradeTask;
}

async function shadowEventsOf(gateway: TestGateway, deviceId: string): Promise<any[]> {
  const { body } = await gateway.gql(
    `query($d: String) { shadowEvents(deviceId: $d) { totalCount edges { node { id deviceId serviceId properties status } } } }`,
    { d: deviceId },
  );
  expect(body.errors).toBeUndefined();
  return (body.data as any).shadowEvents.edges.map((e: any) => e.node);
}

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.stop();
});

describe('each notifyType is recorded and mapped', () => {
  test('firmware: a state push then the result, as in protocols.md §1.9', async () => {
    const tag = 'fw-flow';
    const first = await post(gateway, fixtureFor('fw-state-downloading.json', tag));
    expect(first).toMatchObject({ status: 200, text: 'ok' });
    expect(first.contentType).toMatch(/^text\/plain/);
    expect((await post(gateway, fixtureFor('fw-result-success.json', tag))).status).toBe(200);

    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task).toMatchObject({ source: 'HUAWEI', kind: 'FIRMWARE', externalId: `op-${tag}`, appId: 'AppID_001', status: 'SUCCEEDED', progress: 100 });
    expect(task.subTasks).toHaveLength(1);
    expect(task.subTasks[0]).toMatchObject({
      deviceId: `dev-${tag}`,
      externalId: `sub-${tag}`,
      status: 'SUCCEEDED',
      vendorStatus: 'SUCCESS',
      currentVersion: '1.6',
      targetVersion: '1.6',
      sourceVersion: '1.3',
      statusDesc: 'SUCCESS: The device upgrade is successful.',
      errorCode: null,
      upgradeTime: '120',
    });
    expect(task.subTasks[0].events).toMatchObject([
      { status: 'IN_PROGRESS', vendorStatus: 'downloading', step: 'downloading', applied: true },
      { status: 'SUCCEEDED', vendorStatus: 'SUCCESS', statusDesc: 'SUCCESS: The device upgrade is successful.', applied: true },
    ]);

    const rows = await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`]);
    expect(rows.map((r) => [r.source, r.channel, r.outcome])).toEqual([
      ['HUAWEI', 'fwUpgradeStateChangeNotify', 'RECORDED'],
      ['HUAWEI', 'fwUpgradeResultNotify', 'RECORDED'],
    ]);
    // The ledger keeps the body exactly as it came.
    expect(JSON.parse(rows[0].payload)).toEqual(fixtureFor('fw-state-downloading.json', tag));
  });

  test('firmware: step 0 (idle) before anything moves nothing; the LwM2M steps advance', async () => {
    const tag = 'fw-steps';
    expect((await post(gateway, fixtureFor('fw-state-idle.json', tag))).status).toBe(200);
    let task = await taskOf(gateway, `dev-${tag}`);
    expect(task.status).toBe('PENDING');
    expect(task.subTasks[0]).toMatchObject({ status: 'PENDING', vendorStatus: null });
    expect(task.subTasks[0].events).toMatchObject([{ status: 'PENDING', vendorStatus: 'idle', applied: false }]);

    expect((await post(gateway, fixtureFor('fw-state-downloading.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-state-numeric-step.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-state-updating.json', tag))).status).toBe(200);
    task = await taskOf(gateway, `dev-${tag}`);
    expect(task.status).toBe('IN_PROGRESS');
    expect(task.subTasks[0]).toMatchObject({ status: 'IN_PROGRESS', vendorStatus: 'updating', step: 'updating' });
    expect(task.subTasks[0].events.map((e: any) => [e.vendorStatus, e.step, e.applied])).toEqual([
      ['idle', null, false],
      ['downloading', 'downloading', true],
      // `"step": 2` without stepDesc: the number is read as its LwM2M word.
      ['downloaded', 'downloaded', true],
      ['updating', 'updating', true],
    ]);
  });

  test('firmware: a FAIL result under the `Status` key (as the vendor table spells it)', async () => {
    const tag = 'fw-fail';
    expect((await post(gateway, fixtureFor('fw-state-downloading.json', tag))).status).toBe(200);
    const raw = fixtureText('fw-result-uppercase-status.json');
    expect(raw).toContain('"Status": "FAIL"');
    const body = fixtureFor('fw-result-uppercase-status.json', tag);
    expect((await post(gateway, body)).status).toBe(200);

    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.status).toBe('FAILED');
    expect(task.subTasks[0]).toMatchObject({
      status: 'FAILED',
      vendorStatus: 'FAIL',
      statusDesc: 'FAIL: The device upgrade failed.',
      currentVersion: '1.3',
      targetVersion: '1.6',
      upgradeTime: '30',
    });
  });

  test('software: state words, an unknown word kept raw, then a FAIL result with its error code', async () => {
    const tag = 'sw-flow';
    expect((await post(gateway, fixtureFor('sw-state-otacreated.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('sw-state-downloaded.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('sw-result-fail.json', tag))).status).toBe(200);

    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task).toMatchObject({ kind: 'SOFTWARE', status: 'FAILED', appId: 'AppID_001' });
    expect(task.subTasks[0]).toMatchObject({
      status: 'FAILED',
      vendorStatus: 'FAIL',
      step: 'downloaded',
      errorCode: '7',
      statusDesc: 'FAIL: package verify failed',
      currentVersion: '1.3',
      targetVersion: '1.5',
      sourceVersion: '1.0',
      // Sent as the JSON number 95.
      upgradeTime: '95',
    });
    expect(task.subTasks[0].events).toMatchObject([
      { status: 'PENDING', vendorStatus: 'otacreated', applied: false },
      { status: 'IN_PROGRESS', vendorStatus: 'downloaded', step: 'downloaded', applied: true },
      { status: 'FAILED', vendorStatus: 'FAIL', errorCode: '7', statusDesc: 'FAIL: package verify failed', applied: true },
    ]);
  });

  test('device shadow: DELIVERED and a lower-case "failed", properties kept whole', async () => {
    const tag = 'shadow';
    expect((await post(gateway, fixtureFor('shadow-delivered.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('shadow-failed-lowercase.json', tag))).status).toBe(200);

    const events = await shadowEventsOf(gateway, `dev-${tag}`);
    // Newest first.
    expect(events).toMatchObject([
      { deviceId: `dev-${tag}`, serviceId: 'Device', status: 'FAILED', properties: { 'Firmware Version': 'v1.2.0' } },
      {
        deviceId: `dev-${tag}`,
        serviceId: 'Device',
        status: 'DELIVERED',
        properties: { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': 'v1.1.0' },
      },
    ]);
    const rows = await ledger(gateway, 'payload LIKE ?', [`%dev-${tag}%`]);
    expect(rows.map((r) => [r.channel, r.outcome])).toEqual([
      ['deviceDesiredPropertiesModifyStatusChanged', 'RECORDED'],
      ['deviceDesiredPropertiesModifyStatusChanged', 'RECORDED'],
    ]);
  });

  test('an unknown notifyType answers 200 and leaves an UNHANDLED ledger row, nothing else', async () => {
    const before = await counts(gateway);
    const raw = fixtureText('unknown-device-data-changed.json');
    expect(await post(gateway, raw)).toMatchObject({ status: 200, text: 'ok' });
    const after = await counts(gateway);
    expect(after).toEqual({ ...before, inbound_message: before.inbound_message + 1 });

    const [row] = await ledger(gateway, 'channel = ?', ['deviceDataChanged']);
    expect(row).toMatchObject({ source: 'HUAWEI', outcome: 'UNHANDLED', dedupeKey: null, payload: raw });
    expect(row.reason).toContain('deviceDataChanged');
  });
});

describe('metrics', () => {
  async function pushMetrics(): Promise<string[]> {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith('ota_webhook_pushes_total{'));
  }

  test('pushes are counted by type and outcome', async () => {
    const before = await pushMetrics();
    expect((await post(gateway, fixtureFor('sw-state-downloaded.json', 'metrics'))).status).toBe(200);
    expect((await post(gateway, fixtureFor('sw-state-downloaded.json', 'metrics'))).status).toBe(200);
    expect((await post(gateway, 'nope')).status).toBe(400);
    const after = (await pushMetrics()).filter((line) => !before.includes(line));
    expect(after.join('\n')).toMatch(/type="swUpgradeStateChangeNotify",outcome="recorded"/);
    expect(after.join('\n')).toMatch(/type="swUpgradeStateChangeNotify",outcome="duplicate"/);
    expect(after.join('\n')).toMatch(/type="invalid",outcome="rejected"/);
  });

  test('a sender cannot create metric series at will: unknown notifyTypes share one label value', async () => {
    const before = await pushMetrics();
    for (let i = 0; i < 20; i += 1) {
      expect((await post(gateway, { notifyType: `madeUpType${i}-${'x'.repeat(40)}`, deviceId: 'd' })).status).toBe(200);
    }
    const after = await pushMetrics();
    expect(after.some((line) => line.includes('madeUpType'))).toBe(false);
    expect(after.length - before.length).toBeLessThanOrEqual(1);
    // The ledger still has each one under its own name.
    expect(await ledger(gateway, "channel LIKE 'madeUpType%'")).toHaveLength(20);
  });
});

describe('the vendor documentation examples, verbatim', () => {
  // Every vendor example masks its ids the same way ("******"), so each runs on a gateway of its own.
  let own: TestGateway | undefined;
  afterEach(async () => {
    await own?.stop();
    own = undefined;
  });

  test('fwUpgradeResultNotify (vendor-docs/huawei-fwUpgradeResultNotify.txt)', async () => {
    own = await startTestGateway();
    expect((await post(own, fixtureText('vendor-fw-result.json'))).status).toBe(200);
    const task = await taskOf(own, '******');
    expect(task).toMatchObject({ kind: 'FIRMWARE', externalId: '***********', status: 'SUCCEEDED' });
    expect(task.subTasks[0]).toMatchObject({ status: 'SUCCEEDED', vendorStatus: 'SUCCESS', statusDesc: '****', upgradeTime: '****', sourceVersion: '1.3' });
  });

  test('swUpgradeStateChangeNotify, swUpgradeResultNotify (zh) and the shadow status change', async () => {
    own = await startTestGateway();
    for (const name of ['vendor-sw-state.json', 'vendor-sw-result-zh.json', 'vendor-shadow.json']) {
      expect({ name, status: (await post(own, fixtureText(name))).status }).toEqual({ name, status: 200 });
    }
    const task = await taskOf(own, '******');
    expect(task).toMatchObject({ kind: 'SOFTWARE', status: 'SUCCEEDED' });
    expect(task.subTasks[0]).toMatchObject({ status: 'SUCCEEDED', vendorStatus: 'SUCCESS', errorCode: '***', upgradeTime: '***' });
    expect(task.subTasks[0].events.map((e: any) => e.vendorStatus)).toEqual(['downloading', 'SUCCESS']);
    expect(await shadowEventsOf(own, '******')).toMatchObject([{ status: 'DELIVERED', properties: { 'Model Number': 1 } }]);
    expect((await ledger(own)).map((r) => r.outcome)).toEqual(['RECORDED', 'RECORDED', 'RECORDED']);
  });
});

describe('re-pushes and late pushes', () => {
  test('a re-pushed identical notification answers 200 and records nothing new', async () => {
    const tag = 'dup';
    const body = JSON.stringify(fixtureFor('fw-state-downloading.json', tag));
    expect((await post(gateway, body)).status).toBe(200);
    const before = await counts(gateway);
    expect(await post(gateway, body)).toMatchObject({ status: 200, text: 'ok' });

    const after = await counts(gateway);
    // Only the ledger grows: the re-push is kept there as a DUPLICATE.
    expect(after).toEqual({ ...before, inbound_message: before.inbound_message + 1 });
    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.subTasks[0].events).toHaveLength(1);
    const rows = await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`]);
    expect(rows.map((r) => r.outcome)).toEqual(['RECORDED', 'DUPLICATE']);
    expect(rows[1].reason).toBe(`duplicate of inbound message ${rows[0].id}`);
  });

  test('the same content with keys reordered, re-spaced, re-cased or a number for a string is still a duplicate', async () => {
    const tag = 'dup-variants';
    const original = fixtureFor('fw-result-success.json', tag);
    expect((await post(gateway, original)).status).toBe(200);
    const before = await counts(gateway);

    const reordered = Object.fromEntries(Object.entries(original).reverse());
    const variants = [
      JSON.stringify(reordered, null, 4),
      JSON.stringify({ ...original, upgradeTime: 120 }),
      JSON.stringify(original).replace('"status"', '"Status"'),
      '\ufeff' + JSON.stringify(original),
    ];
    for (const variant of variants) expect((await post(gateway, variant)).status).toBe(200);

    expect(await counts(gateway)).toEqual({ ...before, inbound_message: before.inbound_message + variants.length });
    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.subTasks[0].events).toHaveLength(1);
    expect((await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`])).map((r) => r.outcome)).toEqual([
      'RECORDED',
      'DUPLICATE',
      'DUPLICATE',
      'DUPLICATE',
      'DUPLICATE',
    ]);
  });

  test('the same push arriving several times at once is recorded once', async () => {
    const tag = 'dup-burst';
    const body = JSON.stringify(fixtureFor('sw-state-downloaded.json', tag));
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(gateway, body)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));

    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.subTasks[0].events).toHaveLength(1);
    const outcomes = (await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`])).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['RECORDED', ...Array(7).fill('DUPLICATE')].sort());
  });

  test('a re-pushed shadow status is recorded once', async () => {
    const tag = 'dup-shadow';
    const body = fixtureFor('shadow-delivered.json', tag);
    expect((await post(gateway, body)).status).toBe(200);
    // Property order inside `properties` does not make it new either.
    const reordered = { ...body, properties: Object.fromEntries(Object.entries(body.properties as Body).reverse()) };
    expect((await post(gateway, reordered)).status).toBe(200);
    expect(await shadowEventsOf(gateway, `dev-${tag}`)).toHaveLength(1);
  });

  test('a changed value is not a duplicate', async () => {
    const tag = 'not-dup';
    expect((await post(gateway, fixtureFor('sw-state-downloaded.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('sw-state-downloaded.json', tag, { swUpgradeState: 'updating' }))).status).toBe(200);
    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.subTasks[0].events.map((e: any) => e.vendorStatus)).toEqual(['downloaded', 'updating']);
  });

  test('a state push after the result is kept in the history but does not reopen the task', async () => {
    const tag = 'late';
    expect((await post(gateway, fixtureFor('fw-state-downloading.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-result-success.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-state-updating.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-state-idle.json', tag))).status).toBe(200);

    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task).toMatchObject({ status: 'SUCCEEDED', progress: 100 });
    expect(task.subTasks[0]).toMatchObject({ status: 'SUCCEEDED', vendorStatus: 'SUCCESS', currentVersion: '1.6' });
    expect(task.subTasks[0].events.map((e: any) => [e.status, e.vendorStatus, e.applied])).toEqual([
      ['IN_PROGRESS', 'downloading', true],
      ['SUCCEEDED', 'SUCCESS', true],
      ['SUCCEEDED', 'updating', false],
      ['SUCCEEDED', 'idle', false],
    ]);
    // Recorded, not refused: the ledger says so.
    expect((await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`])).map((r) => r.outcome)).toEqual(Array(4).fill('RECORDED'));
  });
});

describe('case, type and transport variants', () => {
  test('keys and the notifyType value in any letter case', async () => {
    const tag = 'case';
    const body = {
      NOTIFYTYPE: 'FWUPGRADESTATECHANGENOTIFY',
      DeviceId: `dev-${tag}`,
      APPID: 'AppID_001',
      OperationID: `op-${tag}`,
      suboperationid: `sub-${tag}`,
      Step: 1,
      StepDesc: 'Downloading',
    };
    expect((await post(gateway, body)).status).toBe(200);
    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task).toMatchObject({ externalId: `op-${tag}`, appId: 'AppID_001', status: 'IN_PROGRESS' });
    expect(task.subTasks[0]).toMatchObject({ externalId: `sub-${tag}`, status: 'IN_PROGRESS', step: 'downloading', vendorStatus: 'Downloading' });
    const [row] = await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`]);
    expect(row.channel).toBe('fwUpgradeStateChangeNotify');
  });

  test('numbers where the docs say String: step, upgradeTime, errorCode, versions', async () => {
    const tag = 'numbers';
    expect((await post(gateway, fixtureFor('fw-state-numeric-step.json', tag))).status).toBe(200);
    const sw = fixtureFor('sw-result-fail.json', `${tag}-sw`, { errorCode: 7, curVersion: 1.3, targetVersion: 2, upgradeTime: 95 });
    expect((await post(gateway, sw)).status).toBe(200);

    expect((await taskOf(gateway, `dev-${tag}`)).subTasks[0]).toMatchObject({ status: 'IN_PROGRESS', step: 'downloaded', vendorStatus: 'downloaded' });
    expect((await taskOf(gateway, `dev-${tag}-sw`)).subTasks[0]).toMatchObject({
      status: 'FAILED',
      errorCode: '7',
      currentVersion: '1.3',
      targetVersion: '2',
      upgradeTime: '95',
    });
  });

  test.each([
    ['application/json; charset=UTF-8'],
    ['application/json;charset=utf-8'],
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
  ])('any Content-Type (%s) is read as the JSON it carries', async (contentType) => {
    const tag = `ct-${contentType.replace(/\W+/g, '-')}`;
    const response = await post(gateway, fixtureFor('sw-state-downloaded.json', tag), { 'content-type': contentType });
    expect(response.status).toBe(200);
    expect((await taskOf(gateway, `dev-${tag}`)).subTasks[0].status).toBe('IN_PROGRESS');
  });

  test('a body of exactly the limit (64 KiB) is accepted; one byte more is 413 and writes nothing', async () => {
    const tag = 'big';
    const base = JSON.stringify({ ...fixtureFor('sw-state-downloaded.json', tag), padding: '' });
    const exact = base.replace('"padding":""', `"padding":"${'x'.repeat(LIMIT - base.length)}"`);
    expect(Buffer.byteLength(exact)).toBe(LIMIT);
    expect((await post(gateway, exact)).status).toBe(200);
    expect((await taskOf(gateway, `dev-${tag}`)).subTasks[0].events).toHaveLength(1);

    const before = await counts(gateway);
    const tooBig = JSON.stringify({ ...fixtureFor('sw-state-downloaded.json', `${tag}-2`), padding: '' });
    const overBy1 = tooBig.replace('"padding":""', `"padding":"${'x'.repeat(LIMIT - tooBig.length + 1)}"`);
    expect(Buffer.byteLength(overBy1)).toBe(LIMIT + 1);
    const response = await post(gateway, overBy1);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toMatchObject({ message: expect.any(String) });

    // Counted in bytes: 32 Ki two-byte characters plus the JSON around them is over the limit.
    const multiByte = JSON.stringify({ ...fixtureFor('sw-state-downloaded.json', `${tag}-3`), padding: 'é'.repeat(LIMIT / 2) });
    expect(multiByte.length).toBeLessThan(LIMIT);
    expect((await post(gateway, multiByte)).status).toBe(413);

    expect(await counts(gateway)).toEqual(before);
  });

  test('a chunked body (no Content-Length) over the limit is refused with 413 as it streams, and nothing is written', async () => {
    const before = await counts(gateway);
    const status = await new Promise<number | string>((resolve) => {
      const req = httpRequest(gateway.url + HUAWEI_CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server may close the connection before the client finishes sending.
      req.on('error', (error) => resolve(`error: ${error.message}`));
      const chunk = Buffer.alloc(64 * 1024, 'x');
      void (async () => {
        req.write('{"notifyType":"deviceDataChanged","padding":"');
        for (let i = 0; i * chunk.length < ONE_MIB && !req.destroyed; i += 1) {
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end('"}');
      })();
    });
    expect(status).toBe(413);
    expect(await counts(gateway)).toEqual(before);
  });
});

describe('bad input: 400 naming each bad field, nothing written', () => {
  const fw = () => fixture('fw-state-downloading.json');
  const fwResult = () => fixture('fw-result-success.json');
  const sw = () => fixture('sw-state-downloaded.json');
  const swResult = () => fixture('sw-result-fail.json');
  const shadow = () => fixture('shadow-delivered.json');
  const without = (body: Body, ...keys: string[]) => Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)));

  const cases: [string, string | Body, string[]][] = [
    // The body as a whole.
    ['not JSON', 'notifyType=fwUpgradeStateChangeNotify', ['body']],
    ['truncated JSON', JSON.stringify(fw()).slice(0, -1), ['body']],
    ['an empty body', '', ['body']],
    ['a JSON array', JSON.stringify([fw()]), ['body']],
    ['a JSON string', '"fwUpgradeStateChangeNotify"', ['body']],
    ['a JSON number', '42', ['body']],
    ['JSON null', 'null', ['body']],
    ['JSON true', 'true', ['body']],
    // notifyType.
    ['an empty object', '{}', ['notifyType']],
    ['no notifyType', without(fw(), 'notifyType'), ['notifyType']],
    ['notifyType null', { ...fw(), notifyType: null }, ['notifyType']],
    ['notifyType a number', { ...fw(), notifyType: 3 }, ['notifyType']],
    ['notifyType an object', { ...fw(), notifyType: { name: 'fwUpgradeStateChangeNotify' } }, ['notifyType']],
    ['notifyType empty', { ...fw(), notifyType: '  ' }, ['notifyType']],
    ['notifyType twice with different values', { ...fw(), NotifyType: 'swUpgradeStateChangeNotify' }, ['notifyType']],
    // fwUpgradeStateChangeNotify.
    ['fw state: only notifyType', { notifyType: 'fwUpgradeStateChangeNotify' }, ['deviceId', 'operationId', 'subOperationId', 'stepDesc']],
    ['fw state: neither step nor stepDesc', without(fw(), 'step', 'stepDesc'), ['stepDesc']],
    ['fw state: deviceId missing', without(fw(), 'deviceId'), ['deviceId']],
    ['fw state: operationId missing', without(fw(), 'operationId'), ['operationId']],
    ['fw state: subOperationId missing', without(fw(), 'subOperationId'), ['subOperationId']],
    [
      'fw state: every field of the wrong type',
      { notifyType: 'fwUpgradeStateChangeNotify', deviceId: true, appId: ['a'], operationId: {}, subOperationId: false, step: { n: 1 }, stepDesc: [] },
      ['deviceId', 'appId', 'operationId', 'subOperationId', 'step', 'stepDesc'],
    ],
    ['fw state: empty deviceId', { ...fw(), deviceId: '' }, ['deviceId']],
    ['fw state: deviceId over 256 characters', { ...fw(), deviceId: 'd'.repeat(257) }, ['deviceId']],
    ['fw state: NUL in operationId', { ...fw(), operationId: 'op\u0000x' }, ['operationId']],
    ['fw state: step 1e999 (Infinity once parsed)', '{"notifyType":"fwUpgradeStateChangeNotify","deviceId":"d","operationId":"o","subOperationId":"s","step":1e999}', ['step']],
    // fwUpgradeResultNotify.
    ['fw result: status missing', without(fwResult(), 'status'), ['status']],
    ['fw result: status a boolean', { ...fwResult(), status: true }, ['status']],
    ['fw result: status and Status disagree', { ...fwResult(), Status: 'FAIL' }, ['status']],
    [
      'fw result: ids missing, versions mistyped',
      { ...without(fwResult(), 'deviceId', 'subOperationId'), curVersion: [1, 6], upgradeTime: { s: 120 } },
      ['deviceId', 'subOperationId', 'curVersion', 'upgradeTime'],
    ],
    // swUpgradeStateChangeNotify.
    ['sw state: swUpgradeState missing', without(sw(), 'swUpgradeState'), ['swUpgradeState']],
    ['sw state: swUpgradeState null', { ...sw(), swUpgradeState: null }, ['swUpgradeState']],
    ['sw state: swUpgradeState an array', { ...sw(), swUpgradeState: ['downloaded'] }, ['swUpgradeState']],
    // swUpgradeResultNotify.
    ['sw result: swUpgradeResult missing', without(swResult(), 'swUpgradeResult'), ['swUpgradeResult']],
    [
      'sw result: mistyped texts',
      { ...swResult(), errorCode: { code: 7 }, resultDesc: false, description: ['x'] },
      ['resultDesc', 'errorCode', 'description'],
    ],
    // deviceDesiredPropertiesModifyStatusChanged.
    ['shadow: only notifyType', { notifyType: 'deviceDesiredPropertiesModifyStatusChanged' }, ['deviceId', 'serviceId', 'status', 'properties']],
    ['shadow: properties an array', { ...shadow(), properties: [1, 2] }, ['properties']],
    ['shadow: properties a string', { ...shadow(), properties: '{"a":1}' }, ['properties']],
    ['shadow: status not DELIVERED/FAILED', { ...shadow(), status: 'SUCCESS' }, ['status']],
    ['shadow: status a number', { ...shadow(), status: 1 }, ['status']],
    ['shadow: serviceId missing and deviceId empty', { ...without(shadow(), 'serviceId'), deviceId: '' }, ['deviceId', 'serviceId']],
  ];

  test.each(cases)('%s', async (_name, body, fields) => {
    const before = await counts(gateway);
    const response = await post(gateway, body);

    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    const parsed = JSON.parse(response.text) as { error: string; fields: { field: string; message: string }[] };
    expect(parsed.error).toBe('BAD_REQUEST');
    expect(parsed.fields.map((f) => f.field).sort()).toEqual([...fields].sort());
    for (const f of parsed.fields) expect(f.message).toEqual(expect.any(String));
    expect(await counts(gateway)).toEqual(before);
  });

  test('the errors say why, per field', async () => {
    const response = await post(gateway, { notifyType: 'fwUpgradeResultNotify', deviceId: 5, operationId: true, status: null });
    expect(JSON.parse(response.text).fields).toEqual([
      { field: 'operationId', message: 'must be a string or a number, got boolean' },
      { field: 'subOperationId', message: 'required' },
      { field: 'status', message: 'required' },
    ]);
  });
});

describe('storage failure', () => {
  test.each([
    [
      'the ledger refuses writes',
      `CREATE TRIGGER refuse_ledger BEFORE INSERT ON inbound_message BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END`,
      'DROP TRIGGER refuse_ledger',
    ],
    ['the history table is gone', 'ALTER TABLE progress_event RENAME TO progress_event_away', 'ALTER TABLE progress_event_away RENAME TO progress_event'],
  ])('%s: 503 with Retry-After, nothing half-written, the process stays up and the re-push is recorded', async (_name, breakSql, repairSql) => {
    const tag = `storage-${_name.split(' ')[1]}`;
    const body = JSON.stringify(fixtureFor('fw-state-downloading.json', tag));
    const before = await counts(gateway);
    await gateway.dataSource.query(breakSql);
    let repaired = false;
    try {
      const response = await post(gateway, body);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(response.text)).toMatchObject({ error: 'SERVICE_UNAVAILABLE' });
      // Another type, and the unhandled path, fail the same way rather than 500.
      if (_name.includes('ledger')) expect((await post(gateway, fixtureText('unknown-device-data-changed.json'))).status).toBe(503);

      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
      await gateway.dataSource.query(repairSql);
      repaired = true;
      expect(await counts(gateway)).toEqual(before);
    } finally {
      if (!repaired) await gateway.dataSource.query(repairSql);
    }

    // Huawei re-pushes what got a 503: now it is recorded, once.
    expect((await post(gateway, body)).status).toBe(200);
    const task = await taskOf(gateway, `dev-${tag}`);
    expect(task.subTasks[0].events).toMatchObject([{ status: 'IN_PROGRESS', applied: true }]);
    expect((await ledger(gateway, 'payload LIKE ?', [`%op-${tag}%`])).map((r) => r.outcome)).toEqual(['RECORDED']);
  });
});

describe('live subscribers', () => {
  test('upgradeProgress and shadowStatusChanged deliver each push once, duplicates not at all', async () => {
    const tag = 'live';
    const deviceId = `dev-${tag}`;
    const client = gateway.ws();
    const progress = collect<{ upgradeProgress: any }>(
      client,
      `subscription($d: String) { upgradeProgress(deviceId: $d) {
         task { externalId status kind }
         subTask { deviceId status vendorStatus step upgradeTime }
         event { status vendorStatus step applied }
       } }`,
      { d: deviceId },
    );
    const shadows = collect<{ shadowStatusChanged: any }>(
      client,
      `subscription($d: String) { shadowStatusChanged(deviceId: $d) { deviceId serviceId status properties } }`,
      { d: deviceId },
    );
    await subscriptionsRunning(gateway, 2);

    const state = fixtureFor('fw-state-downloading.json', tag);
    expect((await post(gateway, state)).status).toBe(200);
    expect((await post(gateway, state)).status).toBe(200); // duplicate: no message
    expect((await post(gateway, fixtureFor('fw-result-success.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('fw-state-idle.json', tag))).status).toBe(200); // late: a message, not applied
    expect((await post(gateway, fixtureFor('shadow-delivered.json', tag))).status).toBe(200);
    expect((await post(gateway, fixtureFor('shadow-delivered.json', tag))).status).toBe(200); // duplicate
    expect((await post(gateway, fixtureFor('shadow-failed-lowercase.json', tag))).status).toBe(200);
    // Another device's push must not reach these subscribers.
    expect((await post(gateway, fixtureFor('fw-state-downloading.json', 'live-other'))).status).toBe(200);
    expect((await post(gateway, fixtureFor('shadow-delivered.json', 'live-other'))).status).toBe(200);

    const messages = await progress.until(3);
    const shadowMessages = await shadows.until(2);
    expect(messages.map((m) => m.upgradeProgress)).toMatchObject([
      { task: { externalId: `op-${tag}`, status: 'IN_PROGRESS', kind: 'FIRMWARE' }, event: { status: 'IN_PROGRESS', vendorStatus: 'downloading', applied: true } },
      { task: { status: 'SUCCEEDED' }, subTask: { status: 'SUCCEEDED', upgradeTime: '120' }, event: { status: 'SUCCEEDED', applied: true } },
      { task: { status: 'SUCCEEDED' }, event: { vendorStatus: 'idle', applied: false } },
    ]);
    expect(shadowMessages.map((m) => m.shadowStatusChanged)).toEqual([
      { deviceId, serviceId: 'Device', status: 'DELIVERED', properties: { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': 'v1.1.0' } },
      { deviceId, serviceId: 'Device', status: 'FAILED', properties: { 'Firmware Version': 'v1.2.0' } },
    ]);

    // Nothing else arrives: a marker push for this device is the very next message.
    expect((await post(gateway, fixtureFor('fw-state-updating.json', tag, { operationId: `op-${tag}-marker` }))).status).toBe(200);
    const withMarker = await progress.until(4);
    expect(withMarker).toHaveLength(4);
    expect(withMarker[3].upgradeProgress.task.externalId).toBe(`op-${tag}-marker`);
    expect(shadows.received).toHaveLength(2);
    expect(progress.errors).toEqual([]);
    expect(shadows.errors).toEqual([]);
  });
});

describe('restart', () => {
  test('what was recorded survives a restart on the same SQLite file, and re-pushes stay duplicates', async () => {
    let first: TestGateway | undefined = await startTestGateway();
    const dir = first.dir;
    let second: TestGateway | undefined;
    try {
      const tag = 'restart';
      expect((await post(first, fixtureFor('sw-state-downloaded.json', tag))).status).toBe(200);
      expect((await post(first, fixtureFor('sw-result-fail.json', tag))).status).toBe(200);
      expect((await post(first, fixtureFor('shadow-delivered.json', tag))).status).toBe(200);
      const beforeTask = await taskOf(first, `dev-${tag}`);
      await first.stop({ keepDir: true });
      first = undefined;

      second = await startTestGateway({}, { dir });
      const afterTask = await taskOf(second, `dev-${tag}`);
      expect(afterTask).toEqual(beforeTask);
      expect(afterTask).toMatchObject({ status: 'FAILED', subTasks: [{ errorCode: '7', events: [{}, {}] }] });
      expect(await shadowEventsOf(second, `dev-${tag}`)).toHaveLength(1);

      // The dedupe keys are in the file too: Huawei re-pushing after our restart records nothing new.
      const before = await counts(second);
      expect((await post(second, fixtureFor('sw-result-fail.json', tag))).status).toBe(200);
      expect((await post(second, fixtureFor('shadow-delivered.json', tag))).status).toBe(200);
      expect(await counts(second)).toEqual({ ...before, inbound_message: before.inbound_message + 2 });
    } finally {
      await first?.stop({ keepDir: true });
      await second?.stop();
      // startTestGateway leaves a folder it was given alone.
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
