import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  HUAWEI_LIMITS,
  HUAWEI_NOTIFY_TYPES,
  UNEXPECTED_FAILURE,
  parseHuaweiPush,
  type FieldError,
  type HuaweiParseResult,
} from '../src/ingest/huawei/protocol';
import type { InboundEnvelope, Observation, ShadowObservation, UpgradeObservation } from '../src/domain';
import { ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';

const RECEIVED_AT = new Date('2024-05-01T12:00:00.000Z');
const FIXTURES = join(__dirname, 'fixtures', 'huawei');

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function fixtureBody(name: string): Record<string, unknown> {
  return JSON.parse(fixture(name)) as Record<string, unknown>;
}

function parse(raw: string): HuaweiParseResult {
  return parseHuaweiPush(raw, RECEIVED_AT);
}

/** Parses a body expected to be valid and returns its envelope. */
function envelopeOf(body: string | Record<string, unknown>): InboundEnvelope {
  const result = parse(typeof body === 'string' ? body : JSON.stringify(body));
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result.envelope;
}

function observationOf(body: string | Record<string, unknown>): Observation {
  const { content } = envelopeOf(body);
  if (content.kind !== 'observation') throw new Error(`expected an observation, got ${content.kind}`);
  return content.observation;
}

function upgradeOf(body: string | Record<string, unknown>): UpgradeObservation {
  const observation = observationOf(body);
  if (observation.type !== 'upgrade') throw new Error('expected an upgrade observation');
  return observation;
}

function shadowOf(body: string | Record<string, unknown>): ShadowObservation {
  const observation = observationOf(body);
  if (observation.type !== 'shadow') throw new Error('expected a shadow observation');
  return observation;
}

/** Parses a body expected to be rejected and returns its errors. */
function errorsOf(body: string | Record<string, unknown>): readonly FieldError[] {
  const result = parse(typeof body === 'string' ? body : JSON.stringify(body));
  if (result.ok) throw new Error(`expected errors, got ok (${result.envelope.channel})`);
  return result.errors;
}

function keyOf(body: string | Record<string, unknown>): string | null {
  return envelopeOf(body).dedupeKey;
}

/** The same entries with keys in reverse order and every key upper-cased. */
function shuffledUpper(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body)
      .reverse()
      .map(([k, v]) => [k.toUpperCase(), v]),
  );
}

const FW_TASK = { externalId: '5c9e0f2a7d', appId: 'AppID_001', gatewaySn: null };
const FW_TARGET = { kind: 'device', deviceId: 'a1b2c3d4-0001', externalId: '5c9e0f2a7e' };
const SW_TASK = { externalId: '6d1f', appId: 'AppID_001', gatewaySn: null };
const SW_TARGET = { kind: 'device', deviceId: 'a1b2c3d4-0001', externalId: '6d20' };
const UPGRADE = { type: 'upgrade', source: UpgradeSource.HUAWEI, occurredAt: null };

describe('HUAWEI_NOTIFY_TYPES', () => {
  it('lists the five handled types', () => {
    expect([...HUAWEI_NOTIFY_TYPES].sort()).toEqual(
      [
        'deviceDesiredPropertiesModifyStatusChanged',
        'fwUpgradeResultNotify',
        'fwUpgradeStateChangeNotify',
        'swUpgradeResultNotify',
        'swUpgradeStateChangeNotify',
      ].sort(),
    );
  });
});

describe('vendor examples (protocols.md §1.9) and variants', () => {
  it.each<[string, string, Observation]>([
    [
      'fw-state-downloading.json',
      'fwUpgradeStateChangeNotify',
      { ...UPGRADE, kind: UpgradeKind.FIRMWARE, task: FW_TASK, target: FW_TARGET, status: UpgradeStatus.IN_PROGRESS, vendorStatus: 'downloading', step: 'downloading' } as UpgradeObservation,
    ],
    [
      'fw-state-idle.json',
      'fwUpgradeStateChangeNotify',
      { ...UPGRADE, kind: UpgradeKind.FIRMWARE, task: FW_TASK, target: FW_TARGET, status: null, vendorStatus: 'idle', step: null } as UpgradeObservation,
    ],
    [
      'fw-state-numeric-step.json',
      'fwUpgradeStateChangeNotify',
      { ...UPGRADE, kind: UpgradeKind.FIRMWARE, task: FW_TASK, target: FW_TARGET, status: UpgradeStatus.IN_PROGRESS, vendorStatus: 'downloaded', step: 'downloaded' } as UpgradeObservation,
    ],
    [
      'fw-result-success.json',
      'fwUpgradeResultNotify',
      {
        ...UPGRADE,
        kind: UpgradeKind.FIRMWARE,
        task: FW_TASK,
        target: FW_TARGET,
        status: UpgradeStatus.SUCCEEDED,
        vendorStatus: 'SUCCESS',
        statusDesc: 'SUCCESS: The device upgrade is successful.',
        currentVersion: '1.6',
        targetVersion: '1.6',
        sourceVersion: '1.3',
        upgradeTime: '120',
      } as UpgradeObservation,
    ],
    [
      'fw-result-numeric-upgradetime.json',
      'fwUpgradeResultNotify',
      {
        ...UPGRADE,
        kind: UpgradeKind.FIRMWARE,
        task: FW_TASK,
        target: FW_TARGET,
        status: UpgradeStatus.SUCCEEDED,
        vendorStatus: 'SUCCESS',
        statusDesc: 'SUCCESS: The device upgrade is successful.',
        currentVersion: '1.6',
        targetVersion: '1.6',
        sourceVersion: '1.3',
        upgradeTime: '120',
      } as UpgradeObservation,
    ],
    [
      'fw-result-uppercase-status.json',
      'fwUpgradeResultNotify',
      {
        ...UPGRADE,
        kind: UpgradeKind.FIRMWARE,
        task: FW_TASK,
        target: FW_TARGET,
        status: UpgradeStatus.FAILED,
        vendorStatus: 'FAIL',
        statusDesc: 'FAIL: The device upgrade failed.',
        currentVersion: '1.3',
        targetVersion: '1.6',
        sourceVersion: '1.3',
        upgradeTime: '30',
      } as UpgradeObservation,
    ],
    [
      'sw-state-downloaded.json',
      'swUpgradeStateChangeNotify',
      { ...UPGRADE, kind: UpgradeKind.SOFTWARE, task: SW_TASK, target: SW_TARGET, status: UpgradeStatus.IN_PROGRESS, vendorStatus: 'downloaded', step: 'downloaded' } as UpgradeObservation,
    ],
    [
      'sw-state-otacreated.json',
      'swUpgradeStateChangeNotify',
      { ...UPGRADE, kind: UpgradeKind.SOFTWARE, task: SW_TASK, target: SW_TARGET, status: null, vendorStatus: 'otacreated', step: null } as UpgradeObservation,
    ],
    [
      'sw-result-fail.json',
      'swUpgradeResultNotify',
      {
        ...UPGRADE,
        kind: UpgradeKind.SOFTWARE,
        task: SW_TASK,
        target: SW_TARGET,
        status: UpgradeStatus.FAILED,
        vendorStatus: 'FAIL',
        statusDesc: 'FAIL: package verify failed',
        errorCode: '7',
        currentVersion: '1.3',
        targetVersion: '1.5',
        sourceVersion: '1.0',
        upgradeTime: '95',
      } as UpgradeObservation,
    ],
    [
      'shadow-delivered.json',
      'deviceDesiredPropertiesModifyStatusChanged',
      {
        type: 'shadow',
        source: UpgradeSource.HUAWEI,
        deviceId: 'a1b2c3d4-0001',
        serviceId: 'Device',
        properties: { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': 'v1.1.0' },
        status: ShadowStatus.DELIVERED,
      },
    ],
    [
      'shadow-failed-lowercase.json',
      'deviceDesiredPropertiesModifyStatusChanged',
      {
        type: 'shadow',
        source: UpgradeSource.HUAWEI,
        deviceId: 'a1b2c3d4-0001',
        serviceId: 'Device',
        properties: { 'Firmware Version': 'v1.2.0' },
        status: ShadowStatus.FAILED,
      },
    ],
  ])('%s → %s', (file, channel, observation) => {
    const raw = fixture(file);
    const result = parse(raw);
    expect(result).toEqual({
      ok: true,
      envelope: {
        source: UpgradeSource.HUAWEI,
        channel,
        dedupeKey: expect.stringMatching(/^huawei:[0-9a-f]{64}$/),
        raw,
        receivedAt: RECEIVED_AT,
        content: { kind: 'observation', observation },
      },
    });
    // The caller's Date and text are handed on as given, not copied.
    if (result.ok) {
      expect(result.envelope.receivedAt).toBe(RECEIVED_AT);
      expect(result.envelope.raw).toBe(raw);
    }
  });
});

describe('firmware state words', () => {
  const base = fixtureBody('fw-state-downloading.json');
  const without = (body: Record<string, unknown>, ...keys: string[]) =>
    Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)));

  it.each<[string, Record<string, unknown>, UpgradeStatus | null, string | null, string | null]>([
    // [case, step/stepDesc fields, status, step, vendorStatus]
    ['downloading', { step: '1', stepDesc: 'downloading' }, UpgradeStatus.IN_PROGRESS, 'downloading', 'downloading'],
    ['downloaded', { step: '2', stepDesc: 'downloaded' }, UpgradeStatus.IN_PROGRESS, 'downloaded', 'downloaded'],
    ['updating', { step: '3', stepDesc: 'updating' }, UpgradeStatus.IN_PROGRESS, 'updating', 'updating'],
    ['idle moves nothing', { step: '0', stepDesc: 'idle' }, null, null, 'idle'],
    ['word case is ignored, kept as reported', { stepDesc: 'Updating' }, UpgradeStatus.IN_PROGRESS, 'updating', 'Updating'],
    ['stepDesc alone', { stepDesc: 'downloaded' }, UpgradeStatus.IN_PROGRESS, 'downloaded', 'downloaded'],
    ['string step alone is derived', { step: '3' }, UpgradeStatus.IN_PROGRESS, 'updating', 'updating'],
    ['numeric step alone is derived', { step: 1 }, UpgradeStatus.IN_PROGRESS, 'downloading', 'downloading'],
    ['numeric step 0 is idle', { step: 0 }, null, null, 'idle'],
    ['stepDesc wins over a disagreeing step', { step: '1', stepDesc: 'updating' }, UpgradeStatus.IN_PROGRESS, 'updating', 'updating'],
    ['unknown word is kept, moves nothing', { step: '1', stepDesc: 'verifying' }, null, null, 'verifying'],
    ['unknown step number is kept, moves nothing', { step: 7 }, null, null, '7'],
    ['null stepDesc falls back to step', { step: '2', stepDesc: null }, UpgradeStatus.IN_PROGRESS, 'downloaded', 'downloaded'],
  ])('%s', (_name, stepFields, status, step, vendorStatus) => {
    const observation = upgradeOf({ ...without(base, 'step', 'stepDesc'), ...stepFields });
    expect(observation).toMatchObject({ kind: UpgradeKind.FIRMWARE, status, step, vendorStatus });
  });
});

describe('software state words', () => {
  const base = fixtureBody('sw-state-downloaded.json');
  it.each<[string, UpgradeStatus | null, string | null]>([
    ['downloading', UpgradeStatus.IN_PROGRESS, 'downloading'],
    ['downloaded', UpgradeStatus.IN_PROGRESS, 'downloaded'],
    ['updating', UpgradeStatus.IN_PROGRESS, 'updating'],
    ['DOWNLOADING', UpgradeStatus.IN_PROGRESS, 'downloading'],
    ['idle', null, null],
    ['otacreated', null, null],
    ['RequestDownload', null, null],
  ])('%s → status %s, step %s', (word, status, step) => {
    expect(upgradeOf({ ...base, swUpgradeState: word })).toMatchObject({
      kind: UpgradeKind.SOFTWARE,
      status,
      step,
      vendorStatus: word,
    });
  });
});

describe('result words', () => {
  it.each<[string, UpgradeStatus | null]>([
    ['SUCCESS', UpgradeStatus.SUCCEEDED],
    ['FAIL', UpgradeStatus.FAILED],
    ['success', UpgradeStatus.SUCCEEDED],
    ['Fail', UpgradeStatus.FAILED],
    ['PARTIAL', null],
    ['TIMEOUT', null],
  ])('%s → %s (firmware and software, word kept)', (word, status) => {
    expect(upgradeOf({ ...fixtureBody('fw-result-success.json'), status: word })).toMatchObject({ status, vendorStatus: word });
    expect(upgradeOf({ ...fixtureBody('sw-result-fail.json'), swUpgradeResult: word })).toMatchObject({ status, vendorStatus: word });
  });

  it.each<[string, Record<string, unknown>, string | null]>([
    ['both, different', { resultDesc: 'FAIL', description: 'package verify failed' }, 'FAIL: package verify failed'],
    ['only resultDesc', { resultDesc: 'FAIL', description: undefined }, 'FAIL'],
    ['only description', { resultDesc: undefined, description: 'package verify failed' }, 'package verify failed'],
    ['both equal', { resultDesc: 'timeout', description: 'Timeout' }, 'timeout'],
    ['neither', { resultDesc: undefined, description: undefined }, null],
    ['empty strings count as absent', { resultDesc: '', description: 'disk full' }, 'disk full'],
  ])('software statusDesc: %s', (_name, descriptions, statusDesc) => {
    expect(upgradeOf({ ...fixtureBody('sw-result-fail.json'), ...descriptions }).statusDesc).toBe(statusDesc);
  });

  it('keeps a software errorCode given as a number as a string', () => {
    expect(upgradeOf({ ...fixtureBody('sw-result-fail.json'), errorCode: 120014 }).errorCode).toBe('120014');
  });

  it('leaves fields a result does not carry as null', () => {
    const body = fixtureBody('sw-result-fail.json');
    for (const key of ['curVersion', 'targetVersion', 'sourceVersion', 'upgradeTime', 'errorCode']) delete body[key];
    expect(upgradeOf(body)).toMatchObject({
      currentVersion: null,
      targetVersion: null,
      sourceVersion: null,
      upgradeTime: null,
      errorCode: null,
    });
  });
});

describe('key case and value types', () => {
  it.each<[string, Record<string, unknown>, Partial<UpgradeObservation>]>([
    ['`Status` instead of `status`', { status: undefined, Status: 'SUCCESS' }, { status: UpgradeStatus.SUCCEEDED }],
    ['upper-case keys everywhere', shuffledUpper(fixtureBody('fw-result-success.json')), { status: UpgradeStatus.SUCCEEDED, upgradeTime: '120' }],
    ['`NotifyType` and `DeviceID`', { notifyType: undefined, NotifyType: 'fwUpgradeResultNotify', deviceId: undefined, DeviceID: 'dev-9' }, { target: { kind: 'device', deviceId: 'dev-9', externalId: '5c9e0f2a7e' } }],
    ['notifyType value in another case', { notifyType: 'FWUPGRADERESULTNOTIFY' }, { status: UpgradeStatus.SUCCEEDED }],
    ['numeric ids', { deviceId: 1001, operationId: 42, subOperationId: 43, appId: 7 }, { task: { externalId: '42', appId: '7', gatewaySn: null }, target: { kind: 'device', deviceId: '1001', externalId: '43' } }],
    ['numeric versions', { curVersion: 1.6, sourceVersion: 1 }, { currentVersion: '1.6', sourceVersion: '1' }],
    ['numeric upgradeTime', { upgradeTime: 3600 }, { upgradeTime: '3600' }],
    ['absent appId', { appId: undefined }, { task: { externalId: '5c9e0f2a7d', appId: null, gatewaySn: null } }],
    ['null optional fields', { appId: null, statusDesc: null, upgradeTime: null }, { task: { externalId: '5c9e0f2a7d', appId: null, gatewaySn: null }, statusDesc: null, upgradeTime: null }],
    ['empty optional strings count as absent', { statusDesc: '', curVersion: '' }, { statusDesc: null, currentVersion: null }],
    ['the same key twice in two cases with one value', { Status: 'SUCCESS' }, { status: UpgradeStatus.SUCCEEDED }],
  ])('firmware result: %s', (_name, changes, expected) => {
    const body = { ...fixtureBody('fw-result-success.json'), ...changes };
    expect(upgradeOf(body)).toMatchObject(expected);
  });

  it('uses the canonical notifyType as channel', () => {
    expect(envelopeOf({ ...fixtureBody('sw-state-downloaded.json'), notifyType: 'SWUpgradeStateChangeNotify' }).channel).toBe(
      'swUpgradeStateChangeNotify',
    );
  });

  it('keeps shadow property keys as sent (case, spaces), while matching top-level keys in any case', () => {
    const properties = { 'Model Number': 1, modelNumber: 2, MODELNUMBER: 3, nested: { 'Inner Key': [1, { A: null }] } };
    const shadow = shadowOf({ NOTIFYTYPE: 'deviceDesiredPropertiesModifyStatusChanged', DeviceId: 'd', ServiceID: 'Device', Properties: properties, STATUS: 'Delivered' });
    expect(shadow).toEqual({ type: 'shadow', source: UpgradeSource.HUAWEI, deviceId: 'd', serviceId: 'Device', properties, status: ShadowStatus.DELIVERED });
  });

  it('accepts an empty properties object and a leading byte-order mark', () => {
    const raw = '\uFEFF' + JSON.stringify({ ...fixtureBody('shadow-delivered.json'), properties: {} });
    expect(envelopeOf(raw).raw).toBe(raw);
    expect(shadowOf(raw).properties).toEqual({});
  });

  it('accepts values at the length limits', () => {
    const observation = upgradeOf({
      ...fixtureBody('sw-result-fail.json'),
      deviceId: 'd'.repeat(HUAWEI_LIMITS.idChars),
      description: 'x'.repeat(HUAWEI_LIMITS.textChars),
      resultDesc: undefined,
    });
    expect(observation.target).toMatchObject({ deviceId: 'd'.repeat(HUAWEI_LIMITS.idChars) });
    expect(observation.statusDesc).toHaveLength(HUAWEI_LIMITS.textChars);
  });
});

describe('rejected input names the field', () => {
  const fw = fixtureBody('fw-state-downloading.json');
  const fwResult = fixtureBody('fw-result-success.json');
  const swState = fixtureBody('sw-state-downloaded.json');
  const swResult = fixtureBody('sw-result-fail.json');
  const shadow = fixtureBody('shadow-delivered.json');
  const long = (n: number) => 'a'.repeat(n + 1);

  it.each<[string, string, FieldError[]]>([
    ['empty body', '', [{ field: 'body', message: 'not valid JSON' }]],
    ['plain text', 'notifyType=fwUpgradeResultNotify', [{ field: 'body', message: 'not valid JSON' }]],
    ['truncated JSON', '{"notifyType":"fwUpgradeResultNotify"', [{ field: 'body', message: 'not valid JSON' }]],
    ['trailing garbage', '{"notifyType":"x"} x', [{ field: 'body', message: 'not valid JSON' }]],
    ['raw NUL byte', '{"notifyType":"x\u0000"}', [{ field: 'body', message: 'not valid JSON' }]],
    ['array', '[{"notifyType":"fwUpgradeResultNotify"}]', [{ field: 'body', message: 'must be a JSON object, got array' }]],
    ['null', 'null', [{ field: 'body', message: 'must be a JSON object, got null' }]],
    ['number', '42', [{ field: 'body', message: 'must be a JSON object, got number' }]],
    ['string', '"fwUpgradeResultNotify"', [{ field: 'body', message: 'must be a JSON object, got string' }]],
    ['boolean', 'true', [{ field: 'body', message: 'must be a JSON object, got boolean' }]],
    ['missing notifyType', '{"deviceId":"d"}', [{ field: 'notifyType', message: 'required' }]],
    ['null notifyType', '{"notifyType":null}', [{ field: 'notifyType', message: 'required' }]],
    ['numeric notifyType', '{"notifyType":3}', [{ field: 'notifyType', message: 'must be a string, got number' }]],
    ['object notifyType', '{"notifyType":{"a":1}}', [{ field: 'notifyType', message: 'must be a string, got object' }]],
    ['empty notifyType', '{"notifyType":"  "}', [{ field: 'notifyType', message: 'must not be empty' }]],
    ['NUL in notifyType', '{"notifyType":"fw\\u0000"}', [{ field: 'notifyType', message: 'must not contain NUL characters' }]],
  ])('%s', (_name, raw, errors) => {
    expect(errorsOf(raw)).toEqual(errors);
  });

  it('refuses a body over the size limit before parsing it', () => {
    const raw = JSON.stringify({ ...fw, pad: 'x'.repeat(HUAWEI_LIMITS.bodyChars) });
    expect(errorsOf(raw)).toEqual([{ field: 'body', message: `must be at most ${HUAWEI_LIMITS.bodyChars} characters` }]);
  });

  it('refuses a non-string raw body from an untyped caller', () => {
    const result = parseHuaweiPush(Buffer.from('{}') as unknown as string, RECEIVED_AT);
    expect(result).toEqual({ ok: false, errors: [{ field: 'body', message: 'must be text, got object' }] });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    // [case, body, fields reported, in order]
    ['fw state with only notifyType', { notifyType: 'fwUpgradeStateChangeNotify' }, ['deviceId', 'operationId', 'subOperationId', 'stepDesc']],
    ['fw result with only notifyType', { notifyType: 'fwUpgradeResultNotify' }, ['deviceId', 'operationId', 'subOperationId', 'status']],
    ['sw state with only notifyType', { notifyType: 'swUpgradeStateChangeNotify' }, ['deviceId', 'operationId', 'subOperationId', 'swUpgradeState']],
    ['sw result with only notifyType', { notifyType: 'swUpgradeResultNotify' }, ['deviceId', 'operationId', 'subOperationId', 'swUpgradeResult']],
    ['shadow with only notifyType', { notifyType: 'deviceDesiredPropertiesModifyStatusChanged' }, ['deviceId', 'serviceId', 'status', 'properties']],
    ['fw state without step and stepDesc', { ...fw, step: undefined, stepDesc: undefined }, ['stepDesc']],
    ['fw state with empty step and null stepDesc', { ...fw, step: '', stepDesc: null }, ['stepDesc']],
    ['fw state with boolean step', { ...fw, step: true, stepDesc: undefined }, ['step']],
    ['fw state with object stepDesc', { ...fw, stepDesc: { word: 'idle' } }, ['stepDesc']],
    ['ids of the wrong type', { ...fw, deviceId: true, operationId: ['5c9e'], subOperationId: { id: 1 }, appId: false }, ['deviceId', 'appId', 'operationId', 'subOperationId']],
    ['empty ids', { ...swState, deviceId: '', operationId: ' ', subOperationId: '\t' }, ['deviceId', 'operationId', 'subOperationId']],
    ['empty appId', { ...swState, appId: '' }, ['appId']],
    ['empty required word', { ...swState, swUpgradeState: '' }, ['swUpgradeState']],
    ['null ids', { ...fwResult, deviceId: null, subOperationId: null }, ['deviceId', 'subOperationId']],
    ['NUL in ids', { ...fwResult, deviceId: 'dev\u0000', operationId: '\u0000' }, ['deviceId', 'operationId']],
    ['over-long id', { ...fwResult, subOperationId: long(HUAWEI_LIMITS.idChars) }, ['subOperationId']],
    ['over-long word', { ...fwResult, status: long(HUAWEI_LIMITS.wordChars), curVersion: long(HUAWEI_LIMITS.wordChars) }, ['status', 'curVersion']],
    ['over-long description', { ...fwResult, statusDesc: long(HUAWEI_LIMITS.textChars) }, ['statusDesc']],
    ['NUL in a description', { ...swResult, description: 'bad\u0000' }, ['description']],
    ['mistyped result fields', { ...swResult, swUpgradeResult: false, errorCode: { code: 7 }, resultDesc: ['FAIL'], upgradeTime: true }, ['swUpgradeResult', 'resultDesc', 'errorCode', 'upgradeTime']],
    ['mistyped versions', { ...fwResult, curVersion: [1, 6], targetVersion: {}, sourceVersion: false }, ['curVersion', 'targetVersion', 'sourceVersion']],
    ['conflicting spellings of one key', { ...fwResult, Status: 'FAIL' }, ['status']],
    ['shadow properties as array', { ...shadow, properties: [1, 2] }, ['properties']],
    ['shadow properties as string', { ...shadow, properties: '{"a":1}' }, ['properties']],
    ['shadow properties null', { ...shadow, properties: null }, ['properties']],
    ['shadow status unknown', { ...shadow, status: 'PENDING' }, ['status']],
    ['shadow status numeric', { ...shadow, status: 1 }, ['status']],
    ['shadow with empty ids', { ...shadow, deviceId: '', serviceId: 7 }, ['deviceId']],
    ['shadow properties with a NUL key', { ...shadow, properties: { 'a\u0000': 1 } }, ['properties']],
    ['shadow properties with a NUL value deep inside', { ...shadow, properties: { a: [{ b: 'c\u0000' }] } }, ['properties']],
    ['everything wrong in a shadow', { notifyType: 'deviceDesiredPropertiesModifyStatusChanged', deviceId: true, serviceId: '', properties: [], status: 'ok' }, ['deviceId', 'serviceId', 'status', 'properties']],
  ])('%s', (_name, body, fields) => {
    const errors = errorsOf(body);
    expect(errors.map((e) => e.field)).toEqual(fields);
    for (const error of errors) expect(error.message).toEqual(expect.any(String));
  });

  it.each<[string, unknown, string]>([
    ['missing', undefined, 'required'],
    ['boolean', true, 'must be a string or a number, got boolean'],
    ['object', { a: 1 }, 'must be a string or a number, got object'],
    ['array', ['a'], 'must be a string or a number, got array'],
    ['empty', '', 'must not be empty'],
    ['too long', 'x'.repeat(HUAWEI_LIMITS.idChars + 1), `must be at most ${HUAWEI_LIMITS.idChars} characters`],
    ['with NUL', 'a\u0000b', 'must not contain NUL characters'],
  ])('deviceId %s', (_name, deviceId, message) => {
    expect(errorsOf({ ...swState, deviceId })).toEqual([{ field: 'deviceId', message }]);
  });

  it('explains why properties were refused', () => {
    expect(errorsOf({ ...shadow, properties: [] })).toEqual([{ field: 'properties', message: 'must be a JSON object, got array' }]);
    expect(errorsOf({ ...shadow, status: 'sent' })).toEqual([{ field: 'status', message: 'must be DELIVERED or FAILED' }]);
  });
});

describe('unknown notifyType', () => {
  it('is ok, unhandled, never deduplicated', () => {
    const raw = fixture('unknown-device-data-changed.json');
    expect(parse(raw)).toEqual({
      ok: true,
      envelope: {
        source: UpgradeSource.HUAWEI,
        channel: 'deviceDataChanged',
        dedupeKey: null,
        raw,
        receivedAt: RECEIVED_AT,
        content: { kind: 'unhandled', reason: 'unhandled notifyType deviceDataChanged' },
      },
    });
  });

  it('needs no other field and ignores broken ones', () => {
    expect(envelopeOf({ notifyType: 'commandRsp', deviceId: true }).content).toEqual({
      kind: 'unhandled',
      reason: 'unhandled notifyType commandRsp',
    });
  });

  it('cuts a long notifyType to 64 characters, without splitting a surrogate pair', () => {
    const long = 'x'.repeat(100);
    expect(envelopeOf({ notifyType: long }).channel).toBe('x'.repeat(HUAWEI_LIMITS.channelChars));
    const emoji = 'y'.repeat(HUAWEI_LIMITS.channelChars - 1) + '😀tail';
    expect(envelopeOf({ notifyType: emoji }).channel).toBe('y'.repeat(HUAWEI_LIMITS.channelChars - 1));
    const envelope = envelopeOf({ notifyType: 'z'.repeat(200_000) });
    expect(envelope.channel).toHaveLength(HUAWEI_LIMITS.channelChars);
    expect(envelope.content).toEqual({ kind: 'unhandled', reason: `unhandled notifyType ${'z'.repeat(HUAWEI_LIMITS.channelChars)}` });
  });

  it('rejects conflicting spellings of notifyType rather than picking one', () => {
    expect(errorsOf('{"notifyType":"deviceDataChanged","NOTIFYTYPE":"fwUpgradeResultNotify"}')).toEqual([
      { field: 'notifyType', message: expect.stringContaining('more than once') },
    ]);
  });
});

describe('dedupe key', () => {
  const FILES = [
    'fw-state-downloading.json',
    'fw-result-success.json',
    'sw-state-downloaded.json',
    'sw-result-fail.json',
    'shadow-delivered.json',
  ];

  it.each(FILES)('%s: a re-push gives the same key', (file) => {
    expect(keyOf(fixture(file))).toBe(keyOf(fixture(file)));
    expect(keyOf(fixture(file))).toMatch(/^huawei:[0-9a-f]{64}$/);
  });

  it.each(FILES)('%s: key order, key case, whitespace and unknown keys do not change the key', (file) => {
    const body = fixtureBody(file);
    const expected = keyOf(body);
    expect(keyOf(shuffledUpper(body))).toBe(expected);
    expect(keyOf(JSON.stringify(body, null, 2))).toBe(expected);
    expect(keyOf({ ...body, somethingElse: 1 })).toBe(expected);
  });

  it('treats a number and its string as the same value', () => {
    const fw = fixtureBody('fw-state-downloading.json');
    expect(keyOf({ ...fw, step: 1 })).toBe(keyOf({ ...fw, step: '1' }));
    const sw = fixtureBody('sw-result-fail.json');
    expect(keyOf({ ...sw, upgradeTime: 95 })).toBe(keyOf({ ...sw, upgradeTime: '95' }));
  });

  it('ignores the order of shadow property keys, at every depth', () => {
    const shadow = fixtureBody('shadow-delivered.json');
    expect(keyOf({ ...shadow, properties: { a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] } } })).toBe(
      keyOf({ ...shadow, properties: { b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1 } }),
    );
  });

  const changes: [string, string, unknown][] = [
    ['fw-state-downloading.json', 'deviceId', 'other'],
    ['fw-state-downloading.json', 'appId', 'other'],
    ['fw-state-downloading.json', 'operationId', 'other'],
    ['fw-state-downloading.json', 'subOperationId', 'other'],
    ['fw-state-downloading.json', 'step', '2'],
    ['fw-state-downloading.json', 'stepDesc', 'downloaded'],
    ['fw-state-downloading.json', 'stepDesc', 'Downloading'],
    ['fw-result-success.json', 'status', 'FAIL'],
    ['fw-result-success.json', 'statusDesc', 'other'],
    ['fw-result-success.json', 'curVersion', '1.5'],
    ['fw-result-success.json', 'targetVersion', '1.7'],
    ['fw-result-success.json', 'sourceVersion', '1.2'],
    ['fw-result-success.json', 'upgradeTime', '121'],
    ['fw-result-success.json', 'upgradeTime', undefined],
    ['sw-state-downloaded.json', 'swUpgradeState', 'updating'],
    ['sw-result-fail.json', 'swUpgradeResult', 'SUCCESS'],
    ['sw-result-fail.json', 'resultDesc', 'other'],
    ['sw-result-fail.json', 'errorCode', '8'],
    ['sw-result-fail.json', 'description', 'other'],
    ['sw-result-fail.json', 'curVersion', '1.5'],
    ['sw-result-fail.json', 'upgradeTime', 96],
    ['shadow-delivered.json', 'deviceId', 'other'],
    ['shadow-delivered.json', 'serviceId', 'Other'],
    ['shadow-delivered.json', 'status', 'FAILED'],
    ['shadow-delivered.json', 'properties', { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': 'v1.1.1' }],
    ['shadow-delivered.json', 'properties', { 'model number': 1, 'Serial Number': 2, 'Firmware Version': 'v1.1.0' }],
  ];
  it.each(changes)('%s: a different %s (%p) gives a different key', (file, field, value) => {
    const body = fixtureBody(file);
    expect(keyOf({ ...body, [field]: value })).not.toBe(keyOf(body));
  });

  it('differs between types that share every other field', () => {
    const body = fixtureBody('sw-result-fail.json');
    expect(keyOf({ ...body, notifyType: 'fwUpgradeResultNotify', status: 'FAIL' })).not.toBe(keyOf(body));
  });

  it('differs when a value moves from one field to another', () => {
    const body = fixtureBody('sw-result-fail.json');
    expect(keyOf({ ...body, resultDesc: 'x', description: 'y' })).not.toBe(keyOf({ ...body, resultDesc: 'y', description: 'x' }));
    expect(keyOf({ ...body, resultDesc: 'x', description: undefined })).not.toBe(keyOf({ ...body, resultDesc: undefined, description: 'x' }));
  });
});

describe('hostile input', () => {
  it('ignores prototype-pollution keys at the top level', () => {
    const raw = `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${fixture('sw-state-downloaded.json').trim().slice(1)}`;
    expect(upgradeOf(raw).status).toBe(UpgradeStatus.IN_PROGRESS);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps "__proto__" inside properties as a plain own key', () => {
    const raw = '{"notifyType":"deviceDesiredPropertiesModifyStatusChanged","deviceId":"d","serviceId":"s","status":"DELIVERED","properties":{"__proto__":{"polluted":"yes"},"a":1}}';
    const { properties } = shadowOf(raw);
    expect(Object.prototype.hasOwnProperty.call(properties, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The key takes part in the dedupe key like any other.
    expect(keyOf(raw)).not.toBe(keyOf(raw.replace('"polluted":"yes"', '"polluted":"no"')));
  });

  it('does not take a "__proto__" key for a known field', () => {
    expect(errorsOf('{"notifyType":"swUpgradeStateChangeNotify","__proto__":{"deviceId":"d","operationId":"o","subOperationId":"s","swUpgradeState":"idle"}}').map((e) => e.field)).toEqual([
      'deviceId',
      'operationId',
      'subOperationId',
      'swUpgradeState',
    ]);
  });

  it('survives deep nesting anywhere', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(errorsOf(deep(100_000))).toEqual([{ field: 'body', message: 'must be a JSON object, got array' }]);
    expect(envelopeOf(`{"notifyType":"deviceDataChanged","data":${deep(100_000)}}`).content.kind).toBe('unhandled');
    const shadowRaw = (n: number) =>
      `{"notifyType":"deviceDesiredPropertiesModifyStatusChanged","deviceId":"d","serviceId":"s","status":"DELIVERED","properties":{"a":${deep(n)}}}`;
    expect(errorsOf(shadowRaw(100_000))).toEqual([{ field: 'properties', message: expect.stringContaining('nested deeper') }]);
    // The object is level 1, so an array chain of depth-1 levels is the most accepted.
    expect(shadowOf(shadowRaw(HUAWEI_LIMITS.propertiesDepth - 1)).status).toBe(ShadowStatus.DELIVERED);
    expect(errorsOf(shadowRaw(HUAWEI_LIMITS.propertiesDepth))[0]?.field).toBe('properties');
  });

  it('survives deeply nested conflicting spellings of a key', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const raw = `{"notifyType":"deviceDesiredPropertiesModifyStatusChanged","deviceId":"d","serviceId":"s","status":"DELIVERED","properties":{"a":${deep(50_000)}},"PROPERTIES":{"a":${deep(50_000)}}}`;
    expect(errorsOf(raw).map((e) => e.field)).toContain('properties');
  });

  it('survives a huge string value', () => {
    const result = parse(JSON.stringify({ ...fixtureBody('fw-result-success.json'), statusDesc: 'x'.repeat(HUAWEI_LIMITS.bodyChars - 1000) }));
    expect(result).toEqual({ ok: false, errors: [{ field: 'statusDesc', message: expect.stringContaining('at most') }] });
  });

  it('keeps lone surrogates without failing', () => {
    const body = { ...fixtureBody('sw-result-fail.json'), description: 'bad \ud800 half' };
    expect(upgradeOf(body).statusDesc).toBe('FAIL: bad \ud800 half');
    expect(keyOf(body)).not.toBe(keyOf({ ...body, description: 'bad \udc00 half' }));
  });
});

describe('properties (fast-check)', () => {
  /** Checks the contract every result must meet, whatever the input. */
  function assertWellFormed(raw: string, result: HuaweiParseResult): void {
    if (result.ok) {
      const { envelope } = result;
      expect(envelope.source).toBe(UpgradeSource.HUAWEI);
      expect(envelope.raw).toBe(raw);
      expect(envelope.receivedAt).toBe(RECEIVED_AT);
      expect(envelope.channel.length).toBeGreaterThan(0);
      expect(envelope.channel.length).toBeLessThanOrEqual(HUAWEI_LIMITS.channelChars);
      if (envelope.content.kind === 'observation') expect(envelope.dedupeKey).toMatch(/^huawei:[0-9a-f]{64}$/);
      else expect(envelope.dedupeKey).toBeNull();
    } else {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const error of result.errors) {
        expect(error.field.length).toBeGreaterThan(0);
        expect(error.message.length).toBeGreaterThan(0);
        expect(error.message.startsWith(UNEXPECTED_FAILURE)).toBe(false);
      }
      expect(new Set(result.errors.map((e) => e.field)).size).toBe(result.errors.length);
    }
  }

  function check(raw: string): void {
    let result: HuaweiParseResult | undefined;
    expect(() => {
      result = parseHuaweiPush(raw, RECEIVED_AT);
    }).not.toThrow();
    assertWellFormed(raw, result!);
  }

  /** Any case spelling of a key. */
  const anyCase = (key: string) =>
    fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((upper) =>
      [...key].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
    );
  const KNOWN_KEYS = [
    'notifyType', 'deviceId', 'appId', 'operationId', 'subOperationId', 'serviceId', 'step', 'stepDesc', 'status',
    'swUpgradeState', 'swUpgradeResult', 'statusDesc', 'resultDesc', 'errorCode', 'description', 'curVersion',
    'targetVersion', 'sourceVersion', 'upgradeTime', 'properties', '__proto__', 'constructor',
  ];
  const keyArb = fc.oneof(fc.constantFrom(...KNOWN_KEYS).chain(anyCase), fc.string());
  const valueArb = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(...HUAWEI_NOTIFY_TYPES, 'SUCCESS', 'FAIL', 'DELIVERED', 'idle', 'downloading', '', '\u0000'),
    fc.integer(),
    fc.string({ unit: 'binary' }),
  );
  /** Objects made mostly of the keys the parser reads, with arbitrary values. */
  const pushLike = fc
    .tuple(
      fc.constantFrom(...HUAWEI_NOTIFY_TYPES, 'deviceDataChanged'),
      fc.dictionary(keyArb, valueArb, { maxKeys: 25 }),
    )
    .map(([notifyType, rest]) => JSON.stringify({ notifyType, ...rest }));

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), check), { numRuns: 500 });
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.json(), check), { numRuns: 500 });
  });

  it('never throws on push-shaped objects with arbitrary values', () => {
    fc.assert(fc.property(pushLike, check), { numRuns: 1000 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives the same dedupe key whatever the key order and case', () => {
    const id = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '' && !s.includes('\u0000')), fc.integer());
    const word = fc.oneof(fc.constantFrom('SUCCESS', 'FAIL', 'other'), fc.integer());
    const body = fc.record({
      notifyType: fc.constantFrom('fwUpgradeResultNotify', 'swUpgradeResultNotify'),
      deviceId: id,
      operationId: id,
      subOperationId: id,
      status: word,
      swUpgradeResult: word,
      upgradeTime: fc.oneof(fc.integer({ min: 0 }), fc.constant(null)),
      errorCode: fc.option(id, { nil: undefined }),
    });
    fc.assert(
      fc.property(body, fc.infiniteStream(fc.boolean()), (b, coins) => {
        const entries = Object.entries(b).filter(([, v]) => v !== undefined);
        const shuffled = [...entries].sort(() => (coins.next().value ? 1 : -1));
        const recased = shuffled.map(([k, v]) => [coins.next().value ? k.toUpperCase() : k, v] as const);
        expect(keyOf(Object.fromEntries(recased))).toBe(keyOf(b));
      }),
      { numRuns: 300 },
    );
  });
});
