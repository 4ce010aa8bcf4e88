import { UpgradeSource } from '../src/domain';
import { parseDjiMessage, statusReplyTopic, type DjiInbound } from '../src/ingest/dji/protocol';
import type { InventoryObservation } from '../src/inventory/observations';

const DOCK = '7CTDM1234567';
const AIRCRAFT = '1581F5BKD225D00BP891';
const STATUS = `sys/product/${DOCK}/status`;
const STATE = `thing/product/${AIRCRAFT}/state`;
const RECEIVED_AT = new Date('2026-11-25T00:00:00.000Z');
const NOW = 1_764_000_000_000;

function parse(topic: string, payload: unknown, options = {}): DjiInbound {
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  return parseDjiMessage(topic, bytes, RECEIVED_AT, () => NOW, options);
}

function observationOf(result: DjiInbound): InventoryObservation {
  const { content } = result.envelope;
  if (content.kind !== 'observation') throw new Error(`expected an observation, got ${content.kind}: ${'reason' in content ? content.reason : ''}`);
  if (content.observation.type !== 'topology' && content.observation.type !== 'deviceState') throw new Error('not an inventory observation');
  return content.observation;
}

function rejectionOf(result: DjiInbound): string {
  const { content } = result.envelope;
  if (content.kind !== 'rejected') throw new Error(`expected a rejection, got ${content.kind}`);
  return content.reason;
}

/** update_topo as DJI's docs show it (domain as a string, secrets and index included). */
function topo(data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    tid: 'tid-1',
    bid: 'bid-1',
    timestamp: 1_764_000_000_000,
    method: 'update_topo',
    data: {
      domain: '3',
      type: 2,
      sub_type: 0,
      device_secret: 'secret',
      nonce: 'nonce',
      thing_version: '1.1.2',
      sub_devices: [{ sn: AIRCRAFT, domain: '0', type: 91, sub_type: 1, index: 'A', device_secret: 's', nonce: 'n', thing_version: '1.1.2' }],
      ...data,
    },
    ...extra,
  };
}

function state(data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { tid: 'tid-s', bid: 'bid-s', timestamp: 1_764_000_000_000, gateway: DOCK, data, ...extra };
}

describe('update_topo', () => {
  it('becomes a topology observation with model keys, and is answered on status_reply with the same tid, bid and method', () => {
    const result = parse(STATUS, topo());
    expect(observationOf(result)).toEqual({
      type: 'topology',
      source: UpgradeSource.DJI,
      gateway: { deviceId: DOCK, model: '3-2-0' },
      subDevices: [{ deviceId: AIRCRAFT, model: '0-91-1' }],
    });
    expect(result.envelope.channel).toBe('update_topo');
    expect(result.envelope.dedupeKey).toBe(`dji:${DOCK}:status:tid-1`);
    expect(result.reply?.topic).toBe(`sys/product/${DOCK}/status_reply`);
    expect(JSON.parse(result.reply!.payload)).toEqual({ tid: 'tid-1', bid: 'bid-1', timestamp: NOW, method: 'update_topo', data: { result: 0 } });
  });

  it('an empty sub_devices is a topology without aircraft', () => {
    expect(observationOf(parse(STATUS, topo({ sub_devices: [] })))).toMatchObject({ subDevices: [] });
  });

  it('is not answered when answerStatus is off', () => {
    expect(parse(STATUS, topo(), { answerStatus: false }).reply).toBeNull();
  });

  it('builds the reply topic only for a valid sn', () => {
    expect(statusReplyTopic(DOCK)).toBe(`sys/product/${DOCK}/status_reply`);
    expect(() => statusReplyTopic('a/b')).toThrow(RangeError);
  });

  it('another method on the status topic is unhandled, not rejected', () => {
    const result = parse(STATUS, { ...topo(), method: 'something_else' });
    expect(result.envelope.content.kind).toBe('unhandled');
    expect(result.reply).toBeNull();
  });

  it.each([
    ['not JSON', '{nope', /not valid JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['no tid', { ...topo(), tid: undefined }, /tid is missing/],
    ['no data', { ...topo(), data: undefined }, /data is missing/],
    ['data a string', { ...topo(), data: 'x' }, /data must be an object/],
    ['no domain', topo({ domain: undefined }), /data\.domain is missing/],
    ['a negative type', topo({ type: -1 }), /data\.type must not be negative/],
    ['a fractional sub_type', topo({ sub_type: 1.5 }), /data\.sub_type must be an integer/],
    ['type a word', topo({ type: 'dock' }), /data\.type must be a non-negative integer/],
    ['no sub_devices', topo({ sub_devices: undefined }), /data\.sub_devices is missing/],
    ['sub_devices an object', topo({ sub_devices: {} }), /data\.sub_devices must be an array/],
    ['a sub-device without sn', topo({ sub_devices: [{ domain: 0, type: 91, sub_type: 0 }] }), /data\.sub_devices\.0\.sn is missing/],
    ['a sub-device sn with a slash', topo({ sub_devices: [{ sn: 'a/b', domain: 0, type: 91, sub_type: 0 }] }), /data\.sub_devices\.0\.sn must be a serial number/],
    ['a sub-device without type', topo({ sub_devices: [{ sn: AIRCRAFT, domain: 0, sub_type: 0 }] }), /data\.sub_devices\.0\.type is missing/],
    ['the dock as its own sub-device', topo({ sub_devices: [{ sn: DOCK, domain: 0, type: 91, sub_type: 0 }] }), /names the dock itself/],
    [
      'an aircraft twice',
      topo({ sub_devices: [{ sn: AIRCRAFT, domain: 0, type: 91, sub_type: 0 }, { sn: AIRCRAFT, domain: 0, type: 91, sub_type: 0 }] }),
      /twice/,
    ],
    ['too many sub-devices', topo({ sub_devices: Array.from({ length: 17 }, (_, i) => ({ sn: `S${i}`, domain: 0, type: 91, sub_type: 0 })) }), /at most 16/],
  ])('rejects %s', (_name, payload, reason) => {
    const result = parse(STATUS, payload);
    expect(rejectionOf(result)).toMatch(reason);
    expect(result.envelope.dedupeKey).toBeNull();
  });

  it('a malformed update_topo that names tid and bid is still answered (the dock stops resending)', () => {
    const result = parse(STATUS, topo({ sub_devices: 'x' }));
    rejectionOf(result);
    expect(JSON.parse(result.reply!.payload)).toMatchObject({ tid: 'tid-1', bid: 'bid-1', method: 'update_topo' });
  });
});

describe('state', () => {
  it('reads the firmware properties, names the relaying dock and ignores everything else', () => {
    const result = parse(
      STATE,
      state({ firmware_version: '10.01.3202', compatible_status: 1, firmware_upgrade_status: 0, mode_code: 3, payloads: [{ firmware_version: 'x' }], height: 12.5 }),
    );
    expect(observationOf(result)).toEqual({
      type: 'deviceState',
      source: UpgradeSource.DJI,
      deviceId: AIRCRAFT,
      gatewaySn: DOCK,
      firmwareVersion: '10.01.3202',
      consistencyUpgradeNeeded: true,
      upgrading: false,
    });
    expect(result.envelope.channel).toBe('state');
    expect(result.envelope.dedupeKey).toBe(`dji:${AIRCRAFT}:state:tid-s`);
    expect(result.reply).toBeNull();
  });

  it('reports only what is present; a state without firmware properties touches the device only', () => {
    expect(observationOf(parse(STATE, state({ firmware_upgrade_status: '1' })))).toEqual({
      type: 'deviceState',
      source: UpgradeSource.DJI,
      deviceId: AIRCRAFT,
      gatewaySn: DOCK,
      upgrading: true,
    });
    expect(observationOf(parse(STATE, state({ wind_speed: 3 }, { gateway: undefined })))).toEqual({
      type: 'deviceState',
      source: UpgradeSource.DJI,
      deviceId: AIRCRAFT,
      gatewaySn: null,
    });
  });

  it('a state without tid is recorded but never deduplicated', () => {
    expect(parse(STATE, state({ firmware_version: '1' }, { tid: undefined })).envelope.dedupeKey).toBeNull();
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['no data', { tid: 't' }, /data is missing/],
    ['data an array', state([] as never), /data must be an object/],
    ['firmware_version a number', state({ firmware_version: 10 }), /data\.firmware_version must be a string/],
    ['firmware_version too long', state({ firmware_version: 'x'.repeat(129) }), /at most 128/],
    ['compatible_status 2', state({ compatible_status: 2 }), /data\.compatible_status must be 0 or 1/],
    ['firmware_upgrade_status a word', state({ firmware_upgrade_status: 'yes' }), /data\.firmware_upgrade_status must be 0 or 1/],
    ['gateway with a wildcard', state({ firmware_version: '1' }, { gateway: 'a+b' }), /gateway must be a serial number/],
    ['an empty tid', state({ firmware_version: '1' }, { tid: '' }), /tid must not be empty/],
  ])('rejects %s', (_name, payload, reason) => {
    const result = parse(STATE, payload);
    expect(rejectionOf(result)).toMatch(reason);
    expect(result.envelope.channel).toBe('state');
  });
});
