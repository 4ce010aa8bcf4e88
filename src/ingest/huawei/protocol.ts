/**
 * The Huawei OceanConnect northbound push protocol: the one place that parses
 * and validates a push body and turns it into an {@link InboundEnvelope}.
 *
 * Pure: no I/O, no clock (the caller passes the receive time). Whatever the
 * input, {@link parseHuaweiPush} returns a result and never throws, because a
 * throw would become a 5xx and Huawei re-pushes on 5xx (protocols.md §1.3).
 *
 * Reference: protocols.md §1.5 (schemas), §1.9 (examples), §3 "Huawei" (edge cases).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  envelopeOf,
  type InboundEnvelope,
  type ReceivedMessage,
  type ReportedFields,
  type ShadowObservation,
  type UpgradeObservation,
} from '../../domain/observation';
import { ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from '../../domain/status';

/** A field that failed validation: its path (e.g. "deviceId", "properties") and why. */
export interface FieldError {
  /** Top-level body field in its canonical spelling, or "body" for the body as a whole. */
  readonly field: string;
  /** Why it failed, as a short predicate ("required", "must be a string or a number, got boolean"). */
  readonly message: string;
}

/**
 * The outcome of {@link parseHuaweiPush}: an envelope to record (which may still
 * say the type is unhandled), or every field error found. The error list is
 * never empty.
 */
export type HuaweiParseResult =
  | { readonly ok: true; readonly envelope: InboundEnvelope }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** The `notifyType` values the gateway maps to observations, in their canonical spelling. */
export type HuaweiNotifyType =
  | 'fwUpgradeStateChangeNotify'
  | 'fwUpgradeResultNotify'
  | 'swUpgradeStateChangeNotify'
  | 'swUpgradeResultNotify'
  | 'deviceDesiredPropertiesModifyStatusChanged';

/**
 * The five handled `notifyType` values (canonical spelling). Any other type is
 * accepted as `unhandled` so that it still reaches the ledger.
 */
export const HUAWEI_NOTIFY_TYPES: readonly HuaweiNotifyType[] = Object.freeze([
  'fwUpgradeStateChangeNotify',
  'fwUpgradeResultNotify',
  'swUpgradeStateChangeNotify',
  'swUpgradeResultNotify',
  'deviceDesiredPropertiesModifyStatusChanged',
] as const);

/**
 * Size limits applied while parsing. Exported so the HTTP route can align its
 * body limit and tests can probe the edges.
 */
export const HUAWEI_LIMITS = Object.freeze({
  /** Longest body accepted, in UTF-16 code units. Real pushes are well under 1 KiB. */
  bodyChars: 1_048_576,
  /** Identifiers: deviceId, appId, operationId, subOperationId, serviceId. */
  idChars: 256,
  /** Short values: state and result words, step, versions, errorCode, upgradeTime. */
  wordChars: 256,
  /** Free text: statusDesc, resultDesc, description. */
  textChars: 4096,
  /** `channel` of an unhandled type is the reported notifyType cut to this length. */
  channelChars: 64,
  /** Deepest nesting accepted inside shadow `properties` (the object itself is level 1). */
  propertiesDepth: 32,
  /**
   * Most keys and array items inside shadow `properties`, counted through the whole tree, and its
   * largest size as JSON in UTF-8 bytes. A push over either is refused (400 naming `properties`),
   * not truncated: a cut desired state would read as a complete one. Every event is served by
   * GraphQL as one value, so these bound what one ShadowEvent costs to read.
   */
  propertiesEntries: 1000,
  propertiesBytes: 16 * 1024,
});

// ---------------------------------------------------------------------------
// Top-level keys
// ---------------------------------------------------------------------------

/**
 * Every top-level key any mapping reads, in canonical spelling. The order is
 * also the order errors are reported in, so results are deterministic.
 */
const CANONICAL_KEYS = [
  'notifyType',
  'deviceId',
  'appId',
  'operationId',
  'subOperationId',
  'serviceId',
  'step',
  'stepDesc',
  'status',
  'swUpgradeState',
  'swUpgradeResult',
  'statusDesc',
  'resultDesc',
  'errorCode',
  'description',
  'curVersion',
  'targetVersion',
  'sourceVersion',
  'upgradeTime',
  'properties',
] as const;
type CanonicalKey = (typeof CANONICAL_KEYS)[number];
type Fields = Record<CanonicalKey, unknown>;

// A Map, not an object literal, so a body key such as "__proto__" or
// "constructor" can never resolve to something inherited.
const KEY_BY_LOWER: ReadonlyMap<string, CanonicalKey> = new Map(CANONICAL_KEYS.map((k) => [k.toLowerCase(), k]));
const KEY_ORDER: ReadonlyMap<string, number> = new Map<string, number>([
  ['body', -1],
  ...CANONICAL_KEYS.map((k, i): [string, number] => [k, i]),
]);

const TYPE_BY_LOWER: ReadonlyMap<string, HuaweiNotifyType> = new Map(HUAWEI_NOTIFY_TYPES.map((t) => [t.toLowerCase(), t]));

// ---------------------------------------------------------------------------
// Field coercion
// ---------------------------------------------------------------------------

/** How a string field is checked: identifiers are stricter than free text. */
type TextKind = 'id' | 'word' | 'text';

const MAX_CHARS: Readonly<Record<TextKind, number>> = {
  id: HUAWEI_LIMITS.idChars,
  word: HUAWEI_LIMITS.wordChars,
  text: HUAWEI_LIMITS.textChars,
};

type Coerced = { readonly ok: true; readonly value: string | null } | { readonly ok: false; readonly message: string };

/** `typeof` with the two JSON cases it gets wrong, for error messages. */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Turns one field into a string, or null when not reported.
 *
 * Numbers become strings because Huawei's own docs disagree on `upgradeTime`
 * (String vs long) and its Java SDK coerces numbers into String fields, so both
 * reach us (protocols.md §0.2, §3). Anything else non-string is an error: a
 * boolean or an object has no faithful string form.
 *
 * JSON null counts as absent, since the SDK yields null for missing fields.
 * NUL characters are refused everywhere: PostgreSQL text cannot hold them, and
 * no legitimate Huawei value contains one.
 */
function coerceText(value: unknown, kind: TextKind, required: boolean): Coerced {
  if (value === undefined || value === null) {
    return required ? { ok: false, message: 'required' } : { ok: true, value: null };
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return { ok: false, message: `must be a string or a number, got ${jsonTypeOf(value)}` };

  if (text.trim() === '') {
    // An empty identifier would merge unrelated tasks; an empty optional word
    // or description says nothing, so it is treated as not reported.
    if (required || kind === 'id') return { ok: false, message: 'must not be empty' };
    return { ok: true, value: null };
  }
  const max = MAX_CHARS[kind];
  if (text.length > max) return { ok: false, message: `must be at most ${max} characters` };
  if (text.includes('\u0000')) return { ok: false, message: 'must not contain NUL characters' };
  return { ok: true, value: text };
}

/** A zod schema for a field that must be present (string or number). */
function requiredText(kind: TextKind) {
  return z.unknown().transform((value, ctx): string => {
    const r = coerceText(value, kind, true);
    if (r.ok && r.value !== null) return r.value;
    ctx.issues.push({ code: 'custom', message: r.ok ? 'required' : r.message, input: value });
    return z.NEVER;
  });
}

/** A zod schema for a field that may be absent (then null). */
function optionalText(kind: TextKind) {
  return z.unknown().transform((value, ctx): string | null => {
    const r = coerceText(value, kind, false);
    if (r.ok) return r.value;
    ctx.issues.push({ code: 'custom', message: r.message, input: value });
    return z.NEVER;
  });
}

/**
 * Shadow `properties`: kept whole (keys untouched, they may contain spaces), so
 * only its shape is checked. The depth cap keeps the recursive canonical JSON
 * used for the dedupe key safe from stack exhaustion.
 */
const propertiesSchema = z.unknown().transform((value, ctx): Readonly<Record<string, unknown>> => {
  const fail = (message: string): never => {
    ctx.issues.push({ code: 'custom', message, input: value });
    return z.NEVER;
  };
  if (value === undefined || value === null) return fail('required');
  if (typeof value !== 'object' || Array.isArray(value)) return fail(`must be a JSON object, got ${jsonTypeOf(value)}`);
  const problem = inspectJsonTree(value);
  if (problem !== null) return fail(problem);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > HUAWEI_LIMITS.propertiesBytes) return fail(`must be at most ${HUAWEI_LIMITS.propertiesBytes} bytes as JSON, got ${bytes}`);
  // Returned as JSON.parse built it: "__proto__" keys are plain own properties
  // there, so handing the object on is safe.
  return value as Record<string, unknown>;
});

/**
 * Walks a parsed JSON tree without recursion. Returns why it is refused (too
 * deep, too many keys and items, or a NUL in a key or string), or null when it is fine.
 */
function inspectJsonTree(root: object): string | null {
  const stack: { readonly node: unknown; readonly depth: number }[] = [{ node: root, depth: 1 }];
  let entries = 0;
  const tooMany = `must hold at most ${HUAWEI_LIMITS.propertiesEntries} keys and array items in all`;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return 'must not contain NUL characters';
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > HUAWEI_LIMITS.propertiesDepth) return `must not be nested deeper than ${HUAWEI_LIMITS.propertiesDepth} levels`;
    if (Array.isArray(node)) {
      entries += node.length;
      if (entries > HUAWEI_LIMITS.propertiesEntries) return tooMany;
      for (const item of node) stack.push({ node: item, depth: depth + 1 });
      continue;
    }
    entries += Object.keys(node).length;
    if (entries > HUAWEI_LIMITS.propertiesEntries) return tooMany;
    for (const [key, item] of Object.entries(node)) {
      if (key.includes('\u0000')) return 'must not contain NUL characters';
      stack.push({ node: item, depth: depth + 1 });
    }
  }
  return null;
}

/** Shadow `status`: exactly DELIVERED or FAILED, in any letter case. */
const shadowStatusSchema = z.unknown().transform((value, ctx): ShadowStatus => {
  if (typeof value === 'string') {
    const upper = value.toUpperCase();
    if (upper === ShadowStatus.DELIVERED) return ShadowStatus.DELIVERED;
    if (upper === ShadowStatus.FAILED) return ShadowStatus.FAILED;
  }
  const message =
    value === undefined || value === null
      ? 'required'
      : typeof value === 'string'
        ? 'must be DELIVERED or FAILED'
        : `must be a string (DELIVERED or FAILED), got ${jsonTypeOf(value)}`;
  ctx.issues.push({ code: 'custom', message, input: value });
  return z.NEVER;
});

// ---------------------------------------------------------------------------
// Schemas, one per handled type
// ---------------------------------------------------------------------------

/** Fields every upgrade push carries (protocols.md §1.5). */
const upgradeBase = {
  deviceId: requiredText('id'),
  appId: optionalText('id'),
  operationId: requiredText('id'),
  subOperationId: requiredText('id'),
};

const versions = {
  curVersion: optionalText('word'),
  targetVersion: optionalText('word'),
  sourceVersion: optionalText('word'),
  upgradeTime: optionalText('word'),
};

// step and stepDesc are each optional: the rule "one of them is required" is
// checked beside zod, because zod v4 skips object refinements once any field
// has failed, and every error must be reported at once.
const fwStateSchema = z.object(upgradeBase).extend({ step: optionalText('word'), stepDesc: optionalText('word') });
const fwResultSchema = z.object(upgradeBase).extend({ status: requiredText('word'), statusDesc: optionalText('text') }).extend(versions);
const swStateSchema = z.object(upgradeBase).extend({ swUpgradeState: requiredText('word') });
const swResultSchema = z
  .object(upgradeBase)
  .extend({
    swUpgradeResult: requiredText('word'),
    resultDesc: optionalText('text'),
    errorCode: optionalText('word'),
    description: optionalText('text'),
  })
  .extend(versions);
const shadowSchema = z.object({
  deviceId: requiredText('id'),
  serviceId: requiredText('id'),
  properties: propertiesSchema,
  status: shadowStatusSchema,
});

// ---------------------------------------------------------------------------
// Vendor words
// ---------------------------------------------------------------------------

/** LwM2M firmware-object states, by `step` (protocols.md §1.5). */
const STEP_WORDS: ReadonlyMap<string, string> = new Map([
  ['0', 'idle'],
  ['1', 'downloading'],
  ['2', 'downloaded'],
  ['3', 'updating'],
]);

/** The words that mean "under way"; they become IN_PROGRESS with that word as step. */
const PROGRESS_WORDS: ReadonlySet<string> = new Set(['downloading', 'downloaded', 'updating']);

/**
 * A state word as status and step. `idle` also follows a finished upgrade, and
 * unknown words (`otacreated`, `RequestDownload`, …) say nothing we can rank,
 * so both move nothing; the word itself is still kept as vendorStatus.
 */
function mapStateWord(word: string | null): { status: UpgradeStatus | null; step: string | null } {
  const known = word?.trim().toLowerCase() ?? '';
  return PROGRESS_WORDS.has(known) ? { status: UpgradeStatus.IN_PROGRESS, step: known } : { status: null, step: null };
}

/** A result word as status: SUCCESS/FAIL in any case; anything else moves nothing. */
function mapResultWord(word: string): UpgradeStatus | null {
  const known = word.trim().toUpperCase();
  if (known === 'SUCCESS') return UpgradeStatus.SUCCEEDED;
  if (known === 'FAIL') return UpgradeStatus.FAILED;
  return null;
}

/**
 * Software results split their text between `resultDesc` (often just the
 * result word) and `description` (the cause): joined as "FAIL: package verify
 * failed", or whichever is present, without repeating an identical text.
 */
function joinDescriptions(resultDesc: string | null, description: string | null): string | null {
  if (resultDesc === null) return description;
  if (description === null) return resultDesc;
  if (resultDesc.trim().toLowerCase() === description.trim().toLowerCase()) return resultDesc;
  return `${resultDesc}: ${description}`;
}

// ---------------------------------------------------------------------------
// Dedupe key
// ---------------------------------------------------------------------------

/**
 * JSON with object keys sorted, so equal content always gives equal text.
 * Recursive: only call on trees checked by {@link inspectJsonTree} (bounded depth).
 */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/**
 * Huawei pushes carry no message id and are re-pushed after timeouts and 5xx
 * (protocols.md §1.3), so identity comes from content. The parts are the
 * values after key normalisation and number-to-string conversion, in a fixed
 * position per type, so body key order and key case cannot change the key,
 * while any reported value that differs does.
 */
function dedupeKeyOf(parts: readonly unknown[]): string {
  return `huawei:${createHash('sha256').update(canonicalJson(parts), 'utf8').digest('hex')}`;
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/** Keeps the first error per field and orders them as {@link CANONICAL_KEYS}. */
function finishErrors(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => (seen.has(e.field) ? false : (seen.add(e.field), true)));
  const rank = (field: string): number => KEY_ORDER.get(field) ?? CANONICAL_KEYS.length;
  return unique.sort((a, b) => rank(a.field) - rank(b.field));
}

function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : 'body',
    message: issue.message,
  }));
}

/**
 * Copies the keys the mappings read into their canonical spelling, matched
 * case-insensitively (the docs show both `Status` and `status`, §3). Other keys
 * are ignored; `raw` keeps them. Two spellings of one key with different values
 * are ambiguous and reported; with equal values they are harmless.
 */
function normaliseKeys(body: Record<string, unknown>): { fields: Fields; errors: FieldError[] } {
  const fields = Object.fromEntries(CANONICAL_KEYS.map((k) => [k, undefined])) as Fields;
  const seen = new Set<CanonicalKey>();
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(body)) {
    const canonical = KEY_BY_LOWER.get(key.toLowerCase());
    if (canonical === undefined) continue;
    if (!seen.has(canonical)) {
      seen.add(canonical);
      fields[canonical] = value;
    } else if (!sameJson(fields[canonical], value)) {
      errors.push({ field: canonical, message: 'given more than once (keys differing only in case) with different values' });
    }
  }
  return { fields, errors };
}

/** Equality of two parsed JSON values; trees too deep to compare safely count as different. */
function sameJson(a: unknown, b: unknown): boolean {
  const safe = (v: unknown): boolean => v === null || typeof v !== 'object' || inspectJsonTree(v) === null;
  return safe(a) && safe(b) && canonicalJson(a) === canonicalJson(b);
}

/** Cuts to at most `max` code units without leaving half a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.charCodeAt(max - 1) >= 0xd800 && text.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return text.slice(0, cut);
}

type Built = { readonly ok: true; readonly value: InboundEnvelope } | { readonly ok: false; readonly errors: FieldError[] };

function parseUnchecked(raw: string, receivedAt: Date): Built {
  const reject = (field: string, message: string): Built => ({ ok: false, errors: [{ field, message }] });

  if (typeof raw !== 'string') return reject('body', `must be text, got ${jsonTypeOf(raw)}`);
  if (raw.length > HUAWEI_LIMITS.bodyChars) return reject('body', `must be at most ${HUAWEI_LIMITS.bodyChars} characters`);

  let parsed: unknown;
  try {
    // A leading byte-order mark is legal in UTF-8 text but not in JSON.
    parsed = JSON.parse(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
  } catch {
    return reject('body', 'not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return reject('body', `must be a JSON object, got ${jsonTypeOf(parsed)}`);
  }

  const { fields, errors: keyErrors } = normaliseKeys(parsed as Record<string, unknown>);

  // notifyType picks the schema, so it is settled first and strictly: a number
  // or an empty string is no type name.
  const reported = fields.notifyType;
  if (reported === undefined || reported === null) return reject('notifyType', 'required');
  if (typeof reported !== 'string') return reject('notifyType', `must be a string, got ${jsonTypeOf(reported)}`);
  if (reported.trim() === '') return reject('notifyType', 'must not be empty');
  if (reported.includes('\u0000')) return reject('notifyType', 'must not contain NUL characters');

  const typeConflict = keyErrors.find((e) => e.field === 'notifyType');
  if (typeConflict !== undefined) return { ok: false, errors: [typeConflict] };

  const notifyType = TYPE_BY_LOWER.get(reported.toLowerCase());
  const base: ReceivedMessage = { source: UpgradeSource.HUAWEI, raw, receivedAt };

  if (notifyType === undefined) {
    // Not ours (deviceDataChanged, …) but still a valid push: acknowledged and
    // kept in the ledger, never deduplicated since we do not know its identity.
    const channel = truncate(reported, HUAWEI_LIMITS.channelChars);
    return {
      ok: true,
      value: envelopeOf(base, channel, null, { kind: 'unhandled', reason: `unhandled notifyType ${channel}` }),
    };
  }

  const envelope = (observation: UpgradeObservation | ShadowObservation, parts: readonly unknown[]): Built => ({
    ok: true,
    value: envelopeOf(base, notifyType, dedupeKeyOf([notifyType, ...parts]), { kind: 'observation', observation }),
  });
  const failed = (errors: FieldError[]): Built => ({ ok: false, errors: finishErrors([...keyErrors, ...errors]) });

  /**
   * The observation of an upgrade push: identity and target shared by the four
   * upgrade types, then what the push reports. (Reported fields are assigned,
   * not spread after the head: see envelopeOf.)
   */
  const upgrade = (
    d: { deviceId: string; appId: string | null; operationId: string; subOperationId: string },
    kind: UpgradeKind,
    status: UpgradeStatus | null,
    reported: ReportedFields,
  ): UpgradeObservation =>
    Object.assign(
      {
        type: 'upgrade' as const,
        source: UpgradeSource.HUAWEI,
        kind,
        task: { externalId: d.operationId, appId: d.appId, gatewaySn: null },
        target: { kind: 'device' as const, deviceId: d.deviceId, externalId: d.subOperationId },
        occurredAt: null,
        status,
      },
      reported,
    );
  const idParts = (d: { deviceId: string; appId: string | null; operationId: string; subOperationId: string }) => [
    d.deviceId,
    d.operationId,
    d.subOperationId,
    d.appId,
  ];

  switch (notifyType) {
    case 'fwUpgradeStateChangeNotify': {
      const r = fwStateSchema.safeParse(fields);
      const errors = r.success ? [] : zodErrors(r.error);
      // Checked on the raw fields so it is reported even when other fields failed.
      const rawStep = coerceText(fields.step, 'word', false);
      const rawDesc = coerceText(fields.stepDesc, 'word', false);
      if (rawStep.ok && rawDesc.ok && rawStep.value === null && rawDesc.value === null) {
        errors.push({ field: 'stepDesc', message: 'required (or step)' });
      }
      if (!r.success || errors.length > 0 || keyErrors.length > 0) return failed(errors);
      const d = r.data;
      // stepDesc is the word we keep; when only the number came, its LwM2M
      // meaning stands in, and an unknown number is kept as it came.
      const word = d.stepDesc ?? (d.step === null ? null : (STEP_WORDS.get(d.step.trim()) ?? null));
      const { status, step } = mapStateWord(word);
      return envelope(
        upgrade(d, UpgradeKind.FIRMWARE, status, { vendorStatus: word ?? d.step, step }),
        [...idParts(d), d.step, d.stepDesc],
      );
    }
    case 'fwUpgradeResultNotify': {
      const r = fwResultSchema.safeParse(fields);
      if (!r.success || keyErrors.length > 0) return failed(r.success ? [] : zodErrors(r.error));
      const d = r.data;
      return envelope(
        upgrade(d, UpgradeKind.FIRMWARE, mapResultWord(d.status), {
          vendorStatus: d.status,
          statusDesc: d.statusDesc,
          currentVersion: d.curVersion,
          targetVersion: d.targetVersion,
          sourceVersion: d.sourceVersion,
          upgradeTime: d.upgradeTime,
        }),
        [...idParts(d), d.status, d.statusDesc, d.curVersion, d.targetVersion, d.sourceVersion, d.upgradeTime],
      );
    }
    case 'swUpgradeStateChangeNotify': {
      const r = swStateSchema.safeParse(fields);
      if (!r.success || keyErrors.length > 0) return failed(r.success ? [] : zodErrors(r.error));
      const d = r.data;
      const { status, step } = mapStateWord(d.swUpgradeState);
      return envelope(
        upgrade(d, UpgradeKind.SOFTWARE, status, { vendorStatus: d.swUpgradeState, step }),
        [...idParts(d), d.swUpgradeState],
      );
    }
    case 'swUpgradeResultNotify': {
      const r = swResultSchema.safeParse(fields);
      if (!r.success || keyErrors.length > 0) return failed(r.success ? [] : zodErrors(r.error));
      const d = r.data;
      return envelope(
        upgrade(d, UpgradeKind.SOFTWARE, mapResultWord(d.swUpgradeResult), {
          vendorStatus: d.swUpgradeResult,
          statusDesc: joinDescriptions(d.resultDesc, d.description),
          errorCode: d.errorCode,
          currentVersion: d.curVersion,
          targetVersion: d.targetVersion,
          sourceVersion: d.sourceVersion,
          upgradeTime: d.upgradeTime,
        }),
        [
          ...idParts(d),
          d.swUpgradeResult,
          d.resultDesc,
          d.errorCode,
          d.description,
          d.curVersion,
          d.targetVersion,
          d.sourceVersion,
          d.upgradeTime,
        ],
      );
    }
    case 'deviceDesiredPropertiesModifyStatusChanged': {
      const r = shadowSchema.safeParse(fields);
      if (!r.success || keyErrors.length > 0) return failed(r.success ? [] : zodErrors(r.error));
      const d = r.data;
      // The shadow observation keeps no vendor word, so the normalised status
      // is what identifies it; properties go in whole, keys sorted.
      return envelope(
        { type: 'shadow', source: UpgradeSource.HUAWEI, deviceId: d.deviceId, serviceId: d.serviceId, properties: d.properties, status: d.status },
        [d.deviceId, d.serviceId, d.status, d.properties],
      );
    }
  }
}

/** Message prefix of the catch-all error; exported so tests can assert it never appears. */
export const UNEXPECTED_FAILURE = 'unexpected parser failure';

/**
 * Parses the raw text of one POST body (string as received) into an envelope.
 *
 * - `ok: true` with an `observation` for the five handled types (see
 *   {@link HUAWEI_NOTIFY_TYPES}), or with `unhandled` content for any other
 *   well-formed push, whose `channel` is its notifyType cut to 64 characters.
 * - `ok: false` with every field error found (never an empty list) when the
 *   body is not JSON, not an object, has no usable notifyType, or lacks or
 *   mistypes a field the mapping needs. The caller decides whether to keep a
 *   rejected body in the ledger.
 *
 * Keys are matched case-insensitively at the top level; numbers are accepted
 * where strings are expected. Never throws.
 *
 * @param raw The body exactly as received; it becomes the envelope's `raw`.
 * @param receivedAt When the gateway received it; Huawei pushes carry no time.
 */
export function parseHuaweiPush(raw: string, receivedAt: Date): HuaweiParseResult {
  try {
    const built = parseUnchecked(raw, receivedAt);
    return built.ok ? { ok: true, envelope: built.value } : { ok: false, errors: built.errors };
  } catch (error) {
    // Last line of defence for the never-throw contract: a throw here would
    // become a 5xx and a Huawei re-push storm. Tests assert this never happens.
    const name = error instanceof Error ? error.name : typeof error;
    return { ok: false, errors: [{ field: 'body', message: `${UNEXPECTED_FAILURE} (${name})` }] };
  }
}
