/**
 * A simulated DJI dock on an MQTT broker, for demos and tests: it answers the
 * gateway's `ota_create` and reports an upgrade the way a dock does
 * (protocols.md §2.3, §2.4, §2.7).
 *
 *   gateway ── ota_create ──────────▶ thing/product/{sn}/services
 *   dock ───── services_reply ──────▶ thing/product/{sn}/services_reply   (same tid and bid)
 *   dock ───── ota_progress ────────▶ thing/product/{sn}/events           (need_reply 1, fresh tid)
 *   gateway ── events_reply ────────▶ thing/product/{sn}/events_reply     (checked by tid)
 *
 * At connect it announces itself for the fleet inventory (protocols.md §5.2):
 *
 *   dock ───── update_topo ─────────▶ sys/product/{sn}/status             (dock + its aircraft)
 *   gateway ── status_reply ────────▶ sys/product/{sn}/status_reply       (same tid and bid)
 *   dock ───── state ───────────────▶ thing/product/{sn|aircraft_sn}/state (firmware_version, …)
 *
 * and after a successful upgrade it reports the new `firmware_version` of
 * each device upgraded on `state`.
 *
 * The CLI around it is `src/simulators/dock.ts` (`npm run simulate:dock`).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  OTA_CREATE_METHOD,
  OTA_PROGRESS_METHOD,
  eventsReplyTopic,
  isValidDjiSn,
  servicesTopic,
  statusReplyTopic,
  UPDATE_TOPO_METHOD,
  type DJI_STEPS,
} from '../ingest/dji/protocol';
import { consoleOutput, type SimulatorOutput } from './output';

/** Where the gateway's embedded broker listens by default. */
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

/** Time between two progress reports at speed 1. */
export const DEFAULT_INTERVAL_MS = 300;

/** How long the dock waits for an `events_reply` before it prints a warning. */
export const DEFAULT_REPLY_TIMEOUT_MS = 5000;

/** The error a failed upgrade reports (`--fail-at`): "aircraft power-on failed or not connected" (protocols.md §2.3). */
export const FAILURE_RESULT = 312022;

/** What a real dock answers to an `ota_create` while it is still busy with another upgrade (protocols.md §2.3). */
export const BUSY_RESULT = 312014;

/** What {@link DockOptions.onUpgrade} is told. */
export type DockUpgradeEvent =
  | { readonly kind: 'ota_create'; readonly gatewaySn: string; readonly bid: string; readonly devices: readonly string[]; readonly resend: boolean; readonly result: number }
  | { readonly kind: 'ending'; readonly gatewaySn: string; readonly bid: string; readonly status: 'ok' | 'failed' };

/** What a dock answers to an `ota_create` while busy with something else (`busyRate`). */
export const DOCK_BUSY_RESULT = 312015;

/** Percent points between two progress reports. */
const PERCENT_STEP = 10;

export interface DockOptions {
  /** The dock's serial number: the `{gateway_sn}` of its topics. */
  readonly gatewaySn: string;
  /** The broker, credentials in the URL if needed (`mqtt://user:pass@host:1883`). @default DEFAULT_MQTT_URL */
  readonly mqttUrl?: string;
  /** Makes the upgrade phase fail at this percent (0..100): status `failed`, result {@link FAILURE_RESULT}. */
  readonly failAt?: number;
  /** Refuses every `ota_create` with this `result` code (non-zero) instead of upgrading. */
  readonly reject?: number;
  /** Share (0..1) of upgrades refused with {@link DOCK_BUSY_RESULT} (312015 dock busy), decided once per bid. */
  readonly busyRate?: number;
  /** Share (0..1) of accepted upgrades that fail at 50 % with {@link FAILURE_RESULT}. */
  readonly failRate?: number;
  /** Random numbers in [0, 1) for `busyRate` and `failRate`. @default Math.random */
  readonly random?: () => number;
  /**
   * Told, synchronously, of every `ota_create` the dock receives (with the
   * result it answers) and of every upgrade about to send its last report:
   * tests count what is in flight from the docks' side with it.
   */
  readonly onUpgrade?: (event: DockUpgradeEvent) => void;
  /** Divides the time between reports: 2 is twice as fast. @default 1 */
  readonly speed?: number;
  /** Time between reports at speed 1. @default DEFAULT_INTERVAL_MS */
  readonly intervalMs?: number;
  /** Stops after the first upgrade has finished (succeeded, failed or been refused). */
  readonly once?: boolean;
  /** How long to wait for each `events_reply` before warning. @default DEFAULT_REPLY_TIMEOUT_MS */
  readonly replyTimeoutMs?: number;
  /** @default a unique `dock-sim-<sn>-<random>` */
  readonly clientId?: string;
  /**
   * MQTT username. @default the dock's sn (unless the URL carries a user): the
   * identity the gateway's embedded broker gives an anonymous loopback client,
   * and the username `npm run mqtt:passwd` makes for a dock.
   */
  readonly username?: string;
  /** MQTT password (the gateway's `MQTT_PASSWORD_FILE` holds its hash). */
  readonly password?: string;
  /** The dock's model key `domain-type-sub_type`, announced in `update_topo`. @default DEFAULT_DOCK_MODEL */
  readonly dockModel?: string;
  /** The dock's firmware version, reported on `state` at connect. @default DEFAULT_FIRMWARE_VERSION */
  readonly firmwareVersion?: string;
  /**
   * The aircraft in the dock, announced in `update_topo` with its own `state`;
   * null for an empty dock. @default `{ sn: <sn>-UAV, model: '0-91-0', firmwareVersion: DEFAULT_FIRMWARE_VERSION }`
   */
  readonly aircraft?: SimulatedAircraft | null;
  /** Report `compatible_status` 1 (a consistency upgrade is needed) until an upgrade succeeds. */
  readonly consistencyUpgradeNeeded?: boolean;
  /** Where lines go. @default consoleOutput */
  readonly output?: SimulatorOutput;
  /**
   * The dock's own clock for message timestamps, given how many messages it
   * has stamped before (a clock that jumps to 1970 or a year ahead after a
   * reboot, or runs backwards). @default the host's, strictly increasing
   */
  readonly clock?: (stamped: number) => number;
}

/** An aircraft behind a simulated dock. */
export interface SimulatedAircraft {
  readonly sn: string;
  /** Model key `domain-type-sub_type`, e.g. `0-91-0` (Matrice 3D). */
  readonly model: string;
  readonly firmwareVersion: string;
}

/** The model a simulated dock announces by default: DJI Dock 2. */
export const DEFAULT_DOCK_MODEL = '3-2-0';

/** The firmware version a simulated device reports by default. */
export const DEFAULT_FIRMWARE_VERSION = '10.01.1612';

/** `3-2-0` → `{ domain: '3', type: 2, sub_type: 0 }` as `update_topo` spells it (domain as a string, as in DJI's docs). */
function modelFields(model: string): { domain: string; type: number; sub_type: number } {
  const [domain, type, subType] = model.split('-');
  return { domain, type: Number(type), sub_type: Number(subType) };
}

/** How one upgrade (one `bid`) ended. */
export type UpgradeOutcome = 'ok' | 'failed' | 'rejected' | 'interrupted';

/** One upgrade the dock took part in. */
export interface UpgradeRun {
  readonly bid: string;
  /** The `sn`s the `ota_create` named. */
  readonly devices: readonly string[];
  readonly outcome: UpgradeOutcome;
  /** The `result` of the `services_reply` (refused) or of the last `ota_progress`. */
  readonly result: number;
  /** `ota_progress` events sent. */
  readonly eventsSent: number;
  /** `events_reply` messages received for them (matching tid and bid). */
  readonly repliesReceived: number;
  /** Events whose reply did not come within the reply timeout. */
  readonly repliesMissing: number;
}

/** What a stopped simulator did. */
export interface DockSummary {
  /** Finished upgrades, in the order they finished. */
  readonly upgrades: readonly UpgradeRun[];
}

/** A running simulated dock. */
export interface DockSimulator {
  readonly gatewaySn: string;
  readonly mqttUrl: string;
  /** Upgrades finished so far. */
  readonly upgrades: readonly UpgradeRun[];
  /** Resolves once the dock has stopped: `close()`, or the first finished upgrade with `once`. */
  readonly done: Promise<DockSummary>;
  /** Stops the reports, disconnects cleanly and resolves with the summary; safe to call twice. */
  close(): Promise<DockSummary>;
}

/** One planned `ota_progress` report. */
export interface ProgressReport {
  readonly status: 'in_progress' | 'ok' | 'failed';
  readonly step: (typeof DJI_STEPS)[number];
  readonly percent: number;
  /** `data.result`: 0, or {@link FAILURE_RESULT} for the failure. */
  readonly result: number;
}

/**
 * The reports of one upgrade: download 0→100 (`download_firmware`), then
 * upgrade 0→100 (`upgrade_firmware`) in steps of 10 %, then `ok` at 100. With
 * `failAt`, the upgrade phase stops at that percent with `failed` and
 * {@link FAILURE_RESULT} instead.
 */
export function progressPlan(failAt?: number): ProgressReport[] {
  const plan: ProgressReport[] = [];
  for (let percent = 0; percent <= 100; percent += PERCENT_STEP) {
    plan.push({ status: 'in_progress', step: 'download_firmware', percent, result: 0 });
  }
  for (let percent = 0; percent <= 100; percent += PERCENT_STEP) {
    if (failAt !== undefined && percent >= failAt) {
      plan.push({ status: 'failed', step: 'upgrade_firmware', percent: failAt, result: FAILURE_RESULT });
      return plan;
    }
    plan.push({ status: 'in_progress', step: 'upgrade_firmware', percent, result: 0 });
  }
  plan.push({ status: 'ok', step: 'upgrade_firmware', percent: 100, result: 0 });
  return plan;
}

/** Checks options a caller (or the CLI) passed; throws a RangeError naming the bad one. */
export function checkDockOptions(options: DockOptions): void {
  if (!isValidDjiSn(options.gatewaySn)) {
    throw new RangeError(`gateway-sn must be 1 to 64 characters without '/', '+', '#' (got ${JSON.stringify(options.gatewaySn)})`);
  }
  if (options.failAt !== undefined && !(Number.isInteger(options.failAt) && options.failAt >= 0 && options.failAt <= 100)) {
    throw new RangeError(`fail-at must be a whole percent from 0 to 100 (got ${options.failAt})`);
  }
  if (options.reject !== undefined && !(Number.isSafeInteger(options.reject) && options.reject !== 0)) {
    throw new RangeError(`reject must be a non-zero whole result code such as 312015 (got ${options.reject})`);
  }
  for (const [name, rate] of [['busy-rate', options.busyRate], ['fail-rate', options.failRate]] as const) {
    if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be a share from 0 to 1 (got ${rate})`);
  }
  if (options.reject !== undefined && options.failAt !== undefined) {
    throw new RangeError('reject and --fail-at exclude each other: a refused upgrade never starts');
  }
  if (options.speed !== undefined && !(Number.isFinite(options.speed) && options.speed > 0)) {
    throw new RangeError(`speed must be a number above 0 (got ${options.speed})`);
  }
  for (const [name, value] of [
    ['intervalMs', options.intervalMs],
    ['replyTimeoutMs', options.replyTimeoutMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number of milliseconds (got ${value})`);
  }
  const url = options.mqttUrl ?? DEFAULT_MQTT_URL;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new RangeError(`mqtt-url must be a URL such as ${DEFAULT_MQTT_URL} (got ${JSON.stringify(url)})`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(protocol)) {
    throw new RangeError(`mqtt-url must start with mqtt://, mqtts://, ws:// or wss:// (got ${JSON.stringify(url)})`);
  }
}

type Json = Record<string, any>;

function parseJson(payload: Buffer): Json | null {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

/** The topics a dock publishes on (the gateway's protocol module builds only the ones it publishes). */
const eventsTopic = (sn: string) => `thing/product/${sn}/events`;
const servicesReplyTopic = (sn: string) => `thing/product/${sn}/services_reply`;
const statusTopic = (sn: string) => `sys/product/${sn}/status`;
const stateTopic = (sn: string) => `thing/product/${sn}/state`;

/** A wait that `signal` cuts short. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** An event waiting for its `events_reply`. */
interface PendingReply {
  readonly bid: string;
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
  /** true: the reply came; false: it timed out or the dock stopped. */
  readonly settle: (received: boolean) => void;
}

/**
 * Connects a simulated dock and subscribes to its `services` and
 * `events_reply` topics; resolves once it is listening, so an `ota_create`
 * sent after that reaches it.
 *
 * - `ota_create` → `services_reply` with the same tid and bid: result 0 and
 *   `output.status` `in_progress`, or `reject` as the result, or 312014 when
 *   another upgrade is still running. Then the {@link progressPlan} reports, one
 *   every `intervalMs / speed`, each with `need_reply: 1`, a fresh tid and an
 *   increasing timestamp. A repeated `ota_create` for the same bid (a resend)
 *   is answered again but starts nothing.
 * - Each report's `events_reply` is matched by tid; a warning is printed when
 *   it does not come within `replyTimeoutMs`, or comes with another bid or a
 *   non-zero result.
 *
 * @throws RangeError for bad options ({@link checkDockOptions}); Error when the
 * broker cannot be reached or refuses the subscription.
 */
/** The username and password to connect with: the options', else the URL's, else the sn as username. */
function dockCredentials(mqttUrl: string, sn: string, options: DockOptions): { username?: string; password?: string } {
  let urlHasUser = false;
  try {
    urlHasUser = new URL(mqttUrl).username !== '';
  } catch {
    // MQTT.js reports a bad URL itself.
  }
  const username = options.username ?? (urlHasUser ? undefined : sn);
  return { ...(username === undefined ? {} : { username }), ...(options.password === undefined ? {} : { password: options.password }) };
}

export async function startDock(options: DockOptions): Promise<DockSimulator> {
  checkDockOptions(options);
  const sn = options.gatewaySn;
  const mqttUrl = options.mqttUrl ?? DEFAULT_MQTT_URL;
  const out = options.output ?? consoleOutput;
  const interval = (options.intervalMs ?? DEFAULT_INTERVAL_MS) / (options.speed ?? 1);
  const replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  const plan = progressPlan(options.failAt);
  const failingPlan = progressPlan(50);
  const random = options.random ?? Math.random;
  /** Bids refused as busy (`busyRate`): a resend is refused again. */
  const busyBids = new Set<string>();

  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(
      mqttUrl,
      {
        clientId: options.clientId ?? `dock-sim-${sn}-${randomUUID().slice(0, 8)}`,
        ...dockCredentials(mqttUrl, sn, options),
        protocolVersion: 4,
        clean: true,
        connectTimeout: 5000,
        // After the first connection, ride out a broker restart like a dock would.
        reconnectPeriod: 1000,
      },
      false,
    );
  } catch (error) {
    throw new Error(`could not connect to ${redact(mqttUrl)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const granted = await client.subscribeAsync([servicesTopic(sn), eventsReplyTopic(sn), statusReplyTopic(sn)], { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length > 0) throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
  } catch (error) {
    await client.endAsync(true).catch(() => undefined);
    throw error;
  }

  const stop = new AbortController();
  const pending = new Map<string, PendingReply>();
  const finished: UpgradeRun[] = [];
  /** Bids answered with result 0: a resend of their ota_create starts nothing. */
  const accepted = new Set<string>();
  /** Bids refused with `reject`: a resend is refused again but counted once. */
  const refused = new Set<string>();
  let running: string | null = null;
  let lastTimestamp = 0;
  let closing: Promise<DockSummary> | undefined;
  let resolveDone: (summary: DockSummary) => void = () => undefined;
  const done = new Promise<DockSummary>((resolve) => (resolveDone = resolve));

  let stamped = 0;
  /** ms since the epoch: strictly increasing, unless the dock's own `clock` says otherwise. */
  const timestamp = () =>
    options.clock ? options.clock(stamped++) : (lastTimestamp = Math.max(Date.now(), lastTimestamp + 1));

  const publish = async (topic: string, body: Json): Promise<void> => {
    await client.publishAsync(topic, JSON.stringify(body), { qos: 1 });
  };

  // What the dock runs, by device sn (the dock and its aircraft), and whether it needs a consistency upgrade.
  const aircraft = options.aircraft === undefined ? { sn: `${sn.slice(0, 60)}-UAV`, model: '0-91-0', firmwareVersion: DEFAULT_FIRMWARE_VERSION } : options.aircraft;
  const versions = new Map<string, string>([[sn, options.firmwareVersion ?? DEFAULT_FIRMWARE_VERSION]]);
  if (aircraft) versions.set(aircraft.sn, aircraft.firmwareVersion);
  let consistencyNeeded = options.consistencyUpgradeNeeded ?? false;

  /** `state` with the firmware properties of one device, on its own topic, naming this dock as gateway. */
  const reportState = async (deviceSn: string, upgrading: boolean): Promise<void> => {
    const data = { firmware_version: versions.get(deviceSn), compatible_status: consistencyNeeded ? 1 : 0, firmware_upgrade_status: upgrading ? 1 : 0 };
    // Wall-clock time: the dock's own `clock` stamps its OTA messages only (tests script it message by message).
    await publish(stateTopic(deviceSn), { tid: randomUUID(), bid: randomUUID(), timestamp: Date.now(), gateway: sn, data });
    out.info(`→ ${stateTopic(deviceSn)} firmware_version=${data.firmware_version} compatible_status=${data.compatible_status} firmware_upgrade_status=${data.firmware_upgrade_status}`);
  };

  /** `update_topo` (the dock and its aircraft), then each device's `state`. */
  const announce = async (): Promise<void> => {
    const tid = randomUUID();
    const subDevices = aircraft ? [{ sn: aircraft.sn, ...modelFields(aircraft.model), index: 'A', device_secret: 'sim', nonce: 'sim', thing_version: '1.1.2' }] : [];
    const topology = { ...modelFields(options.dockModel ?? DEFAULT_DOCK_MODEL), device_secret: 'sim', nonce: 'sim', thing_version: '1.1.2', sub_devices: subDevices };
    await publish(statusTopic(sn), { tid, bid: randomUUID(), timestamp: Date.now(), method: UPDATE_TOPO_METHOD, data: topology });
    out.info(`→ ${statusTopic(sn)} update_topo dock=${options.dockModel ?? DEFAULT_DOCK_MODEL}${aircraft ? ` aircraft=${aircraft.sn}@${aircraft.model}` : ' (no aircraft)'} tid=${tid}`);
    for (const deviceSn of versions.keys()) await reportState(deviceSn, false);
  };

  const finish = (run: UpgradeRun): void => {
    finished.push(run);
    const tail = run.eventsSent > 0 ? `; ${run.eventsSent} events, ${run.repliesReceived} replies, ${run.repliesMissing} missing` : '';
    out.info(`upgrade ${run.bid} finished: ${run.outcome} (result ${run.result})${tail}`);
    if (run.repliesMissing > 0) out.warn(`upgrade ${run.bid}: ${run.repliesMissing} events_reply missing`);
    if (options.once) void close();
  };

  const waitForReply = (tid: string, bid: string): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(tid);
        out.warn(`no events_reply for ota_progress tid=${tid} within ${replyTimeoutMs} ms`);
        resolve(false);
      }, replyTimeoutMs);
      pending.set(tid, { bid, sentAt: Date.now(), timer, settle: resolve });
    });

  const runUpgrade = async (bid: string, devices: string[], targets: ReadonlyMap<string, string> = new Map()): Promise<void> => {
    const replies: Promise<boolean>[] = [];
    let last: ProgressReport | undefined;
    let outcome: UpgradeOutcome = 'interrupted';
    const reports = options.failRate && random() < options.failRate ? failingPlan : plan;
    try {
      for (const report of reports) {
        await sleep(interval, stop.signal);
        if (stop.signal.aborted) break;
        const tid = randomUUID();
        const output: Json = { status: report.status, progress: { percent: report.percent, current_step: report.step } };
        // DJI's demo also reports the transfer rate while downloading (bytes/s).
        if (report.step === 'download_firmware' && report.status === 'in_progress') {
          output.ext = { rate: 2_000_000 + Math.floor(Math.random() * 1_000_000) };
        }
        const event = {
          tid,
          bid,
          timestamp: timestamp(),
          method: OTA_PROGRESS_METHOD,
          gateway: sn,
          need_reply: 1,
          data: { result: report.result, output },
        };
        replies.push(waitForReply(tid, bid));
        if (report.status !== 'in_progress') options.onUpgrade?.({ kind: 'ending', gatewaySn: sn, bid, status: report.status });
        await publish(eventsTopic(sn), event);
        out.info(
          `→ ${eventsTopic(sn)} ota_progress ${report.status} ${report.step} ${report.percent}%` +
            `${report.result !== 0 ? ` result=${report.result}` : ''} bid=${bid} tid=${tid}`,
        );
        last = report;
      }
      if (!stop.signal.aborted && last) outcome = last.status === 'ok' ? 'ok' : 'failed';
      if (outcome === 'ok') {
        // What a dock does after rebooting into the new firmware: report it on state.
        consistencyNeeded = false;
        for (const [deviceSn, version] of targets) {
          // Only the devices it announced: the broker lets a dock speak for no other.
          if (!versions.has(deviceSn)) continue;
          versions.set(deviceSn, version);
          await reportState(deviceSn, false);
        }
      }
    } catch (error) {
      // A publish cut off by close() is no news; anything else is.
      if (!stop.signal.aborted) out.warn(`upgrade ${bid} stopped: ${(error as Error).message}`);
    }
    // The upgrade is over for the dock; it still checks every reply came.
    const received = await Promise.all(replies);
    running = null;
    finish({
      bid,
      devices,
      outcome,
      result: last?.result ?? 0,
      eventsSent: replies.length,
      repliesReceived: received.filter(Boolean).length,
      repliesMissing: stop.signal.aborted ? 0 : received.filter((r) => !r).length,
    });
  };

  const onServices = async (topic: string, json: Json | null): Promise<void> => {
    if (json === null) return out.warn(`← ${topic}: not a JSON object; ignored`);
    const { tid, bid, method } = json;
    if (method !== OTA_CREATE_METHOD) return out.info(`← ${topic} ${String(method)}: not simulated; ignored`);
    if (typeof tid !== 'string' || typeof bid !== 'string') return out.warn(`← ${topic} ota_create without tid and bid; not answered`);
    const list: Json[] = Array.isArray(json.data?.devices) ? json.data.devices : [];
    const devices = list.map((d) => String(d?.sn));
    const described = list.map((d) => `${String(d?.sn)}@${String(d?.product_version)}`).join(', ');
    out.info(`← ${topic} ota_create bid=${bid} tid=${tid} devices=${described || '(none)'}`);

    // Decided before the first await: the next message may be handled while this reply is on its way.
    const resend = accepted.has(bid);
    if (!resend && !busyBids.has(bid) && running === null && options.busyRate && random() < options.busyRate) busyBids.add(bid);
    const result = options.reject ?? (busyBids.has(bid) ? DOCK_BUSY_RESULT : running !== null && running !== bid ? BUSY_RESULT : 0);
    if (result === 0 && !resend) {
      accepted.add(bid);
      running = bid;
    }
    const data = result === 0 ? { result, output: { status: 'in_progress' } } : { result };
    options.onUpgrade?.({ kind: 'ota_create', gatewaySn: sn, bid, devices, resend, result });
    try {
      await publish(servicesReplyTopic(sn), { tid, bid, timestamp: timestamp(), method: OTA_CREATE_METHOD, gateway: sn, data });
    } catch (error) {
      // Not answered: the gateway resends, and that resend must be able to start it.
      if (result === 0 && !resend) {
        accepted.delete(bid);
        running = null;
      }
      throw error;
    }
    out.info(
      `→ ${servicesReplyTopic(sn)} ota_create result=${result}${result === 0 ? ' status=in_progress' : ''} bid=${bid} tid=${tid}` +
        `${resend ? ' (a resend: started already)' : ''}${result === BUSY_RESULT && options.reject === undefined ? ' (busy with another upgrade)' : ''}`,
    );
    if (result !== 0) {
      // Refused on purpose (--reject): that upgrade is over (once per bid). Busy: the running one goes on.
      if ((options.reject !== undefined || busyBids.has(bid)) && !refused.has(bid)) {
        refused.add(bid);
        finish({ bid, devices, outcome: 'rejected', result, eventsSent: 0, repliesReceived: 0, repliesMissing: 0 });
      }
      return;
    }
    if (!resend) {
      const targets = new Map(list.filter((d) => typeof d?.sn === 'string' && typeof d?.product_version === 'string').map((d) => [d.sn as string, d.product_version as string]));
      void runUpgrade(bid, devices, targets);
    }
  };

  const onEventsReply = (topic: string, json: Json | null): void => {
    if (json === null) return out.warn(`← ${topic}: not a JSON object`);
    const { tid, bid, method } = json;
    const result = json.data?.result;
    const waiting = typeof tid === 'string' ? pending.get(tid) : undefined;
    if (!waiting) return out.warn(`← ${topic} ${String(method)} tid=${String(tid)}: no event of this dock waits for it`);
    pending.delete(tid);
    clearTimeout(waiting.timer);
    out.info(`← ${topic} ${String(method)} result=${String(result)} bid=${String(bid)} tid=${tid} (${Date.now() - waiting.sentAt} ms)`);
    if (bid !== waiting.bid) out.warn(`events_reply tid=${tid} carries bid ${JSON.stringify(bid)}, expected ${waiting.bid}`);
    if (method !== OTA_PROGRESS_METHOD) out.warn(`events_reply tid=${tid} carries method ${JSON.stringify(method)}, expected ota_progress`);
    if (result !== 0) out.warn(`events_reply tid=${tid} carries result ${JSON.stringify(result)}, expected 0`);
    waiting.settle(true);
  };

  client.on('message', (topic, payload) => {
    if (stop.signal.aborted) return;
    const json = parseJson(payload);
    if (topic === statusReplyTopic(sn)) return out.info(`← ${topic} ${String(json?.method)} result=${String(json?.data?.result)} tid=${String(json?.tid)}`);
    const handled =
      topic === servicesTopic(sn) ? onServices(topic, json) : topic === eventsReplyTopic(sn) ? onEventsReply(topic, json) : undefined;
    Promise.resolve(handled).catch((error: unknown) => out.warn(`handling ${topic} failed: ${(error as Error).message}`));
  });
  client.on('offline', () => {
    if (!stop.signal.aborted) out.warn(`lost the connection to ${redact(mqttUrl)}; reconnecting`);
  });
  client.on('reconnect', () => out.info(`reconnecting to ${redact(mqttUrl)}…`));
  // A real dock announces its topology on every connection (the gateway then knows it is back, with what).
  client.on('connect', () => {
    announce().catch((error: unknown) => out.warn(`announcing failed: ${(error as Error).message}`));
  });
  // After startDock has returned: the dock is listening already, and its caller sets up (its signal handlers) first.
  // The first line too: whoever waits for it may act on the dock at once (a signal), so it comes once the caller is set up.
  setImmediate(() => {
    out.info(`dock ${sn} connected to ${redact(mqttUrl)}; waiting for ota_create on ${servicesTopic(sn)}`);
    if (!stop.signal.aborted) announce().catch((error: unknown) => out.warn(`announcing failed: ${(error as Error).message}`));
  });
  client.on('error', (error) => out.warn(`mqtt: ${error.message}`));

  function close(): Promise<DockSummary> {
    closing ??= (async () => {
      stop.abort();
      for (const [tid, waiting] of pending) {
        clearTimeout(waiting.timer);
        pending.delete(tid);
        waiting.settle(false);
      }
      // Let a run that was cut short record itself before the summary is made.
      await new Promise((resolve) => setImmediate(resolve));
      await client.endAsync().catch(() => client.end(true));
      out.info(`dock ${sn} disconnected`);
      const summary = { upgrades: [...finished] };
      resolveDone(summary);
      return summary;
    })();
    return closing;
  }

  return {
    gatewaySn: sn,
    mqttUrl,
    get upgrades() {
      return [...finished];
    },
    done,
    close,
  };
}

/** The URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
