/**
 * Whatever arrives on the Huawei callback, over real HTTP: the answer is 200
 * (recorded in the ledger) or 400 (naming the bad fields, nothing written),
 * never a 5xx (Huawei re-pushes on 5xx, protocols.md §1.3), and the process
 * stays healthy.
 *
 * Deterministic by default (fixed seed); set FC_SEED to explore other inputs.
 */
import fc from 'fast-check';
import { HUAWEI_NOTIFY_TYPES, UNEXPECTED_FAILURE } from '../src/ingest/huawei/protocol';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { startTestGateway, type TestGateway } from './support/gateway';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240501;

/** Every key a mapping reads, in canonical spelling. */
const KEYS = [
  'notifyType', 'deviceId', 'appId', 'operationId', 'subOperationId', 'serviceId', 'step', 'stepDesc', 'status',
  'swUpgradeState', 'swUpgradeResult', 'statusDesc', 'resultDesc', 'errorCode', 'description', 'curVersion',
  'targetVersion', 'sourceVersion', 'upgradeTime', 'properties',
];

/** A key as Huawei spells it, or in another case, or a key nobody reads. */
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYS).map((k) => (k === 'status' ? 'Status' : k.toUpperCase())) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Field values: mostly plausible, often not. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('1', '0', '3', 'downloading', 'idle', 'SUCCESS', 'FAIL', 'DELIVERED', 'failed', 'dev-p', 'op-p', 'sub-p', '1.6') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 300 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
);

/** Something shaped like a push: a notifyType (usually a handled one) and some fields. */
const notificationArb = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom<unknown>(...HUAWEI_NOTIFY_TYPES) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(...HUAWEI_NOTIFY_TYPES.map((t) => t.toUpperCase()), 'deviceDataChanged') },
      { weight: 1, arbitrary: valueArb },
    ),
    fc.dictionary(keyArb, valueArb, { maxKeys: 12 }),
    fc.boolean(),
  )
  .map(([notifyType, fields, typeFirst]) => {
    const body: Record<string, unknown> = typeFirst ? { notifyType, ...fields } : { ...fields, notifyType };
    return JSON.stringify(body);
  });

/** One valid push per handled type (protocols.md §1.9). */
const VALID: readonly Record<string, unknown>[] = [
  { notifyType: 'fwUpgradeStateChangeNotify', deviceId: 'dev-p', appId: 'app', operationId: 'op-fw', subOperationId: 'sub-p', step: '1', stepDesc: 'downloading' },
  { notifyType: 'fwUpgradeResultNotify', deviceId: 'dev-p', appId: 'app', operationId: 'op-fw', subOperationId: 'sub-p', curVersion: '1.6', targetVersion: '1.6', sourceVersion: '1.3', status: 'SUCCESS', statusDesc: 'ok', upgradeTime: '120' },
  { notifyType: 'swUpgradeStateChangeNotify', deviceId: 'dev-p', appId: 'app', operationId: 'op-sw', subOperationId: 'sub-p', swUpgradeState: 'downloaded' },
  { notifyType: 'swUpgradeResultNotify', deviceId: 'dev-p', appId: 'app', operationId: 'op-sw', subOperationId: 'sub-p', curVersion: '1.3', targetVersion: '1.5', sourceVersion: '1.0', swUpgradeResult: 'FAIL', upgradeTime: 95, resultDesc: 'FAIL', errorCode: '7', description: 'package verify failed' },
  { notifyType: 'deviceDesiredPropertiesModifyStatusChanged', deviceId: 'dev-p', serviceId: 'Device', properties: { 'Firmware Version': 'v1.1.0' }, status: 'DELIVERED' },
  { notifyType: 'deviceDataChanged', deviceId: 'dev-p', service: { serviceId: 'Battery', data: { batteryLevel: 75 } } },
];

type Mutation = { kind: 'delete' } | { kind: 'recase' } | { kind: 'set'; key: string; value: unknown };

/** A valid push with up to three fields deleted, re-cased or replaced; unchanged ones repeat (duplicates). */
const nearValidArb = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(
      fc.oneof(
        fc.constant<Mutation>({ kind: 'delete' }),
        fc.constant<Mutation>({ kind: 'recase' }),
        fc.record({ kind: fc.constant('set' as const), key: keyArb, value: valueArb }),
      ),
      { maxLength: 3 },
    ),
    fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
  )
  .map(([template, mutations, picks]) => {
    const entries = Object.entries(template);
    mutations.forEach((m, i) => {
      const at = picks[i] % entries.length;
      if (m.kind === 'delete') entries.splice(at, 1);
      else if (m.kind === 'recase') entries[at] = [entries[at][0].toUpperCase(), entries[at][1]];
      else entries.push([m.key, m.value]);
      if (entries.length === 0) entries.push(['notifyType', template.notifyType]);
    });
    return JSON.stringify(Object.fromEntries(entries));
  });

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: nearValidArb },
  { weight: 3, arbitrary: notificationArb },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: notificationArb.chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
);

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.stop();
});

test('any body: 200 or 400, never a 5xx; every 200 is in the ledger and no 400 is', async () => {
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(bodyArb, fc.constantFrom('application/json', 'application/json; charset=UTF-8', 'text/plain'), async (body, contentType) => {
      const response = await fetch(gateway.url + HUAWEI_CALLBACK_PATH, { method: 'POST', headers: { 'content-type': contentType }, body });
      const text = await response.text();
      if (response.status === 200) {
        accepted += 1;
        expect(text).toBe('ok');
        return;
      }
      expect(response.status).toBe(400);
      const parsed = JSON.parse(text) as { error: string; fields: { field: string; message: string }[] };
      expect(parsed.error).toBe('BAD_REQUEST');
      expect(parsed.fields.length).toBeGreaterThan(0);
      for (const f of parsed.fields) expect(f.message).not.toContain(UNEXPECTED_FAILURE);
    }),
    { numRuns: 200, seed: SEED },
  );

  const [row] = (await gateway.dataSource.query('SELECT COUNT(*) AS n FROM inbound_message')) as { n: number }[];
  expect(Number(row.n)).toBe(accepted);
  // Both outcomes were exercised, or the property says little.
  expect(accepted).toBeGreaterThan(20);
  expect(accepted).toBeLessThan(200);

  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  // And it still records a valid push afterwards.
  const after = await fetch(gateway.url + HUAWEI_CALLBACK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ notifyType: 'swUpgradeStateChangeNotify', deviceId: 'dev-after', operationId: 'op-after', subOperationId: 'sub-after', swUpgradeState: 'downloading' }),
  });
  expect(after.status).toBe(200);
});
