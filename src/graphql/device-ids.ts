import type { DeviceKey } from '../inventory/filter';
import { fromGlobalId } from './relay';

/*
 * A device's global id names it by what names it everywhere else, its source
 * and its deviceId (DJI serial number, Huawei deviceId), not by the gateway's
 * row UUID: the id of a device is the same on every instance and after the
 * device is seen again, and an id maps to a deviceId without a query.
 */

/** The local id inside a device's global id: `SOURCE:deviceId`. */
export function deviceLocalId(device: DeviceKey): string {
  return `${device.source}:${device.deviceId}`;
}

/** The device a local id names; null when it is not one. */
export function parseDeviceLocalId(localId: string): DeviceKey | null {
  const colon = localId.indexOf(':');
  if (colon <= 0 || colon === localId.length - 1) return null;
  return { source: localId.slice(0, colon), deviceId: localId.slice(colon + 1) };
}

/**
 * The device an argument names: a Device's global id (what `Device.id`
 * returns), or else a deviceId as is (what `Device.deviceId` returns, and what
 * the API took before devices were Nodes). A deviceId is never read as a
 * global id of another type, so no serial number can be misread.
 */
export function deviceOfArgument(id: string): { source: string | null; deviceId: string } {
  const global = fromGlobalId(id);
  const key = global?.type === 'Device' ? parseDeviceLocalId(global.localId) : null;
  return key ?? { source: null, deviceId: id };
}
