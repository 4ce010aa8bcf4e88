/**
 * A simulated Huawei OceanConnect platform: posts a realistic sequence of
 * northbound pushes to the gateway's callback (protocols.md §1.5, §1.9):
 *
 *   1-4  firmware: downloading → downloaded → updating → result SUCCESS
 *   5    the firmware result again (a re-push: Huawei delivers at least once)
 *   6-7  software: downloading → result FAIL with errorCode "7"
 *   8    device shadow change DELIVERED
 *
 * The CLI around it is `src/simulators/huawei.ts` (`npm run simulate:huawei`).
 */
import { randomBytes } from 'node:crypto';
import { HUAWEI_CALLBACK_PATH } from '../ingest/huawei/webhook.plugin';
import { consoleOutput, type SimulatorOutput } from './output';

/** The identifiers one run uses; fresh ones each run, so a second run is not all duplicates. */
export interface HuaweiIds {
  readonly deviceId: string;
  readonly appId: string;
  readonly firmware: { readonly operationId: string; readonly subOperationId: string };
  readonly software: { readonly operationId: string; readonly subOperationId: string };
}

/** One push of the sequence. */
export interface HuaweiPush {
  /** What it stands for, e.g. "firmware downloading". */
  readonly label: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface HuaweiSequenceOptions {
  /** The callback URL; a URL without a path gets the gateway's `/v1.0.0/messageReceiver`. */
  readonly url: string;
  /** Appended as `?token=` (the gateway's WEBHOOK_TOKEN). */
  readonly token?: string;
  /** Fixes the device id (the other ids stay fresh). */
  readonly deviceId?: string;
  /** All the ids, for tests; wins over `deviceId`. */
  readonly ids?: HuaweiIds;
  /** Pause between two pushes. @default 0 */
  readonly delayMs?: number;
  /** Per-request time limit. @default 10000 */
  readonly timeoutMs?: number;
  /** @default consoleOutput */
  readonly output?: SimulatorOutput;
}

/** What the gateway answered to one push. */
export interface PushResult {
  /** 1-based position in the sequence. */
  readonly index: number;
  readonly label: string;
  readonly notifyType: string;
  /** HTTP status, or null when no answer came (connection refused, time-out). */
  readonly status: number | null;
  /** The response body, or the network error. */
  readonly response: string;
}

export interface HuaweiSequenceResult {
  readonly ids: HuaweiIds;
  /** The callback URL as posted to (with the token, if any). */
  readonly url: string;
  readonly results: readonly PushResult[];
  /** True when every push was answered 200. */
  readonly ok: boolean;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Fresh identifiers, shaped like the platform's (hex operation ids). */
export function newHuaweiIds(deviceId = `sim-${hex(4)}`): HuaweiIds {
  return {
    deviceId,
    appId: 'AppID_SIM',
    firmware: { operationId: hex(6), subOperationId: hex(6) },
    software: { operationId: hex(6), subOperationId: hex(6) },
  };
}

/** The ids one firmware or software upgrade of one device is pushed with. */
export interface HuaweiOperationIds {
  readonly deviceId: string;
  readonly appId: string;
  readonly operationId: string;
  readonly subOperationId: string;
}

/** A `fwUpgradeResultNotify` SUCCESS, 1.3 → 1.6, as the platform sends it. */
export function firmwareSuccessBody(ids: HuaweiOperationIds): Record<string, unknown> {
  return {
    notifyType: 'fwUpgradeResultNotify',
    ...ids,
    curVersion: '1.6',
    targetVersion: '1.6',
    sourceVersion: '1.3',
    status: 'SUCCESS',
    statusDesc: 'SUCCESS: The device upgrade is successful.',
    upgradeTime: '120',
  };
}

/** The eight pushes, in order, for `ids`. The fifth repeats the fourth byte for byte. */
export function huaweiSequence(ids: HuaweiIds): HuaweiPush[] {
  const fw = { deviceId: ids.deviceId, appId: ids.appId, ...ids.firmware };
  const sw = { deviceId: ids.deviceId, appId: ids.appId, ...ids.software };
  const fwResult: HuaweiPush = { label: 'firmware result SUCCESS', body: firmwareSuccessBody(fw) };
  return [
    { label: 'firmware downloading', body: { notifyType: 'fwUpgradeStateChangeNotify', ...fw, step: '1', stepDesc: 'downloading' } },
    { label: 'firmware downloaded', body: { notifyType: 'fwUpgradeStateChangeNotify', ...fw, step: '2', stepDesc: 'downloaded' } },
    { label: 'firmware updating', body: { notifyType: 'fwUpgradeStateChangeNotify', ...fw, step: '3', stepDesc: 'updating' } },
    fwResult,
    { label: 'firmware result SUCCESS again (a re-push)', body: fwResult.body },
    { label: 'software downloading', body: { notifyType: 'swUpgradeStateChangeNotify', ...sw, swUpgradeState: 'downloading' } },
    {
      label: 'software result FAIL',
      body: {
        notifyType: 'swUpgradeResultNotify',
        ...sw,
        curVersion: '1.0',
        targetVersion: '1.5',
        sourceVersion: '1.0',
        swUpgradeResult: 'FAIL',
        // A number here, a string in the firmware result: the docs disagree (protocols.md §0.2).
        upgradeTime: 95,
        resultDesc: 'FAIL',
        errorCode: '7',
        description: 'package verify failed',
      },
    },
    {
      label: 'shadow DELIVERED',
      body: {
        notifyType: 'deviceDesiredPropertiesModifyStatusChanged',
        deviceId: ids.deviceId,
        serviceId: 'Device',
        properties: { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': '1.6' },
        status: 'DELIVERED',
      },
    },
  ];
}

/**
 * The URL to post to: `url` with the callback path when it has none, and
 * `?token=` when a token is given. @throws RangeError for a non-http(s) URL.
 */
export function callbackUrl(url: string, token?: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`url must be an http(s) URL such as http://localhost:4000${HUAWEI_CALLBACK_PATH} (got ${JSON.stringify(url)})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`url must start with http:// or https:// (got ${JSON.stringify(url)})`);
  }
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = HUAWEI_CALLBACK_PATH;
  if (token !== undefined) parsed.searchParams.set('token', token);
  return parsed.toString();
}

/** The URL with the token hidden, for printing. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('token')) parsed.searchParams.set('token', '***');
  return parsed.toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Posts {@link huaweiSequence} to the gateway one push at a time (each waits
 * for its answer), printing each push and the HTTP status. Goes on after a
 * non-200 answer; stops at the first push that gets no answer at all.
 */
export async function runHuaweiSequence(options: HuaweiSequenceOptions): Promise<HuaweiSequenceResult> {
  const url = callbackUrl(options.url, options.token);
  const ids = options.ids ?? newHuaweiIds(options.deviceId);
  const out = options.output ?? consoleOutput;
  const pushes = huaweiSequence(ids);
  const results: PushResult[] = [];
  out.info(`posting ${pushes.length} Huawei pushes for device ${ids.deviceId} to ${shown(url)}`);

  for (const [i, push] of pushes.entries()) {
    if (i > 0 && options.delayMs) await sleep(options.delayMs);
    const index = i + 1;
    const notifyType = String(push.body.notifyType);
    const text = JSON.stringify(push.body);
    out.info(`→ #${index} ${push.label}: ${text}`);
    let status: number | null = null;
    let response: string;
    try {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      status = answer.status;
      response = await answer.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      response = cause?.code ?? cause?.message ?? (error as Error).message;
    }
    results.push({ index, label: push.label, notifyType, status, response });
    const line = `← #${index} ${status ?? 'no answer'} ${response.length > 300 ? `${response.slice(0, 300)}…` : response}`.trimEnd();
    if (status === 200) out.info(line);
    else out.warn(line);
    if (status === null) break;
  }
  const ok = results.length === pushes.length && results.every((r) => r.status === 200);
  const refused = results.filter((r) => r.status !== 200).length;
  if (ok) out.info(`all ${pushes.length} pushes answered 200`);
  else if (results.length < pushes.length) out.warn(`stopped after push #${results.length}: the gateway did not answer`);
  else out.warn(`${refused} of ${pushes.length} pushes not answered 200`);
  return { ids, url, results, ok };
}
