import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FirmwareUpgradeType, UpgradeKind, UpgradeSource, UpgradeStatus, type UpgradeObservation } from '../src/domain';
import {
  DJI_SUBSCRIPTIONS,
  MAX_PAYLOAD_BYTES,
  buildEventsReply,
  buildOtaCreate,
  djiStatus,
  eventsReplyTopic,
  parseDjiMessage,
  parseTopic,
  servicesTopic,
  validateFirmwareUpgradeInput,
  type DjiInbound,
  type OtaCreateDevice,
} from '../src/ingest/dji/protocol';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

interface Fixture {
  topic: string;
  payload: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', 'dji', `${name}.json`), 'utf8')) as Fixture;
}

const SN = '7CTDM1234567';
const EVENTS = `thing/product/${SN}/events`;
const SERVICES_REPLY = `thing/product/${SN}/services_reply`;
const RECEIVED_AT = new Date('2024-01-01T00:00:00.000Z');
const NOW = 1_700_000_099_999;

function parse(topic: string, payload: unknown): DjiInbound {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  return parseDjiMessage(topic, bytes, RECEIVED_AT, () => NOW);
}

function parseFixture(name: string, patch: (payload: Record<string, unknown>) => void = () => {}): DjiInbound {
  const f = fixture(name);
  patch(f.payload);
  return parse(f.topic, f.payload);
}

function observationOf(result: DjiInbound): UpgradeObservation {
  const { content } = result.envelope;
  if (content.kind !== 'observation') throw new Error(`expected an observation, got ${content.kind}: ${content.reason}`);
  if (content.observation.type !== 'upgrade') throw new Error('expected an upgrade observation');
  return content.observation;
}

function rejectionOf(result: DjiInbound): string {
  const { content } = result.envelope;
  if (content.kind !== 'rejected') throw new Error(`expected a rejection, got ${content.kind}`);
  return content.reason;
}

/** A minimal well-formed ota_progress with `data.output` replaced. */
function progress(output: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { tid: 't-1', bid: 'b-1', timestamp: 1700000012000, method: 'ota_progress', data: { result: 0, output }, ...extra };
}

// ---------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------

describe('topics', () => {
  it('subscribes to events, services_reply, status and state of every device', () => {
    expect(DJI_SUBSCRIPTIONS).toEqual(['thing/product/+/events', 'thing/product/+/services_reply', 'sys/product/+/status', 'thing/product/+/state']);
  });

  it('builds the services and events_reply topics', () => {
    expect(servicesTopic(SN)).toBe('thing/product/7CTDM1234567/services');
    expect(eventsReplyTopic(SN)).toBe('thing/product/7CTDM1234567/events_reply');
  });

  it.each(['', ' ', 'a/b', 'a+', '#', 'a\u0000b', 'x'.repeat(65)])('refuses to build a topic for SN %j', (sn) => {
    expect(() => servicesTopic(sn)).toThrow(RangeError);
    expect(() => eventsReplyTopic(sn)).toThrow(RangeError);
  });

  it.each([
    ['thing/product/7CTDM1234567/events', { gatewaySn: SN, kind: 'events' }],
    ['thing/product/7CTDM1234567/services_reply', { gatewaySn: SN, kind: 'services_reply' }],
    ['$share/gw/thing/product/7CTDM1234567/events', { gatewaySn: SN, kind: 'events' }],
    ['$share/ota-gateway/thing/product/7CTDM1234567/services_reply', { gatewaySn: SN, kind: 'services_reply' }],
    ['thing/product/' + 'x'.repeat(64) + '/events', { gatewaySn: 'x'.repeat(64), kind: 'events' }],
  ])('parses %s', (topic, expected) => {
    expect(parseTopic(topic)).toEqual(expected);
  });

  it.each([
    'thing/product/7CTDM1234567/services',
    'thing/product/7CTDM1234567/events_reply',
    'thing/product/7CTDM1234567/osd',
    'sys/product/7CTDM1234567/status_reply',
    'sys/product/7CTDM1234567/events',
    'thing/product/7CTDM1234567/status',
    'thing/product//events',
    'thing/product/ /events',
    'thing/product/a/b/events',
    'thing/product/+/events',
    'thing/product/#/events',
    'thing/product/' + 'x'.repeat(65) + '/events',
    'thing/device/7CTDM1234567/events',
    '/thing/product/7CTDM1234567/events',
    'thing/product/7CTDM1234567/events/',
    '$share//thing/product/7CTDM1234567/events',
    '$share/gw',
    '$queue/thing/product/7CTDM1234567/events',
    '',
  ])('returns null for %j', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// ota_progress
// ---------------------------------------------------------------------------

describe('ota_progress', () => {
  it('builds the full envelope for the current-docs shape', () => {
    const f = fixture('ota-progress-current-step-string');
    const result = parse(f.topic, f.payload);
    expect(result.envelope).toEqual({
      source: UpgradeSource.DJI,
      channel: 'ota_progress',
      dedupeKey: 'dji:7CTDM1234567:event:tid-progress-0001',
      raw: JSON.stringify(f.payload),
      receivedAt: RECEIVED_AT,
      content: {
        kind: 'observation',
        observation: {
          type: 'upgrade',
          source: UpgradeSource.DJI,
          kind: UpgradeKind.FIRMWARE,
          task: { externalId: 'bid-ota-0001', gatewaySn: SN },
          target: { kind: 'allDevices', fallbackDeviceId: SN },
          status: UpgradeStatus.IN_PROGRESS,
          occurredAt: new Date(1700000012000),
          vendorStatus: 'in_progress',
          subStatus: null,
          step: 'download_firmware',
          percent: 37,
          errorCode: null,
        },
      },
    });
    expect(result.reply).toEqual({
      topic: 'thing/product/7CTDM1234567/events_reply',
      payload: '{"tid":"tid-progress-0001","bid":"bid-ota-0001","timestamp":1700000099999,"method":"ota_progress","data":{"result":0}}',
    });
  });

  it.each([
    ['ota-progress-current-step-string', 'download_firmware'],
    ['ota-progress-step-key', 'download_firmware'],
    ['ota-progress-current-step-int', 'upgrade_firmware'],
    ['ota-progress-ok', 'upgrade_firmware'],
    ['ota-progress-failed', 'upgrade_firmware'],
  ])('reads the step from %s', (name, step) => {
    expect(observationOf(parseFixture(name)).step).toBe(step);
  });

  it.each<[string, unknown, string | null]>([
    ['current_step 1', { current_step: 1 }, 'download_firmware'],
    ['current_step 2', { current_step: 2 }, 'upgrade_firmware'],
    ['unknown current_step kept', { current_step: 7 }, '7'],
    ['unknown step_key kept', { step_key: 'verify_firmware' }, 'verify_firmware'],
    ['step words matched case-insensitively', { step_key: 'Upgrade_Firmware' }, 'upgrade_firmware'],
    ['empty step_key is not reported', { step_key: '' }, null],
    ['step_key wins over current_step', { step_key: 'upgrade_firmware', current_step: 1 }, 'upgrade_firmware'],
    ['empty step_key falls back to current_step', { step_key: '', current_step: 2 }, 'upgrade_firmware'],
    ["the vendor doc's integer step as last resort", { step: 1 }, 'download_firmware'],
    ['no step at all', {}, null],
  ])('step: %s', (_name, progressFields, step) => {
    expect(observationOf(parse(EVENTS, progress({ status: 'in_progress', progress: progressFields }))).step).toBe(step);
  });

  it('reads the vendor doc example (step, step_key, sub_status) and keeps sub_status', () => {
    const doc = {
      bid: '8ca0ffa2-5e72-4078-8fa9-dc68216ff5d1',
      data: { output: { progress: { percent: 0, step: 1, step_key: 'download_firmware' }, status: 'failed', sub_status: 'DOWNLOAD_FAILED' }, result: 0 },
      tid: '74045eba-bd24-4106-b455-d3577f3cbf52',
      timestamp: 1707048089244,
      method: 'ota_progress',
    };
    expect(observationOf(parse(EVENTS, doc))).toMatchObject({
      status: UpgradeStatus.FAILED,
      vendorStatus: 'failed',
      subStatus: 'DOWNLOAD_FAILED',
      step: 'download_firmware',
      percent: 0,
      errorCode: null,
    });
  });

  it.each<[string, UpgradeStatus]>([
    ['sent', UpgradeStatus.SENT],
    ['in_progress', UpgradeStatus.IN_PROGRESS],
    ['paused', UpgradeStatus.PAUSED],
    ['ok', UpgradeStatus.SUCCEEDED],
    ['failed', UpgradeStatus.FAILED],
    ['canceled', UpgradeStatus.CANCELED],
    ['rejected', UpgradeStatus.REJECTED],
    ['timeout', UpgradeStatus.TIMED_OUT],
    ['IN_PROGRESS', UpgradeStatus.IN_PROGRESS],
    ['Ok', UpgradeStatus.SUCCEEDED],
  ])('maps status %s to %s', (word, status) => {
    expect(djiStatus(word)).toBe(status);
    const obs = observationOf(parse(EVENTS, progress({ status: word })));
    expect(obs.status).toBe(status);
    expect(obs.vendorStatus).toBe(word);
  });

  it.each(['verifying_psdk', 'cancelled', 'success', '__proto__', 'constructor', 'toString'])(
    'keeps the unknown status %j without a status, never rejecting',
    (word) => {
      expect(djiStatus(word)).toBeNull();
      const obs = observationOf(parse(EVENTS, progress({ status: word, progress: { percent: 5 } })));
      expect(obs.status).toBeNull();
      expect(obs.vendorStatus).toBe(word);
      expect(obs.percent).toBe(5);
    },
  );

  it('keeps the unknown-status fixture as an observation with no status', () => {
    const result = parseFixture('ota-progress-unknown-status');
    expect(observationOf(result)).toMatchObject({ status: null, vendorStatus: 'verifying_psdk', subStatus: 'VERIFY', percent: 50 });
    expect(result.reply).not.toBeNull();
  });

  it.each([
    ['no output', undefined],
    ['null output', null],
    ['output without status', { progress: { percent: 3 } }],
    ['empty status', { status: '' }],
  ])('reports no status for %s', (_name, output) => {
    const obs = observationOf(parse(EVENTS, progress(output)));
    expect(obs.status).toBeNull();
    expect(obs.vendorStatus).toBeNull();
  });

  it.each<[unknown, number | null]>([
    [37, 37],
    [0, 0],
    [100, 100],
    [-5, 0],
    [150, 100],
    [37.4, 37],
    [37.6, 38],
    ['42', 42],
    [' 42.5 ', 43],
    [null, null],
    [undefined, null],
  ])('clamps percent %j to %j', (percent, expected) => {
    expect(observationOf(parse(EVENTS, progress({ status: 'in_progress', progress: { percent } }))).percent).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, Date | null]>([
    ['number', { timestamp: 1700000012000 }, new Date(1700000012000)],
    ['numeric string', { timestamp: '1700000012000' }, new Date(1700000012000)],
    ['numeric string with spaces', { timestamp: ' 1700000012000 ' }, new Date(1700000012000)],
    ['fractional number', { timestamp: 1700000012000.7 }, new Date(1700000012000)],
    ["the doc typo key 'timestamp:'", { 'timestamp:': 1700000012000 }, new Date(1700000012000)],
    ["the doc typo key as a string", { 'timestamp:': '1700000012000' }, new Date(1700000012000)],
    ['upper-case key', { TimeStamp: 1700000012000 }, new Date(1700000012000)],
    ['typo key used when the real one is unusable', { timestamp: 'soon', 'timestamp:': 1700000012000 }, new Date(1700000012000)],
    ['missing', {}, null],
    ['null', { timestamp: null }, null],
    ['non-numeric string', { timestamp: 'yesterday' }, null],
    ['ISO string', { timestamp: '2024-01-01T00:00:00Z' }, null],
    ['zero', { timestamp: 0 }, null],
    ['negative', { timestamp: -1 }, null],
    ['beyond the Date range', { timestamp: 1e20 }, null],
    ['object', { timestamp: { ms: 1 } }, null],
    ['boolean', { timestamp: true }, null],
  ])('timestamp: %s', (_name, fields, occurredAt) => {
    const payload = progress({ status: 'in_progress' });
    delete payload.timestamp;
    const obs = observationOf(parse(EVENTS, { ...payload, ...fields }));
    expect(obs.occurredAt).toEqual(occurredAt);
  });

  it.each<[string, Record<string, unknown>, string | null]>([
    ['result non-zero', { result: 312022 }, '312022'],
    ['result as a numeric string', { result: '312022' }, '312022'],
    ['negative result', { result: -1 }, '-1'],
    ['result zero', { result: 0 }, null],
    ['no result', {}, null],
    ['step_result when result is 0', { result: 0, output: { status: 'failed', progress: { step_result: 4 } } }, '4'],
    ['step_result when result is missing', { output: { status: 'failed', progress: { step_result: 4 } } }, '4'],
    ['result wins over step_result', { result: 312022, output: { status: 'failed', progress: { step_result: 4 } } }, '312022'],
    ['step_result zero', { result: 0, output: { status: 'ok', progress: { step_result: 0 } } }, null],
  ])('errorCode: %s', (_name, data, errorCode) => {
    const payload = { ...progress(null), data: { output: { status: 'failed' }, ...data } };
    expect(observationOf(parse(EVENTS, payload)).errorCode).toBe(errorCode);
  });

  it('reads the failure fixture', () => {
    const result = parseFixture('ota-progress-failed');
    expect(observationOf(result)).toMatchObject({
      status: UpgradeStatus.FAILED,
      vendorStatus: 'failed',
      errorCode: '312022',
      percent: 0,
      occurredAt: new Date(1700000400000),
    });
    expect(result.reply).toBeNull(); // no need_reply in this fixture
  });

  it('reads the success fixture', () => {
    expect(observationOf(parseFixture('ota-progress-ok'))).toMatchObject({
      status: UpgradeStatus.SUCCEEDED,
      vendorStatus: 'ok',
      subStatus: 'UPGRADE_SUCCESS',
      percent: 100,
    });
  });

  it('takes the gateway from the topic, not the payload', () => {
    const result = parse('thing/product/OTHER-DOCK/events', progress({ status: 'ok' }, { gateway: SN }));
    const obs = observationOf(result);
    expect(obs.task).toEqual({ externalId: 'b-1', gatewaySn: 'OTHER-DOCK' });
    expect(obs.target).toEqual({ kind: 'allDevices', fallbackDeviceId: 'OTHER-DOCK' });
    expect(result.envelope.dedupeKey).toBe('dji:OTHER-DOCK:event:t-1');
  });

  it('accepts a $share-prefixed topic', () => {
    const result = parse(`$share/gw/${EVENTS}`, progress({ status: 'ok' }, { need_reply: 1 }));
    expect(observationOf(result).task.gatewaySn).toBe(SN);
    expect(result.reply?.topic).toBe('thing/product/7CTDM1234567/events_reply');
  });

  it('matches keys case-insensitively at every level', () => {
    const payload = {
      TID: 't-9',
      Bid: 'b-9',
      Method: 'ota_progress',
      TIMESTAMP: 1700000012000,
      Need_Reply: 1,
      Data: { Result: 0, OUTPUT: { Status: 'in_progress', Sub_Status: 'DOWNLOADING', Progress: { Percent: 12, Step_Key: 'download_firmware' } } },
    };
    const result = parse(EVENTS, payload);
    expect(observationOf(result)).toMatchObject({
      task: { externalId: 'b-9', gatewaySn: SN },
      status: UpgradeStatus.IN_PROGRESS,
      subStatus: 'DOWNLOADING',
      percent: 12,
      step: 'download_firmware',
      occurredAt: new Date(1700000012000),
    });
    expect(result.envelope.dedupeKey).toBe('dji:7CTDM1234567:event:t-9');
    expect(JSON.parse(result.reply!.payload)).toMatchObject({ tid: 't-9', bid: 'b-9', method: 'ota_progress' });
  });

  it('prefers the exact lowercase key when several casings are present', () => {
    const obs = observationOf(parse(EVENTS, { BID: 'upper', bid: 'lower', Bid: 'mixed', tid: 't', method: 'ota_progress', data: {} }));
    expect(obs.task.externalId).toBe('lower');
  });

  it('treats __proto__ keys as plain data and pollutes nothing', () => {
    const text =
      '{"__proto__":{"polluted":true,"bid":"evil"},"tid":"t","bid":"b","method":"ota_progress",' +
      '"data":{"__proto__":{"result":5},"output":{"__proto__":{"status":"ok"},"status":"in_progress"}}}';
    const obs = observationOf(parse(EVENTS, text));
    expect(obs.task.externalId).toBe('b');
    expect(obs.status).toBe(UpgradeStatus.IN_PROGRESS);
    expect(obs.errorCode).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ignores unknown fields (ext.rate, gateway, extra keys)', () => {
    const obs = observationOf(parse(EVENTS, progress({ status: 'in_progress', progress: { percent: 1 }, ext: { rate: 1048576 } }, { extra: [1, 2] })));
    expect(obs.percent).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// need_reply and events_reply
// ---------------------------------------------------------------------------

describe('events_reply', () => {
  it.each<[unknown, boolean]>([
    [1, true],
    ['1', true],
    [true, true],
    [0, false],
    ['0', false],
    [false, false],
    [2, false],
    ['true', false],
    [null, false],
    [undefined, false],
  ])('need_reply %j → reply %s', (needReply, replies) => {
    const result = parse(EVENTS, progress({ status: 'in_progress' }, { need_reply: needReply }));
    expect(result.reply !== null).toBe(replies);
  });

  it('has the exact DJI shape and our clock', () => {
    const result = parse(EVENTS, progress({ status: 'in_progress' }, { need_reply: 1, gateway: SN }));
    expect(result.reply?.topic).toBe('thing/product/7CTDM1234567/events_reply');
    expect(result.reply?.payload).toBe('{"tid":"t-1","bid":"b-1","timestamp":1700000099999,"method":"ota_progress","data":{"result":0}}');
  });

  it('uses Date.now when no clock is given', () => {
    const before = Date.now();
    const result = parseDjiMessage(EVENTS, Buffer.from(JSON.stringify(progress({}, { need_reply: 1 }))), RECEIVED_AT);
    const { timestamp } = JSON.parse(result.reply!.payload) as { timestamp: number };
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('survives a broken clock', () => {
    const result = parseDjiMessage(EVENTS, Buffer.from(JSON.stringify(progress({}, { need_reply: 1 }))), RECEIVED_AT, () => {
      throw new Error('clock');
    });
    expect(Number.isInteger(JSON.parse(result.reply!.payload).timestamp)).toBe(true);
  });

  it('replies to a message it rejects, as long as tid, bid and need_reply are there', () => {
    const result = parse(EVENTS, progress('not an object', { need_reply: 1 }));
    expect(rejectionOf(result)).toMatch(/data\.output/);
    expect(JSON.parse(result.reply!.payload)).toEqual({ tid: 't-1', bid: 'b-1', timestamp: NOW, method: 'ota_progress', data: { result: 0 } });
  });

  it('replies without a method when the event had none', () => {
    const result = parse(EVENTS, { tid: 't', bid: 'b', need_reply: 1, data: {} });
    expect(rejectionOf(result)).toMatch(/method is missing/);
    expect(result.envelope.channel).toBe('events');
    expect(result.reply?.payload).toBe(`{"tid":"t","bid":"b","timestamp":${NOW},"data":{"result":0}}`);
  });

  it.each([
    ['tid missing', { bid: 'b', method: 'ota_progress', need_reply: 1 }],
    ['bid missing', { tid: 't', method: 'ota_progress', need_reply: 1 }],
    ['tid empty', { tid: '', bid: 'b', method: 'ota_progress', need_reply: 1 }],
    ['tid a number', { tid: 5, bid: 'b', method: 'ota_progress', need_reply: 1 }],
  ])('cannot reply when %s', (_name, payload) => {
    const result = parse(EVENTS, payload);
    rejectionOf(result);
    expect(result.reply).toBeNull();
  });

  it('never replies on services_reply', () => {
    const result = parse(SERVICES_REPLY, { ...fixture('services-reply-ok').payload, need_reply: 1 });
    observationOf(result);
    expect(result.reply).toBeNull();
  });

  it('replies to an unhandled event', () => {
    const result = parse(EVENTS, { tid: 't', bid: 'b', method: 'hms', need_reply: 1, data: { list: [] } });
    expect(JSON.parse(result.reply!.payload)).toMatchObject({ method: 'hms', data: { result: 0 } });
  });

  it('buildEventsReply keeps DJI key order', () => {
    expect(buildEventsReply({ tid: 'a', bid: 'b', method: 'm', timestamp: 1 })).toBe('{"tid":"a","bid":"b","timestamp":1,"method":"m","data":{"result":0}}');
  });
});

// ---------------------------------------------------------------------------
// services_reply (ota_create)
// ---------------------------------------------------------------------------

describe('services_reply', () => {
  it('records an accepted ota_create with the status output.status maps to', () => {
    const f = fixture('services-reply-ok');
    const result = parse(f.topic, f.payload);
    expect(result.envelope).toMatchObject({ channel: 'ota_create', dedupeKey: 'dji:7CTDM1234567:reply:tid-create-0001', raw: JSON.stringify(f.payload) });
    expect(observationOf(result)).toEqual({
      type: 'upgrade',
      source: UpgradeSource.DJI,
      kind: UpgradeKind.FIRMWARE,
      task: { externalId: 'bid-ota-0001', gatewaySn: SN },
      target: { kind: 'allDevices', fallbackDeviceId: SN },
      status: UpgradeStatus.IN_PROGRESS,
      occurredAt: new Date(1700000000350),
      vendorStatus: 'in_progress',
      subStatus: null,
      step: null,
      percent: null,
      errorCode: null,
      replyToTid: 'tid-create-0001',
    });
    expect(result.reply).toBeNull();
  });

  it('records a refused ota_create as REJECTED with the error code', () => {
    expect(observationOf(parseFixture('services-reply-refused'))).toMatchObject({
      status: UpgradeStatus.REJECTED,
      errorCode: '312015',
      vendorStatus: 'result:312015',
      replyToTid: 'tid-create-0001',
    });
  });

  it.each<[string, Record<string, unknown>, UpgradeStatus, string, string | null]>([
    ['result 0 without output', { result: 0 }, UpgradeStatus.SENT, 'result:0', null],
    ['result 0 with output.status sent', { result: 0, output: { status: 'sent' } }, UpgradeStatus.SENT, 'sent', null],
    ['result 0 with output.status failed', { result: 0, output: { status: 'failed' } }, UpgradeStatus.FAILED, 'failed', null],
    ['result 0 with an unknown output.status', { result: 0, output: { status: 'queued' } }, UpgradeStatus.SENT, 'queued', null],
    ['result "0" as a string', { result: '0' }, UpgradeStatus.SENT, 'result:0', null],
    ['non-zero result with output.status', { result: 312014, output: { status: 'rejected' } }, UpgradeStatus.REJECTED, 'rejected', '312014'],
    ['non-zero result even with output.status in_progress', { result: 312016, output: { status: 'in_progress' } }, UpgradeStatus.REJECTED, 'in_progress', '312016'],
  ])('%s', (_name, data, status, vendorStatus, errorCode) => {
    const payload = { ...fixture('services-reply-ok').payload, data };
    expect(observationOf(parse(SERVICES_REPLY, payload))).toMatchObject({ status, vendorStatus, errorCode });
  });

  it("reads the vendor doc's reply example (sub_status '', step_key '')", () => {
    const doc = {
      bid: '149878685687484417',
      data: { output: { progress: { percent: 0, step: 1, step_key: '' }, status: 'sent', sub_status: '' }, result: 0 },
      tid: '5bdd5c11-469c-45d9-afce-d9ec3025f379',
      timestamp: 1708573102118,
      method: 'ota_create',
    };
    expect(observationOf(parse(SERVICES_REPLY, doc))).toMatchObject({
      status: UpgradeStatus.SENT,
      vendorStatus: 'sent',
      subStatus: null,
      replyToTid: '5bdd5c11-469c-45d9-afce-d9ec3025f379',
      task: { externalId: '149878685687484417' },
    });
  });

  it('rejects a reply without result', () => {
    const payload = { ...fixture('services-reply-ok').payload, data: { output: { status: 'in_progress' } } };
    expect(rejectionOf(parse(SERVICES_REPLY, payload))).toBe('data.result is missing');
  });
});

// ---------------------------------------------------------------------------
// Unhandled methods
// ---------------------------------------------------------------------------

describe('unhandled', () => {
  it.each([
    [EVENTS, 'hms'],
    [EVENTS, 'flighttask_progress'],
    [EVENTS, 'ota_create'],
    [SERVICES_REPLY, 'flighttask_execute'],
    [SERVICES_REPLY, 'ota_progress'],
    [EVENTS, 'OTA_PROGRESS'],
  ])('%s with method %s', (topic, method) => {
    const result = parse(topic, { tid: 't', bid: 'b', method, timestamp: 1, data: { anything: [1] } });
    expect(result.envelope.channel).toBe(method);
    expect(result.envelope.dedupeKey).toBeNull();
    expect(result.envelope.content.kind).toBe('unhandled');
    expect((result.envelope.content as { reason: string }).reason).toContain(method);
  });

  it('does not look at the body of an unhandled method', () => {
    expect(parse(EVENTS, { tid: 't', bid: 'b', method: 'hms', data: 'whatever' }).envelope.content.kind).toBe('unhandled');
  });
});

// ---------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------

describe('rejections', () => {
  const valid = (): Record<string, unknown> => progress({ status: 'in_progress', progress: { percent: 5 } });

  it.each<[string, string | Buffer, string, RegExp]>([
    ['empty payload', '', 'events', /not valid JSON/],
    ['not JSON', 'hello', 'events', /not valid JSON/],
    ['truncated JSON', '{"tid":"t"', 'events', /not valid JSON/],
    ['JSON array', '[1,2]', 'events', /must be a JSON object, got array/],
    ['JSON null', 'null', 'events', /got null/],
    ['JSON number', '42', 'events', /got number/],
    ['JSON string', '"ota_progress"', 'events', /got string/],
    ['a NUL byte', '{"tid":"t\u0000"}', 'events', /not valid JSON/],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"tid":"t","bid":"b","method":"ota_progress","data":{"output":{"status":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}}')]), 'ota_progress', /not valid UTF-8/],
    ['deeply nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), 'events', /got array/],
  ])('%s', (_name, payload, channel, reason) => {
    const result = parse(EVENTS, payload);
    expect(rejectionOf(result)).toMatch(reason);
    expect(result.envelope.channel).toBe(channel);
    expect(result.envelope.dedupeKey).toBeNull();
    expect(result.envelope.source).toBe(UpgradeSource.DJI);
  });

  it.each<[string, (p: Record<string, unknown>) => void, string, string]>([
    ['tid missing', (p) => delete p.tid, 'tid is missing', 'ota_progress'],
    ['bid missing', (p) => delete p.bid, 'bid is missing', 'ota_progress'],
    ['method missing', (p) => delete p.method, 'method is missing', 'events'],
    ['tid a number', (p) => (p.tid = 42), 'tid must be a string, got number', 'ota_progress'],
    ['bid null', (p) => (p.bid = null), 'bid must be a string, got null', 'ota_progress'],
    ['bid empty', (p) => (p.bid = ''), 'bid must not be empty', 'ota_progress'],
    ['bid blank', (p) => (p.bid = '   '), 'bid must not be empty', 'ota_progress'],
    ['tid too long', (p) => (p.tid = 'x'.repeat(129)), 'tid must be at most 128 characters', 'ota_progress'],
    ['tid with NUL', (p) => (p.tid = 'a\u0000b'), 'tid must not contain NUL characters', 'ota_progress'],
    ['method a number', (p) => (p.method = 7), 'method must be a string, got number', 'events'],
    ['method too long', (p) => (p.method = 'm'.repeat(65)), 'method must be at most 64 characters', 'events'],
    ['data missing', (p) => delete p.data, 'data is missing', 'ota_progress'],
    ['data an array', (p) => (p.data = []), 'data must be an object, got array', 'ota_progress'],
    ['data a string', (p) => (p.data = 'x'), 'data must be an object, got string', 'ota_progress'],
    ['result a word', (p) => (p.data = { result: 'ok' }), 'data.result must be an integer, got string', 'ota_progress'],
    ['result fractional', (p) => (p.data = { result: 1.5 }), 'data.result must be a safe integer', 'ota_progress'],
    ['result boolean', (p) => (p.data = { result: false }), 'data.result must be an integer, got boolean', 'ota_progress'],
    ['output a string', (p) => (p.data = { output: 'in_progress' }), 'data.output must be an object, got string', 'ota_progress'],
    ['status a number', (p) => (p.data = { output: { status: 3 } }), 'data.output.status must be a string, got number', 'ota_progress'],
    ['status too long', (p) => (p.data = { output: { status: 's'.repeat(129) } }), 'data.output.status must be at most 128 characters', 'ota_progress'],
    ['sub_status an object', (p) => (p.data = { output: { sub_status: {} } }), 'data.output.sub_status must be a string, got object', 'ota_progress'],
    ['progress an array', (p) => (p.data = { output: { progress: [] } }), 'data.output.progress must be an object, got array', 'ota_progress'],
    ['percent a word', (p) => (p.data = { output: { progress: { percent: 'half' } } }), 'data.output.progress.percent must be a finite number, got string', 'ota_progress'],
    ['percent infinite (1e400)', (p) => (p.data = { output: { progress: { percent: Infinity } } }), 'data.output.progress.percent must be a finite number', 'ota_progress'],
    ['step_key an object', (p) => (p.data = { output: { progress: { step_key: {} } } }), 'data.output.progress.step_key must be a string or a number, got object', 'ota_progress'],
    ['current_step a boolean', (p) => (p.data = { output: { progress: { current_step: true } } }), 'data.output.progress.current_step must be a string or a number, got boolean', 'ota_progress'],
    ['step_result a word', (p) => (p.data = { output: { progress: { step_result: 'bad' } } }), 'data.output.progress.step_result must be an integer, got string', 'ota_progress'],
  ])('%s', (_name, patch, reason, channel) => {
    const payload = valid();
    patch(payload);
    // Infinity does not survive JSON.stringify; write the literal that parses to it.
    const text = JSON.stringify(payload).replace('null}}}', '1e400}}}');
    const result = parse(EVENTS, _name.includes('1e400') ? text : payload);
    expect(rejectionOf(result)).toContain(reason);
    expect(result.envelope.channel).toBe(channel);
    expect(result.envelope.dedupeKey).toBeNull();
    expect(result.envelope.raw).toBe(_name.includes('1e400') ? text : JSON.stringify(payload));
  });

  it('names every bad field at once', () => {
    const reason = rejectionOf(parse(EVENTS, { tid: 1, method: 'ota_progress', data: { result: 'x', output: { status: 1 } } }));
    expect(reason).toBe('tid must be a string, got number; bid is missing');
    const body = rejectionOf(parse(EVENTS, { tid: 't', bid: 'b', method: 'ota_progress', data: { result: 'x', output: { status: 1 } } }));
    expect(body).toBe('data.result must be an integer, got string; data.output.status must be a string, got number');
  });

  it('rejects an oversized payload without parsing it, keeping a truncated raw', () => {
    const big = JSON.stringify({ ...progress({ status: 'ok' }, { need_reply: 1 }), pad: 'x'.repeat(MAX_PAYLOAD_BYTES) });
    const result = parse(EVENTS, big);
    expect(rejectionOf(result)).toBe(`payload is ${Buffer.byteLength(big)} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`);
    expect(result.envelope.channel).toBe('events');
    expect(result.envelope.raw).toHaveLength(MAX_PAYLOAD_BYTES);
    expect(big.startsWith(result.envelope.raw)).toBe(true);
    expect(result.reply).toBeNull();
  });

  it('accepts a payload of exactly MAX_PAYLOAD_BYTES', () => {
    const base = JSON.stringify({ ...progress({ status: 'ok' }), pad: '' });
    const exact = base.replace('"pad":""', `"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES - base.length)}"`);
    expect(Buffer.byteLength(exact)).toBe(MAX_PAYLOAD_BYTES);
    observationOf(parse(EVENTS, exact));
  });

  it('rejects a topic it did not subscribe to', () => {
    const result = parse('thing/product/7CTDM1234567/osd', progress({ status: 'ok' }, { need_reply: 1 }));
    expect(rejectionOf(result)).toMatch(/not a DJI topic the gateway subscribes to/);
    expect(result.envelope.channel).toBe('unknown_topic');
    expect(result.reply).toBeNull();
  });

  it('keeps raw as the UTF-8 text, with invalid bytes and NULs replaced', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"é'), Buffer.from([0xc3]), Buffer.from('"}\u0000')]);
    const result = parse(EVENTS, bytes);
    expect(result.envelope.raw).toBe('{"a":"é\uFFFD"}\uFFFD');
  });

  it('keeps non-ASCII text intact', () => {
    const payload = progress({ status: '升级中' });
    const obs = observationOf(parse(EVENTS, payload));
    expect(obs.vendorStatus).toBe('升级中');
    expect(obs.status).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// ota_create
// ---------------------------------------------------------------------------

const device = (over: Partial<OtaCreateDevice> = {}): OtaCreateDevice => ({
  sn: '1581F5BKD225D00BP891',
  productVersion: '10.01.3202',
  fileUrl: 'https://oss.example/fw/m30.zip',
  md5: '9e107d9d372bb6826bd81d3542a419d6',
  fileSize: 653467234,
  fileName: 'wm260_10.01.3202.zip',
  firmwareUpgradeType: FirmwareUpgradeType.REGULAR,
  ...over,
});

describe('buildOtaCreate', () => {
  it('builds exactly the fixture message', () => {
    const f = fixture('ota-create');
    const text = buildOtaCreate({
      bid: 'bid-ota-0001',
      tid: 'tid-create-0001',
      timestamp: 1700000000000,
      devices: [
        device(),
        device({
          sn: '7CTDM1234567',
          fileUrl: 'https://oss.example/fw/dock.zip',
          md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
          fileSize: 123456789,
          fileName: 'dock_10.01.3202.zip',
        }),
      ],
    });
    expect(text).toBe(JSON.stringify(f.payload));
    expect(f.topic).toBe(servicesTopic(SN));
  });

  it('writes file_size exactly at 2^53 - 1', () => {
    const text = buildOtaCreate({ bid: 'b', tid: 't', timestamp: 1, devices: [device({ fileSize: Number.MAX_SAFE_INTEGER })] });
    expect(text).toContain('"file_size":9007199254740991,');
  });

  it.each<[FirmwareUpgradeType, number]>([
    [FirmwareUpgradeType.CONSISTENT, 2],
    [FirmwareUpgradeType.REGULAR, 3],
    [FirmwareUpgradeType.PSDK, 4],
  ])('writes firmware_upgrade_type %s as %d', (type, wire) => {
    const text = buildOtaCreate({ bid: 'b', tid: 't', timestamp: 1, devices: [device({ firmwareUpgradeType: type })] });
    expect(JSON.parse(text).data.devices[0].firmware_upgrade_type).toBe(wire);
  });

  it('writes the exact key order of one device', () => {
    expect(buildOtaCreate({ bid: 'b', tid: 't', timestamp: 5, devices: [device()] })).toBe(
      '{"bid":"b","tid":"t","timestamp":5,"method":"ota_create","data":{"devices":[{"sn":"1581F5BKD225D00BP891",' +
        '"product_version":"10.01.3202","file_url":"https://oss.example/fw/m30.zip","md5":"9e107d9d372bb6826bd81d3542a419d6",' +
        '"file_size":653467234,"file_name":"wm260_10.01.3202.zip","firmware_upgrade_type":3}]}}',
    );
  });

  it.each<[string, Parameters<typeof buildOtaCreate>[0], RegExp]>([
    ['no device', { bid: 'b', tid: 't', timestamp: 1, devices: [] }, /devices must hold 1 or 2 devices/],
    ['bad md5', { bid: 'b', tid: 't', timestamp: 1, devices: [device({ md5: 'x' })] }, /devices\[0\]\.md5/],
    ['empty bid', { bid: '', tid: 't', timestamp: 1, devices: [device()] }, /bid/],
    ['fractional timestamp', { bid: 'b', tid: 't', timestamp: 1.5, devices: [device()] }, /timestamp/],
    ['unsafe file size', { bid: 'b', tid: 't', timestamp: 1, devices: [device({ fileSize: 2 ** 53 })] }, /devices\[0\]\.fileSize/],
  ])('throws on %s', (_name, args, message) => {
    expect(() => buildOtaCreate(args)).toThrow(TypeError);
    expect(() => buildOtaCreate(args)).toThrow(message);
  });
});

// ---------------------------------------------------------------------------
// validateFirmwareUpgradeInput
// ---------------------------------------------------------------------------

describe('validateFirmwareUpgradeInput', () => {
  const input = (over: Record<string, unknown> = {}, deviceOver: Record<string, unknown> = {}): Record<string, unknown> => ({
    gatewaySn: SN,
    devices: [{ ...device(), ...deviceOver }],
    ...over,
  });

  it('accepts valid input and normalises it', () => {
    const result = validateFirmwareUpgradeInput({
      gatewaySn: `  ${SN} `,
      extra: true,
      devices: [
        { ...device(), sn: ' A1 ', md5: '9E107D9D372BB6826BD81D3542A419D6', fileSize: '653467234', fileName: ' f.zip ', unknown: 1 },
        { ...device(), sn: 'A2', fileUrl: 'http://192.168.1.1:9000/public/x.uav', fileSize: Number.MAX_SAFE_INTEGER, firmwareUpgradeType: 'PSDK' },
      ],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        gatewaySn: SN,
        devices: [
          { ...device(), sn: 'A1', fileName: 'f.zip' },
          { ...device(), sn: 'A2', fileUrl: 'http://192.168.1.1:9000/public/x.uav', fileSize: Number.MAX_SAFE_INTEGER, firmwareUpgradeType: FirmwareUpgradeType.PSDK },
        ],
      },
    });
  });

  it('accepts an sn of exactly 64 characters', () => {
    expect(validateFirmwareUpgradeInput(input({ gatewaySn: 'x'.repeat(64) })).ok).toBe(true);
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', 'nope', 'input', 'must be an object'],
    ['null', null, 'input', 'is required'],
    ['gatewaySn missing', input({ gatewaySn: undefined }), 'gatewaySn', 'is required'],
    ['gatewaySn a number', input({ gatewaySn: 5 }), 'gatewaySn', 'must be a string'],
    ['gatewaySn blank', input({ gatewaySn: '   ' }), 'gatewaySn', 'must not be empty'],
    ['gatewaySn too long', input({ gatewaySn: 'x'.repeat(65) }), 'gatewaySn', 'must be at most 64 characters'],
    ['gatewaySn with /', input({ gatewaySn: 'a/b' }), 'gatewaySn', "must not contain '/', '+', '#' or NUL"],
    ['gatewaySn with +', input({ gatewaySn: 'a+' }), 'gatewaySn', "must not contain '/', '+', '#' or NUL"],
    ['gatewaySn with #', input({ gatewaySn: '#' }), 'gatewaySn', "must not contain '/', '+', '#' or NUL"],
    ['gatewaySn with NUL', input({ gatewaySn: 'a\u0000' }), 'gatewaySn', "must not contain '/', '+', '#' or NUL"],
    ['devices missing', input({ devices: undefined }), 'devices', 'is required'],
    ['devices not a list', input({ devices: {} }), 'devices', 'must be a list of devices'],
    ['no devices', input({ devices: [] }), 'devices', 'must hold 1 or 2 devices'],
    ['three devices', input({ devices: [device({ sn: 'a' }), device({ sn: 'b' }), device({ sn: 'c' })] }), 'devices', 'must hold 1 or 2 devices'],
    ['a device not an object', input({ devices: [42] }), 'devices[0]', 'must be an object'],
    ['duplicate sn', input({ devices: [device({ sn: 'a' }), device({ sn: ' a ' })] }), 'devices[1].sn', 'duplicates another device'],
    ['sn blank', input({}, { sn: '' }), 'devices[0].sn', 'must not be empty'],
    ['sn too long', input({}, { sn: 'y'.repeat(65) }), 'devices[0].sn', 'must be at most 64 characters'],
    ['sn with /', input({}, { sn: 'a/b' }), 'devices[0].sn', "must not contain '/', '+', '#' or NUL"],
    ['sn missing', input({}, { sn: undefined }), 'devices[0].sn', 'is required'],
    ['md5 too short', input({}, { md5: 'abc' }), 'devices[0].md5', 'must be exactly 32 hexadecimal digits'],
    ['md5 not hex', input({}, { md5: 'z'.repeat(32) }), 'devices[0].md5', 'must be exactly 32 hexadecimal digits'],
    ['md5 too long', input({}, { md5: 'a'.repeat(33) }), 'devices[0].md5', 'must be exactly 32 hexadecimal digits'],
    ['md5 a number', input({}, { md5: 123 }), 'devices[0].md5', 'must be a string'],
    ['fileUrl ftp', input({}, { fileUrl: 'ftp://oss.example/fw.zip' }), 'devices[0].fileUrl', 'must be an http or https URL'],
    ['fileUrl relative', input({}, { fileUrl: '/fw.zip' }), 'devices[0].fileUrl', 'must be an http or https URL'],
    ['fileUrl javascript', input({}, { fileUrl: 'javascript:alert(1)' }), 'devices[0].fileUrl', 'must be an http or https URL'],
    ['fileUrl empty', input({}, { fileUrl: '' }), 'devices[0].fileUrl', 'must not be empty'],
    ['fileSize zero', input({}, { fileSize: 0 }), 'devices[0].fileSize', 'must be positive'],
    ['fileSize negative', input({}, { fileSize: -1 }), 'devices[0].fileSize', 'must be positive'],
    ['fileSize fractional', input({}, { fileSize: 1.5 }), 'devices[0].fileSize', 'must be a whole number of bytes'],
    ['fileSize 2^53', input({}, { fileSize: 2 ** 53 }), 'devices[0].fileSize', 'must be at most 9007199254740991'],
    ['fileSize 2^53 + 1 as digits', input({}, { fileSize: '9007199254740993' }), 'devices[0].fileSize', 'must be at most 9007199254740991'],
    ['fileSize 1e300', input({}, { fileSize: 1e300 }), 'devices[0].fileSize', 'must be at most 9007199254740991'],
    ['fileSize a word', input({}, { fileSize: 'big' }), 'devices[0].fileSize', 'must be a number'],
    ['fileSize NaN', input({}, { fileSize: NaN }), 'devices[0].fileSize', 'must be a number'],
    ['fileSize missing', input({}, { fileSize: undefined }), 'devices[0].fileSize', 'is required'],
    ['productVersion blank', input({}, { productVersion: ' ' }), 'devices[0].productVersion', 'must not be empty'],
    ['productVersion missing', input({}, { productVersion: undefined }), 'devices[0].productVersion', 'is required'],
    ['fileName blank', input({}, { fileName: '' }), 'devices[0].fileName', 'must not be empty'],
    ['fileName too long', input({}, { fileName: 'n'.repeat(10241) }), 'devices[0].fileName', 'must be at most 10240 characters'],
    ['firmwareUpgradeType unknown', input({}, { firmwareUpgradeType: 'NORMAL' }), 'devices[0].firmwareUpgradeType', 'must be one of CONSISTENT, REGULAR, PSDK'],
    ['firmwareUpgradeType wire number', input({}, { firmwareUpgradeType: 3 }), 'devices[0].firmwareUpgradeType', 'must be one of CONSISTENT, REGULAR, PSDK'],
    ['firmwareUpgradeType missing', input({}, { firmwareUpgradeType: undefined }), 'devices[0].firmwareUpgradeType', 'is required'],
  ])('%s', (_name, value, field, message) => {
    const result = validateFirmwareUpgradeInput(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({ field, message });
    // One error per field.
    expect(new Set(result.errors.map((e) => e.field)).size).toBe(result.errors.length);
  });

  it('reports every bad field with its path', () => {
    const result = validateFirmwareUpgradeInput({
      gatewaySn: 'a/b',
      devices: [
        { sn: '', productVersion: '', fileUrl: 'nope', md5: 'x', fileSize: 0, fileName: '', firmwareUpgradeType: 'X' },
        { ...device(), md5: 'y' },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.field)).toEqual([
      'gatewaySn',
      'devices[0].sn',
      'devices[0].productVersion',
      'devices[0].fileUrl',
      'devices[0].md5',
      'devices[0].fileSize',
      'devices[0].fileName',
      'devices[0].firmwareUpgradeType',
      'devices[1].md5',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Properties: never throws
// ---------------------------------------------------------------------------

describe('properties', () => {
  const check = (result: DjiInbound): void => {
    expect(result.envelope.source).toBe(UpgradeSource.DJI);
    expect(result.envelope.receivedAt).toBe(RECEIVED_AT);
    expect(typeof result.envelope.raw).toBe('string');
    expect(result.envelope.raw.length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(result.envelope.raw).not.toContain('\u0000');
    expect(result.envelope.channel.length).toBeGreaterThan(0);
    expect(result.envelope.channel.length).toBeLessThanOrEqual(64);
    const { content } = result.envelope;
    if (content.kind !== 'observation') {
      expect(content.reason).not.toMatch(/^internal error/);
      expect(result.envelope.dedupeKey).toBeNull();
    } else {
      expect(result.envelope.dedupeKey).toMatch(/^dji:7CTDM1234567:(event|reply):/);
      if (content.observation.type === 'upgrade') {
        const { percent } = content.observation;
        if (percent !== null && percent !== undefined) expect(percent >= 0 && percent <= 100 && Number.isInteger(percent)).toBe(true);
      }
    }
    if (result.reply !== null) {
      expect(result.reply.topic).toBe('thing/product/7CTDM1234567/events_reply');
      const reply = JSON.parse(result.reply.payload) as Record<string, unknown>;
      expect(reply.data).toEqual({ result: 0 });
      expect(reply.timestamp).toBe(NOW);
    }
  };

  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(EVENTS, SERVICES_REPLY), (bytes, topic) => {
        check(parse(topic, Buffer.from(bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary JSON never throws', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), fc.constantFrom(EVENTS, SERVICES_REPLY), (text, topic) => {
        check(parse(topic, text));
      }),
      { numRuns: 500 },
    );
  });

  it('DJI-shaped messages with arbitrary values never throw', () => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constantFrom(0, 1, '1', true, '', 'ok', 'in_progress', 1e308, -0));
    const casing = (key: string) => fc.constantFrom(key, key.toUpperCase(), key[0].toUpperCase() + key.slice(1));
    const keyed = <T>(key: string, value: fc.Arbitrary<T>) => fc.tuple(casing(key), value);
    const obj = (entries: fc.Arbitrary<[string, unknown]>[]) =>
      fc.tuple(...entries).map((pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== undefined)));
    const progressArb = fc.oneof(anyValue, obj([keyed('percent', anyValue), keyed('step_key', anyValue), keyed('current_step', anyValue), keyed('step_result', anyValue)]));
    const outputArb = fc.oneof(anyValue, obj([keyed('status', anyValue), keyed('sub_status', anyValue), keyed('progress', progressArb)]));
    const dataArb = fc.oneof(anyValue, obj([keyed('result', anyValue), keyed('output', outputArb)]));
    const message = obj([
      keyed('tid', fc.oneof(fc.string(), anyValue)),
      keyed('bid', fc.oneof(fc.string(), anyValue)),
      keyed('method', fc.oneof(fc.constantFrom('ota_progress', 'ota_create', 'hms'), anyValue)),
      keyed('timestamp', anyValue),
      keyed('timestamp:', anyValue),
      keyed('need_reply', anyValue),
      keyed('__proto__', anyValue),
      keyed('data', dataArb),
    ]);
    fc.assert(
      fc.property(message, fc.constantFrom(EVENTS, SERVICES_REPLY, `$share/g/${EVENTS}`), (payload, topic) => {
        check(parse(topic, payload));
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary topics never throw', () => {
    fc.assert(
      fc.property(fc.string(), (topic) => {
        const result = parseDjiMessage(topic, Buffer.from('{}'), RECEIVED_AT, () => NOW);
        expect(result.envelope.source).toBe(UpgradeSource.DJI);
        expect(parseTopic(topic) === null || parseTopic(topic)!.gatewaySn.length > 0).toBe(true);
      }),
    );
  });

  it('validateFirmwareUpgradeInput never throws, and what it accepts builds', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = validateFirmwareUpgradeInput(value);
        if (result.ok) buildOtaCreate({ bid: 'b', tid: 't', timestamp: 1, devices: result.value.devices });
      }),
      { numRuns: 500 },
    );
  });

  it('any valid input round-trips through buildOtaCreate', () => {
    const hex = fc.stringMatching(/^[0-9a-fA-F]{32}$/);
    const sn = fc.stringMatching(/^[A-Za-z0-9]{1,64}$/);
    const deviceArb = fc.record({
      sn,
      productVersion: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim().length > 0 && s.trim() === s),
      fileUrl: fc.webUrl().filter((u) => /^https?:/.test(u)),
      md5: hex,
      fileSize: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fileName: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim().length > 0 && s.trim() === s),
      firmwareUpgradeType: fc.constantFrom(...Object.values(FirmwareUpgradeType)),
    });
    fc.assert(
      fc.property(sn, deviceArb, (gatewaySn, d) => {
        const result = validateFirmwareUpgradeInput({ gatewaySn, devices: [d] });
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const wire = JSON.parse(buildOtaCreate({ bid: 'b', tid: 't', timestamp: 1, devices: result.value.devices }));
        expect(wire.data.devices[0]).toMatchObject({ sn: d.sn, md5: d.md5.toLowerCase(), file_size: d.fileSize });
      }),
      { numRuns: 300 },
    );
  });
});
