/**
 * The Huawei OceanConnect northbound REST API as the gateway calls it: paths,
 * request bodies and the zod schemas every answer is parsed with. Pure: no I/O.
 *
 * Reference: protocols.md §5.1 (paths, fields) and §1.7 (sub-operations);
 * where the documents leave a wire word open, the README says what was chosen.
 */
import { z } from 'zod';
import { UpgradeKind, UpgradeStatus } from '../../../domain/status';

/** Every path the gateway calls. */
export const NORTHBOUND_PATHS = Object.freeze({
  login: '/iocm/app/sec/v1.1.0/login',
  refreshToken: '/iocm/app/sec/v1.1.0/refreshToken',
  subscribe: '/iodm/app/sub/v1.1.0/subscribe',
  firmwareUpgrade: '/iodm/northbound/v1.5.0/operations/firmwareUpgrade',
  softwareUpgrade: '/iodm/northbound/v1.5.0/operations/softwareUpgrade',
  operation: (operationId: string) => `/iodm/northbound/v1.5.0/operations/${encodeURIComponent(operationId)}`,
  /** The task list (iot_06_0082), filtered by type and by one device. */
  operations: (operationType: string, deviceId: string, pageNo: number, pageSize: number) =>
    `/iodm/northbound/v1.5.0/operations?operationType=${encodeURIComponent(operationType)}&deviceId=${encodeURIComponent(deviceId)}&pageNo=${pageNo}&pageSize=${pageSize}`,
  subOperations: (operationId: string, pageNo: number, pageSize: number) =>
    `/iodm/northbound/v1.5.0/operations/${encodeURIComponent(operationId)}/subOperations?pageNo=${pageNo}&pageSize=${pageSize}`,
});

/** The four upgrade notifications the gateway subscribes to (one subscription per type). */
export const UPGRADE_NOTIFY_TYPES = Object.freeze([
  'fwUpgradeStateChangeNotify',
  'fwUpgradeResultNotify',
  'swUpgradeStateChangeNotify',
  'swUpgradeResultNotify',
] as const);
export type UpgradeNotifyType = (typeof UPGRADE_NOTIFY_TYPES)[number];

/** Largest `pageSize` of a sub-operation page (iot_06_0081: 1..100). */
export const SUB_OPERATION_PAGE_SIZE = 100;

/** Most devices one `createHuaweiUpgrade` names (one platform call, one stored task). */
export const MAX_UPGRADE_DEVICES = 1000;

const text = (max: number) => z.string().min(1).max(max);

/** Login and refresh answer (iot_06_0007, iot_06_0008). */
export const TokenAnswerSchema = z.object({
  accessToken: text(4096),
  refreshToken: text(4096).optional(),
  // Seconds; some deployments send it as a string.
  expiresIn: z.coerce.number().int().positive().max(7 * 24 * 3600),
  tokenType: z.string().optional(),
  scope: z.string().optional(),
});
export type TokenAnswer = z.infer<typeof TokenAnswerSchema>;

/** `POST …/operations/firmwareUpgrade|softwareUpgrade` answer. */
export const CreateOperationAnswerSchema = z.object({ operationId: text(256) });

/** How the platform runs a task (iot_06_0079 `policy`). */
export const EXECUTE_TYPES = ['now', 'device_online', 'custom'] as const;
export type ExecuteType = (typeof EXECUTE_TYPES)[number];

/** A task policy as the gateway sends it. */
export interface UpgradePolicy {
  readonly executeType: ExecuteType;
  /** `yyyyMMdd'T'HHmmss'Z'`, with executeType `custom`. */
  readonly startTime?: string;
  readonly endTime?: string;
  readonly retryType?: boolean;
  readonly retryTimes?: number;
}

/** The body of `POST …/operations/firmwareUpgrade|softwareUpgrade`. */
export function createOperationBody(request: { fileId: string; deviceIds: readonly string[]; policy?: UpgradePolicy }): Record<string, unknown> {
  return {
    fileId: request.fileId,
    targets: { devices: [...request.deviceIds] },
    ...(request.policy ? { policy: request.policy } : {}),
  };
}

/** The path that starts an upgrade of `kind`. */
export function createOperationPath(kind: UpgradeKind): string {
  return kind === UpgradeKind.FIRMWARE ? NORTHBOUND_PATHS.firmwareUpgrade : NORTHBOUND_PATHS.softwareUpgrade;
}

/** The platform's time format, `yyyyMMdd'T'HHmmss'Z'` (UTC). */
export function formatPlatformTime(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses `yyyyMMdd'T'HHmmss'Z'`; null when absent or not in that form. */
export function parsePlatformTime(value: string | null | undefined): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return null;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `GET …/operations/{operationId}` answer (iot_06_0080); only what the gateway reads is required. */
export const OperationAnswerSchema = z.object({
  operationId: text(256),
  operateType: z.string().max(64).optional(),
  status: z.string().max(64).optional(),
  createTime: z.string().max(64).nullish(),
  staResult: z.record(z.string(), z.unknown()).nullish(),
});
export type OperationAnswer = z.infer<typeof OperationAnswerSchema>;

/** One task of the task list (iot_06_0082): only what finding a wave's task needs is required. */
export const OperationListItemSchema = z.object({
  operationId: text(256),
  operateType: z.string().max(64).nullish(),
  createTime: z.string().max(64).nullish(),
  targets: z.object({ devices: z.array(z.string().max(256)).max(10_000).nullish() }).passthrough().nullish(),
});
export type OperationListItem = z.infer<typeof OperationListItemSchema>;

/** `GET …/operations?…` answer. */
export const OperationListPageSchema = z.object({
  data: z.array(OperationListItemSchema).max(100),
  pageNo: z.coerce.number().int().nonnegative(),
  pageSize: z.coerce.number().int().positive(),
  totalCount: z.coerce.number().int().nonnegative(),
});

/** The `operateType` (and list filter `operationType`) of a kind. */
export function operateTypeOf(kind: UpgradeKind): string {
  return kind === UpgradeKind.FIRMWARE ? 'firmware_upgrade' : 'software_upgrade';
}

/** One sub-operation (one device) of a task. */
export const SubOperationSchema = z.object({
  subOperationId: text(256),
  deviceId: text(256),
  status: z.string().min(1).max(64),
  createTime: z.string().max(64).nullish(),
  startTime: z.string().max(64).nullish(),
  stopTime: z.string().max(64).nullish(),
  operateType: z.string().max(64).nullish(),
  detailInfo: z.string().max(4096).nullish(),
  extendInfo: z.unknown().optional(),
});
export type SubOperation = z.infer<typeof SubOperationSchema>;

/** `GET …/operations/{operationId}/subOperations` answer. */
export const SubOperationPageSchema = z.object({
  data: z.array(SubOperationSchema).max(SUB_OPERATION_PAGE_SIZE),
  pageNo: z.coerce.number().int().nonnegative(),
  pageSize: z.coerce.number().int().positive(),
  totalCount: z.coerce.number().int().nonnegative(),
});
export type SubOperationPage = z.infer<typeof SubOperationPageSchema>;

/** The platform's error body: `{"error_code": "...", "error_desc": "..."}` (codes come as strings or numbers). */
export const PlatformErrorSchema = z.object({
  error_code: z.union([z.string(), z.number()]).transform(String),
  error_desc: z.string().max(4096).optional(),
});

/**
 * A sub-operation status word as a gateway status: wait PENDING, processing
 * IN_PROGRESS, success SUCCEEDED, fail FAILED, stop CANCELED, timeout
 * TIMED_OUT; any other word moves nothing (null).
 */
export function mapSubOperationStatus(status: string): UpgradeStatus | null {
  switch (status.trim().toLowerCase()) {
    case 'wait':
      return UpgradeStatus.PENDING;
    case 'processing':
      return UpgradeStatus.IN_PROGRESS;
    case 'success':
      return UpgradeStatus.SUCCEEDED;
    case 'fail':
    case 'failed':
      return UpgradeStatus.FAILED;
    case 'stop':
      return UpgradeStatus.CANCELED;
    case 'timeout':
      return UpgradeStatus.TIMED_OUT;
    default:
      return null;
  }
}

/** The kind of a task as `operateType` names it, or null. */
export function kindOfOperateType(operateType: string | null | undefined): UpgradeKind | null {
  if (operateType === 'firmware_upgrade') return UpgradeKind.FIRMWARE;
  if (operateType === 'software_upgrade') return UpgradeKind.SOFTWARE;
  return null;
}
