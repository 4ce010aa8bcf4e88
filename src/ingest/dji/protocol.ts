/**
 * DJI Cloud API firmware upgrade (OTA) over MQTT: the one place that parses,
 * validates and builds DJI payloads, inbound and outbound.
 *
 * Inbound: `ota_progress` on `thing/product/{gateway_sn}/events` and the
 * `ota_create` reply on `thing/product/{gateway_sn}/services_reply` become
 * {@link InboundEnvelope}s for the recorder, plus the `events_reply` the dock
 * waits for. Outbound: `ota_create` on `thing/product/{gateway_sn}/services`.
 *
 * Pure: no I/O, no clock except the one passed in. See
 * `/work/shared/reference/protocols.md` §2 and §3 for the protocol facts and
 * the edge cases handled here.
 */
import { z } from 'zod';
import {
  FIRMWARE_UPGRADE_TYPE_WIRE,
  FirmwareUpgradeType,
  UpgradeKind,
  UpgradeSource,
  UpgradeStatus,
  clampPercent,
  envelopeOf,
  type InboundEnvelope,
  type ReceivedMessage,
  type ReportedFields,
  type UpgradeObservation,
} from '../../domain';
import { djiModelKey } from '../../inventory/models';
import type { DeviceStateObservation, TopologyObservation } from '../../inventory/observations';

// ---------------------------------------------------------------------------
// Limits and vocabulary
// ---------------------------------------------------------------------------

/**
 * Topics the gateway subscribes to (QoS 1): upgrade events and command
 * replies, and, for the inventory, the docks' topology (`status`) and the
 * changed properties of docks and aircraft (`state`).
 */
export const DJI_SUBSCRIPTIONS = [
  'thing/product/+/events',
  'thing/product/+/services_reply',
  'sys/product/+/status',
  'thing/product/+/state',
] as const;

/** Max payload the gateway accepts. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Longest device serial number accepted, in a topic or in `createFirmwareUpgrade` input. */
export const MAX_SN_LENGTH = 64;

/**
 * Longest `tid`/`bid` accepted. DJI sends UUIDs (36 chars) or decimal ids; the
 * cap keeps dedupe keys and task ids small enough to index.
 */
export const MAX_ID_LENGTH = 128;

/** Longest `method` accepted: it becomes the ledger's `channel`. */
export const MAX_METHOD_LENGTH = 64;

/**
 * Longest vendor word (`output.status`, `sub_status`, step) accepted: they are
 * short enums, and a longer value would only bloat the stored sub-task.
 */
export const MAX_VENDOR_WORD_LENGTH = 128;

/**
 * Longest text DJI allows for `product_version`, `file_url` and `file_name`
 * (`{"length":"10240"}` in the `ota_create` table).
 */
export const MAX_OTA_TEXT_LENGTH = 10240;

/** The event method this module turns into observations. */
export const OTA_PROGRESS_METHOD = 'ota_progress';

/** The service method the gateway sends, and whose `services_reply` it records. */
export const OTA_CREATE_METHOD = 'ota_create';

/**
 * DJI `output.status` words and the gateway status each one means. Shared by
 * `ota_progress` and the `ota_create` reply (same enum in DJI's docs).
 */
export const DJI_STATUS: Readonly<Record<string, UpgradeStatus>> = Object.freeze({
  sent: UpgradeStatus.SENT,
  in_progress: UpgradeStatus.IN_PROGRESS,
  paused: UpgradeStatus.PAUSED,
  ok: UpgradeStatus.SUCCEEDED,
  failed: UpgradeStatus.FAILED,
  canceled: UpgradeStatus.CANCELED,
  rejected: UpgradeStatus.REJECTED,
  timeout: UpgradeStatus.TIMED_OUT,
});

/** The two upgrade steps, as the docs spell them (`step_key` / `current_step`). */
export const DJI_STEPS = ['download_firmware', 'upgrade_firmware'] as const;

/**
 * DJI-Cloud-API-Demo's integer `current_step` (`OtaProgressStepEnum`) and the
 * step word it stands for, so all three spellings are stored alike.
 */
export const DJI_STEP_BY_NUMBER: Readonly<Record<number, (typeof DJI_STEPS)[number]>> = Object.freeze({
  1: 'download_firmware',
  2: 'upgrade_firmware',
});

/**
 * The gateway status for a DJI `output.status` word, or null for a word this
 * module does not know. Matched case-insensitively, like DJI's own SDK mapper.
 * Unknown words must never reject a message (DJI adds values over time).
 */
export function djiStatus(word: string): UpgradeStatus | null {
  const key = word.toLowerCase();
  return Object.hasOwn(DJI_STATUS, key) ? DJI_STATUS[key] : null;
}

// ---------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------

/** Which of the subscribed topic families a message arrived on. */
export type DjiTopicKind = 'events' | 'services_reply' | 'status' | 'state';

/** A parsed subscribed topic. */
export interface DjiTopic {
  /**
   * The serial number from the topic: the authority on who sent it. The
   * gateway (dock) for `events`, `services_reply` and `status`; for `state`,
   * the device the properties belong to (dock or aircraft).
   */
  readonly gatewaySn: string;
  readonly kind: DjiTopicKind;
}

/**
 * True when `sn` can stand in an MQTT topic level: non-empty (after trimming),
 * at most {@link MAX_SN_LENGTH} characters, and free of `/` (level separator),
 * `+` and `#` (wildcards) and NUL (forbidden in MQTT strings).
 */
export function isValidDjiSn(sn: string): boolean {
  return typeof sn === 'string' && sn.trim().length > 0 && sn.length <= MAX_SN_LENGTH && !/[/+#\u0000]/.test(sn);
}

function assertSn(gatewaySn: string): void {
  // A bad SN would publish to the wrong topic (or a wildcard): a programming error.
  if (!isValidDjiSn(gatewaySn)) throw new RangeError(`invalid DJI gateway SN for a topic: ${JSON.stringify(gatewaySn)}`);
}

/**
 * The topic the gateway publishes services (`ota_create`) to:
 * `thing/product/{gatewaySn}/services`.
 * @throws RangeError when `gatewaySn` is not a valid topic level ({@link isValidDjiSn}).
 */
export function servicesTopic(gatewaySn: string): string {
  assertSn(gatewaySn);
  return `thing/product/${gatewaySn}/services`;
}

/**
 * The topic the gateway publishes event replies to:
 * `thing/product/{gatewaySn}/events_reply`.
 * @throws RangeError when `gatewaySn` is not a valid topic level ({@link isValidDjiSn}).
 */
export function eventsReplyTopic(gatewaySn: string): string {
  assertSn(gatewaySn);
  return `thing/product/${gatewaySn}/events_reply`;
}

/**
 * Parses a topic the gateway subscribed to; null for anything else. Strips a
 * leading `$share/<group>/` if present (shared subscriptions, when several
 * gateway instances split the load).
 */
export function parseTopic(topic: string): DjiTopic | null {
  if (typeof topic !== 'string') return null;
  let levels = topic.split('/');
  if (levels[0] === '$share') {
    if (levels.length < 3 || levels[1] === '') return null;
    levels = levels.slice(2);
  }
  if (levels.length !== 4 || levels[1] !== 'product') return null;
  const [root, , gatewaySn, kind] = levels;
  const known =
    root === 'thing' ? kind === 'events' || kind === 'services_reply' || kind === 'state' : root === 'sys' && kind === 'status';
  if (!known) return null;
  if (!isValidDjiSn(gatewaySn)) return null;
  return { gatewaySn, kind: kind as DjiTopicKind };
}

// ---------------------------------------------------------------------------
// Inbound
// ---------------------------------------------------------------------------

/** What {@link parseDjiMessage} makes of one MQTT message. */
export interface DjiInbound {
  /** What the recorder gets (ledger + observation). */
  readonly envelope: InboundEnvelope;
  /** Set when the message asks for an events_reply (need_reply == 1 with tid/bid present): what to publish and where, after the envelope is recorded (or found duplicate, or even not applied). */
  readonly reply: { readonly topic: string; readonly payload: string } | null;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Reads the named (lowercase) fields of a JSON object, keys matched
 * case-insensitively: DJI's own SDK accepts `Status` for `status`, so we do
 * too. An exact lowercase key wins over other casings of the same name.
 * Iterates own entries only, so `__proto__` keys are plain data.
 */
function pick<K extends string>(obj: JsonObject, names: readonly K[]): Partial<Record<K, unknown>> {
  // Plain objects and loops: this runs four times for every message, and a Set, a Map and
  // Object.entries/fromEntries each time cost more than the JSON.parse before it.
  const out: JsonObject = {};
  for (const name of names) if (Object.hasOwn(obj, name)) out[name] = obj[name];
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const lower = key.toLowerCase();
    // `lower` is one of `names`, never `__proto__`: assigning it sets a plain property.
    if (key !== lower && !Object.hasOwn(out, lower) && (names as readonly string[]).includes(lower)) out[lower] = obj[key];
  }
  return out as Partial<Record<K, unknown>>;
}

/** Canonicalises a nested object (lowercase keys); anything else is passed on for the schema to reject. */
function pickNested<K extends string>(value: unknown, names: readonly K[]): unknown {
  return isObject(value) ? pick(value, names) : value;
}

/** Envelope fields, including the doc examples' typo key `"timestamp:"`. */
const ROOT_FIELDS = ['tid', 'bid', 'method', 'timestamp', 'timestamp:', 'need_reply', 'gateway', 'data'] as const;
const DATA_FIELDS = ['result', 'output'] as const;
const OUTPUT_FIELDS = ['status', 'sub_status', 'progress'] as const;
const PROGRESS_FIELDS = ['percent', 'step_key', 'current_step', 'step', 'step_result'] as const;

/** The wire message with its known keys made lowercase, ready for the schemas. */
function canonicalise(root: JsonObject): JsonObject {
  const top: JsonObject = pick(root, ROOT_FIELDS);
  const data = pickNested(top.data, DATA_FIELDS);
  if (isObject(data)) {
    const output = pickNested(data.output, OUTPUT_FIELDS);
    if (isObject(output)) output.progress = pickNested(output.progress, PROGRESS_FIELDS);
    data.output = output;
  }
  top.data = data;
  return top;
}

/** Error text for a wrong or missing JSON type. */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is missing' : `must be ${what}, got ${typeName(issue.input)}`);
}

const NO_NUL = (s: string): boolean => !s.includes('\u0000');

/** `tid`/`bid`: the dedupe and task keys, so they must be usable as such. */
const wireId = z
  .string({ error: expected('a string') })
  .refine((s) => s.trim().length > 0, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  // PostgreSQL text cannot hold NUL; an id with one could never be stored.
  .refine(NO_NUL, 'must not contain NUL characters');

const wireMethod = z
  .string({ error: expected('a string') })
  .refine((s) => s.trim().length > 0, 'must not be empty')
  .max(MAX_METHOD_LENGTH, `must be at most ${MAX_METHOD_LENGTH} characters`)
  .refine(NO_NUL, 'must not contain NUL characters');

/** A short vendor word; empty is allowed (DJI sends `"step_key":""`) and read as "not reported". */
const wireWord = z
  .string({ error: expected('a string') })
  .max(MAX_VENDOR_WORD_LENGTH, `must be at most ${MAX_VENDOR_WORD_LENGTH} characters`)
  .refine(NO_NUL, 'must not contain NUL characters');

/**
 * Numbers may come as numeric strings: DJI's examples do it for `timestamp`,
 * and its Jackson-based SDK coerces them, so a dock doing it elsewhere works
 * with DJI's own demo.
 */
function numericString(value: unknown): unknown {
  return typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

const wireInt = z.preprocess(
  numericString,
  z.number({ error: expected('an integer') }).int({ error: 'must be a safe integer' }),
);

const wirePercent = z.preprocess(numericString, z.number({ error: expected('a finite number') }));

/** Step: a word (`step_key`, `current_step` in the docs) or DJI-Demo's integer `current_step`. */
const wireStep = z.union([wireWord, z.number()], { error: expected('a string or a number') });

const outputSchema = z.object(
  {
    status: wireWord.nullish(),
    sub_status: wireWord.nullish(),
    progress: z
      .object(
        {
          percent: wirePercent.nullish(),
          step_key: wireStep.nullish(),
          current_step: wireStep.nullish(),
          step: wireStep.nullish(),
          step_result: wireInt.nullish(),
        },
        { error: expected('an object') },
      )
      .nullish(),
  },
  { error: expected('an object') },
);

/** Fields every message needs before anything else is read. */
const envelopeSchema = z.object({ tid: wireId, bid: wireId, method: wireMethod });

const progressSchema = z.object({
  data: z.object({ result: wireInt.nullish(), output: outputSchema.nullish() }, { error: expected('an object') }),
});

/** A reply without `result` says nothing about the command, so `result` is required here. */
const servicesReplySchema = z.object({
  data: z.object({ result: wireInt, output: outputSchema.nullish() }, { error: expected('an object') }),
});

type WireOutput = z.infer<typeof outputSchema>;

/** `data.output.progress.percent` → `data.output.progress.percent must be …`. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length === 0 ? 'payload' : issue.path.map(String).join('.')} ${issue.message}`)
    .join('; ');
}

/** `need_reply` as docks send it (1) and as lenient encoders might ("1", true). */
function wantsReply(value: unknown): boolean {
  return value === 1 || value === '1' || value === true;
}

/**
 * The message's own time (ms since the epoch, number or numeric string), or
 * null when missing or unusable: the recorder then uses the receive time. Zero
 * and negatives are treated as missing: they mean an unset dock clock, not 1970.
 */
function parseTimestamp(top: JsonObject): Date | null {
  for (const value of [top.timestamp, top['timestamp:']]) {
    const n = typeof value === 'number' ? value : typeof value === 'string' ? numericString(value) : undefined;
    // 8.64e15 ms is the largest time a Date can hold.
    if (typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= 8.64e15) return new Date(Math.trunc(n));
  }
  return null;
}

/** Stored step: the known words in their canonical spelling, DJI-Demo's integers as those words, anything else verbatim. */
function normaliseStep(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return DJI_STEP_BY_NUMBER[value] ?? String(value);
  if (value.trim() === '') return null;
  const lower = value.toLowerCase();
  return (DJI_STEPS as readonly string[]).includes(lower) ? lower : value;
}

function nonEmpty(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

/** What `data.output` reports, apart from the status. */
function reportedFromOutput(output: WireOutput | null | undefined) {
  const progress = output?.progress;
  // Three spellings are in circulation (protocols.md §0.4); the docs' words win over integers.
  const step =
    normaliseStep(nonEmpty(typeof progress?.step_key === 'string' ? progress.step_key : null)) ??
    normaliseStep(nonEmpty(typeof progress?.current_step === 'string' ? progress.current_step : null)) ??
    normaliseStep(typeof progress?.current_step === 'number' ? progress.current_step : null) ??
    normaliseStep(typeof progress?.step_key === 'number' ? progress.step_key : null) ??
    // The vendor doc's example also carries an integer `step` beside `step_key`: last resort.
    normaliseStep(typeof progress?.step === 'number' ? progress.step : nonEmpty(progress?.step));
  const percent = typeof progress?.percent === 'number' ? clampPercent(progress.percent) : null;
  return {
    vendorStatus: nonEmpty(output?.status),
    subStatus: nonEmpty(output?.sub_status),
    step,
    percent,
    stepResult: progress?.step_result ?? null,
  };
}

/**
 * Builds the `events_reply` body DJI expects: the event's `tid`, `bid` and
 * `method`, our time, and `data.result` 0. `method` is left out only when the
 * event had none (a malformed event we still acknowledge).
 */
export function buildEventsReply(args: { tid: string; bid: string; method?: string; timestamp: number }): string {
  const reply: Record<string, unknown> = { tid: args.tid, bid: args.bid, timestamp: args.timestamp };
  if (args.method !== undefined) reply.method = args.method;
  reply.data = { result: 0 };
  return JSON.stringify(reply);
}

function clockMs(now: () => number): number {
  // A broken injected clock must not make parseDjiMessage throw.
  try {
    const t = now();
    if (Number.isFinite(t)) return Math.trunc(t);
  } catch {
    /* fall through to the system clock */
  }
  return Date.now();
}

/**
 * The reply for an events message that asks for one. Decided from the raw
 * fields, before validation, so that even a message we reject is acknowledged:
 * otherwise the dock keeps resending it (DJI-Demo's bug, protocols.md §3).
 */
function replyFor(topic: DjiTopic, top: JsonObject, now: () => number): DjiInbound['reply'] {
  if (topic.kind !== 'events' || !wantsReply(top.need_reply)) return null;
  const { tid, bid, method } = top;
  if (typeof tid !== 'string' || tid === '' || typeof bid !== 'string' || bid === '') return null;
  return {
    topic: eventsReplyTopic(topic.gatewaySn),
    payload: buildEventsReply({ tid, bid, method: typeof method === 'string' ? method : undefined, timestamp: clockMs(now) }),
  };
}

/** Replaces NUL characters in ledger text: PostgreSQL text cannot hold them (such payloads are never valid JSON anyway). */
function ledgerText(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '\uFFFD') : text;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Parses one MQTT message. Never throws.
 *
 * - `ota_progress` on `events` and `ota_create` on `services_reply` give an
 *   observation (source DJI, kind FIRMWARE, target all devices of the task,
 *   `bid` as the task's external id).
 * - Other methods give `unhandled`; anything malformed gives `rejected` with a
 *   reason naming the field. Neither is deduplicated (`dedupeKey` null).
 * - `reply` is set whenever an events message asks for one and names its
 *   `tid` and `bid`, whatever became of the message.
 *
 * @param topic the topic as received (a `$share/<group>/` prefix is accepted).
 * @param payload the payload bytes; decoded as UTF-8.
 * @param receivedAt when the gateway received it (copied to the envelope).
 * @param now the clock for the reply's `timestamp` (ms); defaults to `Date.now`.
 * @param options see {@link DjiParseOptions}.
 */
export function parseDjiMessage(
  topic: string,
  payload: Buffer,
  receivedAt: Date,
  now: () => number = Date.now,
  options: DjiParseOptions = {},
): DjiInbound {
  try {
    return parseOrReject(topic, payload, receivedAt, now, options);
  } catch (error) {
    // Unreachable by design (the property tests hunt for it); a safety net so
    // one odd message can never take the MQTT handler down.
    return {
      envelope: {
        source: UpgradeSource.DJI,
        channel: parseTopic(topic)?.kind ?? 'unknown_topic',
        dedupeKey: null,
        raw: '',
        receivedAt,
        content: { kind: 'rejected', reason: `internal error while parsing: ${error instanceof Error ? error.message : String(error)}` },
      },
      reply: null,
    };
  }
}

function parseOrReject(topicName: string, payload: Buffer, receivedAt: Date, now: () => number, options: DjiParseOptions): DjiInbound {
  // mqtt.js hands over Buffers; a JS caller passing a string must not break "never throws".
  const bytes: Uint8Array = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const oversized = bytes.length > MAX_PAYLOAD_BYTES;

  let text: string;
  let validUtf8 = true;
  if (oversized) {
    // Keep at most MAX_PAYLOAD_BYTES characters in the ledger; never parse it.
    text = lenientUtf8.decode(bytes.subarray(0, MAX_PAYLOAD_BYTES));
  } else {
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      validUtf8 = false;
      text = lenientUtf8.decode(bytes);
    }
  }

  const base: ReceivedMessage = { source: UpgradeSource.DJI, raw: ledgerText(text), receivedAt };
  const reject = (channel: string, reason: string, reply: DjiInbound['reply'] = null): DjiInbound => ({
    envelope: envelopeOf(base, channel, null, { kind: 'rejected', reason }),
    reply,
  });

  const topic = parseTopic(topicName);
  if (topic === null) {
    return reject('unknown_topic', `topic ${JSON.stringify(String(topicName).slice(0, 200))} is not a DJI topic the gateway subscribes to`);
  }
  if (oversized) {
    return reject(topic.kind, `payload is ${bytes.length} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return reject(topic.kind, 'payload is not valid JSON');
  }
  if (!isObject(parsed)) return reject(topic.kind, `payload must be a JSON object, got ${typeName(parsed)}`);

  if (topic.kind === 'status' || topic.kind === 'state') {
    if (!validUtf8) return reject(topic.kind, 'payload is not valid UTF-8');
    return parseInventoryMessage(topic, parsed, base, options, now);
  }
  const top = canonicalise(parsed);
  const reply = replyFor(topic, top, now);
  const envelope = envelopeSchema.safeParse(top);
  const methodOk = wireMethod.safeParse(top.method);
  const channel = methodOk.success ? methodOk.data : topic.kind;

  // Ids decoded from broken bytes would not match the dock's; record, do not apply.
  if (!validUtf8) return reject(channel, 'payload is not valid UTF-8', reply);
  if (!envelope.success) return reject(channel, describeIssues(envelope.error.issues), reply);

  const { tid, bid, method } = envelope.data;
  const occurredAt = parseTimestamp(top);
  /** The observation of this message: what every DJI upgrade message shares, then what it reports (assigned, see envelopeOf). */
  const upgrade = (status: UpgradeStatus | null, reported: ReportedFields & Pick<UpgradeObservation, 'replyToTid'>): UpgradeObservation =>
    Object.assign(
      {
        type: 'upgrade' as const,
        source: UpgradeSource.DJI,
        kind: UpgradeKind.FIRMWARE,
        task: { externalId: bid, gatewaySn: topic.gatewaySn },
        // ota_progress names no device: it applies to every device of the task (protocols.md §2.4).
        target: { kind: 'allDevices' as const, fallbackDeviceId: topic.gatewaySn },
        occurredAt,
        status,
      },
      reported,
    );

  if (topic.kind === 'events' && method === OTA_PROGRESS_METHOD) {
    const body = progressSchema.safeParse(top);
    if (!body.success) return reject(channel, describeIssues(body.error.issues), reply);
    const { result, output } = body.data.data;
    const fields = reportedFromOutput(output);
    const status = fields.vendorStatus === null ? null : djiStatus(fields.vendorStatus);
    const errorCode =
      result !== null && result !== undefined && result !== 0
        ? String(result)
        : fields.stepResult !== null && fields.stepResult !== 0
          ? String(fields.stepResult) // older docs: step_result non-zero is the error
          : null;
    const observation = upgrade(status, {
      vendorStatus: fields.vendorStatus,
      subStatus: fields.subStatus,
      step: fields.step,
      percent: fields.percent,
      errorCode,
    });
    return {
      envelope: envelopeOf(base, channel, `dji:${topic.gatewaySn}:event:${tid}`, { kind: 'observation', observation }),
      reply,
    };
  }

  if (topic.kind === 'services_reply' && method === OTA_CREATE_METHOD) {
    const body = servicesReplySchema.safeParse(top);
    if (!body.success) return reject(channel, describeIssues(body.error.issues), reply);
    const { result, output } = body.data.data;
    const fields = reportedFromOutput(output);
    const accepted = result === 0;
    const status = accepted
      ? ((fields.vendorStatus === null ? null : djiStatus(fields.vendorStatus)) ?? UpgradeStatus.SENT)
      : UpgradeStatus.REJECTED;
    const observation = upgrade(status, {
      vendorStatus: fields.vendorStatus ?? `result:${result}`,
      subStatus: fields.subStatus,
      step: fields.step,
      percent: fields.percent,
      errorCode: accepted ? null : String(result),
      // Applies only while the command with this tid waits for its reply.
      replyToTid: tid,
    });
    return {
      envelope: envelopeOf(base, channel, `dji:${topic.gatewaySn}:reply:${tid}`, { kind: 'observation', observation }),
      reply,
    };
  }

  return {
    envelope: envelopeOf(base, channel, null, { kind: 'unhandled', reason: `DJI ${topic.kind} method "${method}" is not handled by the gateway` }),
    reply,
  };
}

// ---------------------------------------------------------------------------
// Inbound, for the inventory: update_topo and state
// ---------------------------------------------------------------------------

/** Options of {@link parseDjiMessage}. */
export interface DjiParseOptions {
  /**
   * Answer `update_topo` with `status_reply` (`DJI_ANSWER_STATUS`). Off where
   * another cloud application on the same external broker already answers:
   * the dock would get two replies.
   * @default true
   */
  readonly answerStatus?: boolean;
}

/** The method a dock's topology message carries on `sys/product/{gateway_sn}/status`. */
export const UPDATE_TOPO_METHOD = 'update_topo';

/** Channel of `state` messages in the ledger (they carry no `method`). */
export const STATE_CHANNEL = 'state';

/** Most sub-devices one `update_topo` may name (a dock has one aircraft; an RC gateway a few). */
export const MAX_SUB_DEVICES = 16;

/** Longest `firmware_version` accepted (DJI: text of at most 64; some slack). */
export const MAX_FIRMWARE_VERSION_LENGTH = 128;

/**
 * The topic the gateway answers `update_topo` on:
 * `sys/product/{gatewaySn}/status_reply`.
 * @throws RangeError when `gatewaySn` is not a valid topic level ({@link isValidDjiSn}).
 */
export function statusReplyTopic(gatewaySn: string): string {
  assertSn(gatewaySn);
  return `sys/product/${gatewaySn}/status_reply`;
}

/**
 * Builds the `status_reply` body DJI expects of the cloud: the same `tid`,
 * `bid` and `method`, our time, and `data.result` 0.
 */
export function buildStatusReply(args: { tid: string; bid: string; method: string; timestamp: number }): string {
  return JSON.stringify({ tid: args.tid, bid: args.bid, timestamp: args.timestamp, method: args.method, data: { result: 0 } });
}

/** A model key's parts: non-negative integers (DJI sends `domain` as a string in some versions). */
const wireCode = z.preprocess(
  numericString,
  z.number({ error: expected('a non-negative integer') }).int({ error: 'must be an integer' }).min(0, 'must not be negative').max(1_000_000, 'is too large'),
);

const wireSn = z
  .string({ error: expected('a string') })
  .refine(isValidDjiSn, `must be a serial number of 1 to ${MAX_SN_LENGTH} characters without '/', '+', '#' or NUL`);

const modelParts = { domain: wireCode, type: wireCode, sub_type: wireCode };

const topologySchema = z.object({
  data: z.object(
    {
      domain: wireCode,
      type: wireCode,
      sub_type: wireCode,
      sub_devices: z
        .array(z.object({ sn: wireSn, ...modelParts }, { error: expected('an object') }), { error: expected('an array') })
        .max(MAX_SUB_DEVICES, `must hold at most ${MAX_SUB_DEVICES} devices`),
    },
    { error: expected('an object') },
  ),
});

/** A 0/1 property; anything else is malformed. */
const wireFlag = z.preprocess(numericString, z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' }));

const stateSchema = z.object({
  tid: wireId.optional(),
  gateway: wireSn.optional(),
  data: z.object(
    {
      firmware_version: z
        .string({ error: expected('a string') })
        .max(MAX_FIRMWARE_VERSION_LENGTH, `must be at most ${MAX_FIRMWARE_VERSION_LENGTH} characters`)
        .refine(NO_NUL, 'must not contain NUL characters')
        .optional(),
      compatible_status: wireFlag.optional(),
      firmware_upgrade_status: wireFlag.optional(),
    },
    { error: expected('an object') },
  ),
});

/** The fields named, matched case-insensitively like the rest of the parser; everything else is dropped. */
function pickDeep(root: JsonObject, fields: readonly string[], dataFields: readonly string[]): JsonObject {
  const top: JsonObject = pick(root, fields);
  top.data = pickNested(top.data, dataFields);
  return top;
}

/**
 * `update_topo` on `sys/product/{gateway_sn}/status` and changed properties on
 * `thing/product/{device_sn}/state`. Only the firmware properties of a state
 * are read (`firmware_version`, `compatible_status`,
 * `firmware_upgrade_status`); the others it carries are ignored. A state
 * without `tid` is recorded but never deduplicated.
 */
function parseInventoryMessage(
  topic: DjiTopic,
  parsed: JsonObject,
  base: ReceivedMessage,
  options: DjiParseOptions,
  now: () => number,
): DjiInbound {
  const sn = topic.gatewaySn;
  if (topic.kind === 'state') {
    const top = pickDeep(parsed, ['tid', 'gateway', 'data'], ['firmware_version', 'compatible_status', 'firmware_upgrade_status']);
    const rejected = (reason: string): DjiInbound => ({
      envelope: envelopeOf(base, STATE_CHANNEL, null, { kind: 'rejected', reason }),
      reply: null,
    });
    const body = stateSchema.safeParse(top);
    if (!body.success) return rejected(describeIssues(body.error.issues));
    const { tid, gateway, data } = body.data;
    const observation: DeviceStateObservation = {
      type: 'deviceState',
      source: UpgradeSource.DJI,
      deviceId: sn,
      gatewaySn: gateway ?? null,
      ...(data.firmware_version !== undefined && data.firmware_version.trim() !== '' ? { firmwareVersion: data.firmware_version } : {}),
      ...(data.compatible_status !== undefined ? { consistencyUpgradeNeeded: data.compatible_status === 1 } : {}),
      ...(data.firmware_upgrade_status !== undefined ? { upgrading: data.firmware_upgrade_status === 1 } : {}),
    };
    return {
      envelope: envelopeOf(base, STATE_CHANNEL, tid === undefined ? null : `dji:${sn}:state:${tid}`, { kind: 'observation', observation }),
      reply: null,
    };
  }

  const top = pick(parsed, ['tid', 'bid', 'method', 'data']);
  const { tid, bid, method } = top;
  const methodOk = wireMethod.safeParse(method);
  const channel = methodOk.success ? methodOk.data : topic.kind;
  // Answered whatever becomes of it, as events are: otherwise the dock keeps resending.
  const reply: DjiInbound['reply'] =
    options.answerStatus !== false && method === UPDATE_TOPO_METHOD && typeof tid === 'string' && tid !== '' && typeof bid === 'string' && bid !== ''
      ? { topic: statusReplyTopic(sn), payload: buildStatusReply({ tid, bid, method, timestamp: clockMs(now) }) }
      : null;
  const reject = (reason: string): DjiInbound => ({
    envelope: envelopeOf(base, channel, null, { kind: 'rejected', reason }),
    reply,
  });
  const envelope = envelopeSchema.safeParse(top);
  if (!envelope.success) return reject(describeIssues(envelope.error.issues));
  if (envelope.data.method !== UPDATE_TOPO_METHOD) {
    return {
      envelope: envelopeOf(base, channel, null, { kind: 'unhandled', reason: `DJI status method "${envelope.data.method}" is not handled by the gateway` }),
      reply,
    };
  }
  const data = pickNested(top.data, ['domain', 'type', 'sub_type', 'sub_devices']);
  if (isObject(data) && Array.isArray(data.sub_devices)) {
    data.sub_devices = data.sub_devices.map((d) => pickNested(d, ['sn', 'domain', 'type', 'sub_type']));
  }
  const body = topologySchema.safeParse({ data });
  if (!body.success) return reject(describeIssues(body.error.issues));
  const d = body.data.data;
  const subSns = new Set<string>();
  for (const sub of d.sub_devices) {
    if (sub.sn === sn || subSns.has(sub.sn)) return reject(`data.sub_devices names ${JSON.stringify(sub.sn)} twice or names the dock itself`);
    subSns.add(sub.sn);
  }
  const observation: TopologyObservation = {
    type: 'topology',
    source: UpgradeSource.DJI,
    gateway: { deviceId: sn, model: djiModelKey(d.domain, d.type, d.sub_type) },
    subDevices: d.sub_devices.map((sub) => ({ deviceId: sub.sn, model: djiModelKey(sub.domain, sub.type, sub.sub_type) })),
  };
  return {
    envelope: envelopeOf(base, channel, `dji:${sn}:status:${envelope.data.tid}`, { kind: 'observation', observation }),
    reply,
  };
}

// ---------------------------------------------------------------------------
// Outbound: ota_create and its input
// ---------------------------------------------------------------------------

/** One device of an `ota_create` (the dock and/or its aircraft). */
export interface OtaCreateDevice {
  /** Target device SN (dock or aircraft), not necessarily the gateway SN. */
  sn: string;
  /** Target firmware version. */
  productVersion: string;
  /** Where the device downloads the package (http or https). */
  fileUrl: string;
  /** MD5 of the package: 32 hex digits (lowercase once validated). */
  md5: string;
  /** Package size in bytes; sent as a JSON number, exact up to 2^53 - 1. */
  fileSize: number;
  fileName: string;
  firmwareUpgradeType: FirmwareUpgradeType;
}

/** Error text for a wrong or missing input type (GraphQL-facing wording). */
function required(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined || issue.input === null ? 'is required' : `must be ${what}`);
}

const snInput = z
  .string({ error: required('a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_SN_LENGTH, `must be at most ${MAX_SN_LENGTH} characters`)
  // They would break the MQTT topic the SN is put in.
  .refine((s) => !/[/+#\u0000]/.test(s), "must not contain '/', '+', '#' or NUL");

function textInput(max: number) {
  return z
    .string({ error: required('a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Accepts a JSON number or a string of digits: GraphQL's Int is 32-bit, so the
 * API may carry sizes over 2 GiB as a string or a 53-bit scalar.
 */
const fileSizeInput = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z
    .number({ error: required('a number') })
    // Not .int(): it also caps at 2^53 - 1 with its own wording; the cap below says it plainly.
    .refine(Number.isInteger, 'must be a whole number of bytes')
    .positive('must be positive')
    .max(Number.MAX_SAFE_INTEGER, `must be at most ${Number.MAX_SAFE_INTEGER}`),
);

const deviceInput = z.object(
  {
    sn: snInput,
    productVersion: textInput(MAX_OTA_TEXT_LENGTH),
    fileUrl: textInput(MAX_OTA_TEXT_LENGTH).refine(isHttpUrl, 'must be an http or https URL'),
    md5: z
      .string({ error: required('a string') })
      .trim()
      .regex(/^[0-9a-fA-F]{32}$/, 'must be exactly 32 hexadecimal digits')
      // Packages' MD5s are conventionally compared as lowercase hex.
      .toLowerCase(),
    fileSize: fileSizeInput,
    fileName: textInput(MAX_OTA_TEXT_LENGTH),
    firmwareUpgradeType: z.enum(FirmwareUpgradeType, {
      error: required(`one of ${Object.values(FirmwareUpgradeType).join(', ')}`),
    }),
  },
  { error: required('an object') },
);

/** DJI's `devices` is `{"size": 2}`: the dock and/or its aircraft. */
const devicesInput = z
  .array(deviceInput, { error: required('a list of devices') })
  .min(1, 'must hold 1 or 2 devices')
  .max(2, 'must hold 1 or 2 devices')
  .superRefine((devices, ctx) => {
    // One task upgrading the same device twice is meaningless and would be ambiguous in progress.
    const seen = new Set<string>();
    devices.forEach((device, i) => {
      if (typeof device?.sn !== 'string') return;
      if (seen.has(device.sn)) ctx.addIssue({ code: 'custom', path: [i, 'sn'], message: 'duplicates another device' });
      seen.add(device.sn);
    });
  });

const firmwareUpgradeInput = z.object({ gatewaySn: snInput, devices: devicesInput }, { error: required('an object') });

/** `['devices', 0, 'md5']` → `devices[0].md5`; the root is `input`. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? 'input' : out;
}

/** One error per field (the first), in input order: enough to fix the field, short enough to show. */
function fieldErrors(issues: readonly z.core.$ZodIssue[]): { field: string; message: string }[] {
  const byField = new Map<string, string>();
  for (const issue of issues) {
    const field = fieldPath(issue.path);
    if (!byField.has(field)) byField.set(field, issue.message);
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

/**
 * Validates createFirmwareUpgrade input; returns field errors with paths like "devices[0].md5".
 *
 * Checks: 1 or 2 devices with distinct SNs; `gatewaySn` and each `sn`
 * non-empty (trimmed), at most 64 characters, without `/`, `+`, `#` or NUL;
 * `md5` exactly 32 hex digits; `fileUrl` an http(s) URL; `fileSize` a positive
 * integer up to `Number.MAX_SAFE_INTEGER` (a digit string is accepted);
 * `productVersion` and `fileName` non-empty; `firmwareUpgradeType` one of
 * {@link FirmwareUpgradeType}. Every bad field is reported (its first error).
 * On success, strings are trimmed, `md5` is lowercase and unknown keys dropped.
 * Never throws.
 */
export function validateFirmwareUpgradeInput(
  input: unknown,
): { ok: true; value: { gatewaySn: string; devices: OtaCreateDevice[] } } | { ok: false; errors: { field: string; message: string }[] } {
  const result = firmwareUpgradeInput.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: fieldErrors(result.error.issues) };
}

const otaCreateArgs = z.object({
  bid: z.string().refine((s) => s.trim().length > 0, 'must not be empty').max(MAX_ID_LENGTH),
  tid: z.string().refine((s) => s.trim().length > 0, 'must not be empty').max(MAX_ID_LENGTH),
  timestamp: z.number().int().nonnegative(),
  devices: devicesInput,
});

/**
 * Builds the ota_create message (JSON text) exactly as DJI expects.
 *
 * Key order and names follow DJI's docs: `bid`, `tid`, `timestamp` (ms),
 * `method`, `data.devices[]` with `sn`, `product_version`, `file_url`, `md5`,
 * `file_size` (JSON number), `file_name`, `firmware_upgrade_type` (2, 3 or 4,
 * from {@link FIRMWARE_UPGRADE_TYPE_WIRE}). Publish it to
 * {@link servicesTopic}.
 *
 * @throws TypeError when the arguments would not pass the same checks as
 * {@link validateFirmwareUpgradeInput}: nothing malformed is ever sent to a dock.
 */
export function buildOtaCreate(args: { bid: string; tid: string; timestamp: number; devices: readonly OtaCreateDevice[] }): string {
  const checked = otaCreateArgs.safeParse(args);
  if (!checked.success) {
    const detail = fieldErrors(checked.error.issues)
      .map((e) => `${e.field} ${e.message}`)
      .join('; ');
    throw new TypeError(`invalid ota_create: ${detail}`);
  }
  const { bid, tid, timestamp, devices } = checked.data;
  return JSON.stringify({
    bid,
    tid,
    timestamp,
    method: OTA_CREATE_METHOD,
    data: {
      devices: devices.map((d) => ({
        sn: d.sn,
        product_version: d.productVersion,
        file_url: d.fileUrl,
        md5: d.md5,
        file_size: d.fileSize,
        file_name: d.fileName,
        firmware_upgrade_type: FIRMWARE_UPGRADE_TYPE_WIRE[d.firmwareUpgradeType],
      })),
    },
  });
}
