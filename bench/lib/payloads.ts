import { firmwareSuccessBody } from '../../src/simulators/huawei-pushes';
import type { Outgoing } from './mqtt-load';

/** Docks the DJI messages come from; a bid always comes from the same dock. */
export const DOCKS = 10;

export function dockSn(index: number): string {
  return `BENCHDOCK${String(index % DOCKS).padStart(3, '0')}`;
}

/**
 * One DJI `ota_progress` event (need_reply 0) for task `bid`, with its own
 * `tid`: each one is a new observation, recorded as one ProgressEvent (an
 * unknown bid creates its task with one sub-task, the dock).
 */
export function otaProgress(args: { run: string; bid: number; tid: number; percent: number; timestamp: number; dock?: number }): Outgoing {
  const sn = dockSn(args.dock ?? args.bid);
  const payload = {
    tid: `${args.run}-tid-${args.tid}`,
    bid: `${args.run}-bid-${args.bid}`,
    timestamp: args.timestamp,
    method: 'ota_progress',
    gateway: sn,
    need_reply: 0,
    data: {
      result: 0,
      output: {
        status: 'in_progress',
        progress: { percent: args.percent, current_step: args.percent < 50 ? 'download_firmware' : 'upgrade_firmware' },
      },
    },
  };
  return { topic: `thing/product/${sn}/events`, payload: Buffer.from(JSON.stringify(payload)) };
}

/**
 * `count` progress messages over `bids` tasks, distinct tids, split into
 * `lanes` lists so that one task's messages always go through the same
 * publisher, in order (their timestamps increase, so each one is applied).
 */
export function progressLanes(run: string, count: number, bids: number, lanes: number): Outgoing[][] {
  const out: Outgoing[][] = Array.from({ length: lanes }, () => []);
  const base = Date.now();
  for (let i = 0; i < count; i++) {
    const bid = i % bids;
    const round = Math.floor(i / bids);
    // Each lane is one dock (the gateway's broker lets a client publish only as its own dock).
    const message = otaProgress({ run, bid, tid: i, percent: Math.min(99, round), timestamp: base + i, dock: bid % lanes });
    out[bid % lanes].push(message);
  }
  return out;
}

/** Devices per Huawei operation in the webhook load. */
const DEVICES_PER_OPERATION = 10;

/**
 * Push number `i` of `total`: each device goes through the firmware (even
 * operations) or software (odd) sequence below, one push per step, so every
 * push differs (device, operation, sub-operation and state). The first step
 * creates the sub-task (and, for the operation's first device, the task); the
 * others update it.
 */
export function huaweiPush(run: string, i: number, total: number): string {
  const steps = 4;
  const devices = Math.max(1, Math.ceil(total / steps));
  const device = i % devices;
  const step = Math.floor(i / devices) % steps;
  const operation = Math.floor(device / DEVICES_PER_OPERATION);
  const ids = {
    deviceId: `${run}-dev-${device}`,
    appId: 'bench-app',
    operationId: `${run}-op-${operation}`,
    subOperationId: `${run}-sub-${device}`,
  };
  if (operation % 2 === 0) {
    if (step < 3) {
      const words = ['downloading', 'downloaded', 'updating'];
      return JSON.stringify({ notifyType: 'fwUpgradeStateChangeNotify', ...ids, step: String(step + 1), stepDesc: words[step] });
    }
    return JSON.stringify(firmwareSuccessBody(ids));
  }
  if (step < 3) {
    const words = ['otacreated', 'downloaded', 'downloading'];
    return JSON.stringify({ notifyType: 'swUpgradeStateChangeNotify', ...ids, swUpgradeState: words[step] });
  }
  return JSON.stringify({
    notifyType: 'swUpgradeResultNotify',
    ...ids,
    curVersion: '1.3',
    targetVersion: '1.5',
    sourceVersion: '1.0',
    swUpgradeResult: device % 7 === 0 ? 'FAIL' : 'SUCCESS',
    upgradeTime: 95,
    resultDesc: device % 7 === 0 ? 'FAIL' : 'SUCCESS',
    errorCode: device % 7 === 0 ? '7' : '0',
    description: device % 7 === 0 ? 'package verify failed' : 'ok',
  });
}

/** The fields a dashboard shows of a live progress message. */
export const PROGRESS_SUBSCRIPTION = /* GraphQL */ `
  subscription BenchProgress {
    upgradeProgress {
      task { id externalId status progress updatedAt }
      subTask { id deviceId status percent step vendorStatus updatedAt }
      event { id status vendorStatus percent step applied occurredAt receivedAt }
    }
  }
`;
