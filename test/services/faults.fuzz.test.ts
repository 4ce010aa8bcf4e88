/**
 * Fault: hostile input against a gateway process. Arbitrary webhook bodies
 * (bytes, broken JSON, wrong types, NUL bytes, deep nesting, over the size
 * limit, odd content types) are answered without a 5xx; arbitrary MQTT
 * payloads (invalid UTF-8, over 256 KiB, deep nesting, wrong types, odd
 * serials in the topic) are each handled and acknowledged once, with a ledger
 * row saying what became of them; the process stays up and ingests normally
 * afterwards. Deterministic by default (fixed seed); FC_SEED explores others.
 * Private Mosquitto (persistence, free port), gateway as `node dist/src/server.js`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { HUAWEI_CALLBACK_PATH } from '../../src/ingest/huawei/webhook.plugin';
import { querySqlite, report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { describeWithMosquitto, startMosquitto, type Mosquitto } from '../support/mosquitto';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20260802;

const nested = (depth: number) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

/** JSON-ish text: plausible messages with wrong types, and garbage. */
const jsonish = (plausible: Record<string, unknown>) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...Object.keys(plausible), 'Status', 'TID', '__proto__'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((o) => JSON.stringify({ ...plausible, ...o })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => JSON.stringify({ ...plausible, tid: `${s}\u0000`, operationId: `${s}\u0000` })) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map(nested) },
  );

const HUAWEI = { notifyType: 'fwUpgradeStateChangeNotify', deviceId: 'dev-fz', appId: 'app', operationId: 'op-fz', subOperationId: 'sub-fz', step: '1', stepDesc: 'downloading' };
const DJI = { tid: 'tid-fz', bid: 'bid-fz', timestamp: 1_700_000_000_000, method: 'ota_progress', need_reply: 1, data: { result: 0, output: { status: 'in_progress', progress: { percent: 5 } } } };

const webhookBody = fc.oneof(
  { weight: 6, arbitrary: jsonish(HUAWEI) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((mb) => JSON.stringify({ ...HUAWEI, pad: 'x'.repeat(mb * 1024 * 1024) })) },
);
const contentType = fc.constantFrom('application/json', 'application/json;charset=UTF-8', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', '');

const mqttPayload: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: jsonish(DJI).map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.from([0xc3, 0x28, 0x7b, 0x7d, 0xff, 0xfe])) },
  { weight: 1, arbitrary: fc.integer({ min: 256 * 1024 + 1, max: 400 * 1024 }).map((n) => Buffer.alloc(n, 0x7b)) },
);
const mqttTopic = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('thing/product/DOCK-FZ/events', 'thing/product/DOCK-FZ/services_reply') },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/), fc.constantFrom('events', 'services_reply')).map(([sn, kind]) => `thing/product/${sn}/${kind}`) },
);

describeWithMosquitto()('fault: hostile input against a gateway process', () => {
  let broker: Mosquitto;
  let dir: string;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'ota-fault-fuzz-'));
    gateway = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId: 'fault-fuzz-gateway', env: { LOG_LEVEL: 'warn', MQTT_SHARED_GROUP: '' } });
  });
  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    if (process.env.KEEP_FAULT_DIRS) {
      await broker?.stop();
      console.log(`kept: ${dir} ${broker?.dir}`);
    } else {
      await broker?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const db = () => join(dir, 'gateway.sqlite');
  const healthy = async () => {
    expect((await fetch(`${gateway!.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway!.url}/readyz`)).status).toBe(200);
    expect(gateway!.child.exitCode).toBeNull();
  };

  test('webhook bodies: never a 5xx, the process stays up', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(webhookBody, contentType, async (body, type) => {
        let response: Response;
        try {
          response = await fetch(`${gateway!.url}${HUAWEI_CALLBACK_PATH}`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
        } catch (error) {
          // A body over the limit is answered 413 and the connection closed while the client may
          // still be writing it: the client then sees EPIPE/ECONNRESET instead of the 413.
          const code = ((error as { cause?: { code?: string; cause?: { code?: string } } }).cause?.code ??
            (error as { cause?: { cause?: { code?: string } } }).cause?.cause?.code) as string | undefined;
          if (Buffer.byteLength(body) > 1024 * 1024 && (code === 'EPIPE' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')) {
            statuses.set(413, (statuses.get(413) ?? 0) + 1);
            return;
          }
          throw error;
        }
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
      }),
      { seed: SEED, numRuns: 300 },
    );
    report('fuzz: webhook bodies', { sent: [...statuses.values()].reduce((a, b) => a + b, 0), ...Object.fromEntries([...statuses].map(([s, n]) => [`http${s}`, n])), http5xx: [...statuses].filter(([s]) => s >= 500).length });
    await healthy();
  }, 240_000);

  test('MQTT payloads: each one handled and acknowledged once, with a ledger row; the process stays up and ingests normally', async () => {
    const before = (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM inbound_message WHERE source = 'DJI'`))[0].n;
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-fuzz-dock', protocolVersion: 4, reconnectPeriod: 0 });
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(mqttTopic, mqttPayload, async (topic, payload) => {
        await dock.publishAsync(topic, payload, { qos: 1 });
        sent++;
      }),
      { seed: SEED, numRuns: 400 },
    );
    // A real event after all of it is still recorded.
    await dock.publishAsync('thing/product/DOCK-FZ/events', JSON.stringify({ ...DJI, tid: 'tid-after-fuzz', bid: 'bid-after-fuzz' }), { qos: 1 });
    sent++;
    await dock.endAsync();

    const rows = async () => (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM inbound_message WHERE source = 'DJI'`))[0].n - before;
    const deadline = Date.now() + 60_000;
    while ((await rows()) < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // any redelivery (there should be none) would add rows
    const outcomes = await querySqlite<{ outcome: string; n: number }>(db(), `SELECT outcome, COUNT(*) AS n FROM inbound_message WHERE source = 'DJI' GROUP BY outcome`);
    const oversized = (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM inbound_message WHERE reason LIKE '%-byte limit'`))[0].n;
    const after = (await querySqlite<{ status: string }>(db(), `SELECT t.status FROM upgrade_task t WHERE t.external_id = 'bid-after-fuzz'`))[0];
    const notStored = (gateway!.output().match(/not stored/g) ?? []).length;

    report('fuzz: MQTT payloads', {
      published: sent,
      ledgerRows: await rows(),
      ...Object.fromEntries(outcomes.map((o) => [o.outcome.toLowerCase(), o.n])),
      oversizedRejected: oversized,
      handlerFailures: notStored,
      processAlive: gateway!.child.exitCode === null,
    });

    expect(await rows()).toBe(sent);
    expect(notStored).toBe(0);
    expect(after).toEqual({ status: 'IN_PROGRESS' });
    await healthy();
    gateway!.child.kill('SIGTERM');
    expect((await gateway!.exited).code).toBe(0);
    gateway = undefined;
  }, 240_000);
});
