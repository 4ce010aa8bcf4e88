import { randomUUID } from 'node:crypto';
import { Brackets, type DataSource } from 'typeorm';
import { FirmwareUpgradeType, UpgradeKind, UpgradeSource } from '../domain';
import { badUserInput, type InvalidField } from '../graphql/errors';
import { validateFirmwareUpgradeInput } from '../ingest/dji/protocol';
import type { Clock } from '../recorder/clock';
import type { WriteQueue } from '../recorder/write-queue';
import { FirmwarePackage } from '../store/entities';
import type { Page, TimeKey } from '../store/read-store';

/** What `registerFirmwarePackage` receives. */
export interface RegisterFirmwarePackageRequest {
  /** DJI (default) or HUAWEI. */
  readonly source?: UpgradeSource | null;
  readonly model: string;
  readonly version: string;
  /** DJI only. */
  readonly fileUrl?: string | null;
  readonly md5?: string | null;
  readonly fileSize?: number | null;
  readonly fileName?: string | null;
  readonly firmwareUpgradeType?: FirmwareUpgradeType | string | null;
  /** HUAWEI only: the platform's version package id. */
  readonly fileId?: string | null;
  /** HUAWEI only: FIRMWARE or SOFTWARE (which platform call starts it). */
  readonly kind?: UpgradeKind | string | null;
}

/** A checked package, as stored (without id and bookkeeping). */
export type CheckedPackage = Pick<FirmwarePackage, 'source' | 'model' | 'version' | 'fileUrl' | 'md5' | 'fileSize' | 'fileName' | 'firmwareUpgradeType' | 'fileId' | 'kind'>;

/** Filters of the package list, combined with AND. */
export interface FirmwarePackageFilter {
  readonly model?: string | null;
  readonly source?: UpgradeSource | null;
}

/** A DJI model key: `domain-type-sub_type`, as the inventory keeps it (e.g. `3-1-0`). */
const DJI_MODEL_KEY = /^\d{1,5}-\d{1,5}-\d{1,5}$/;

/** Field names of createFirmwareUpgrade's device input and what they are called here. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  'devices[0].productVersion': 'version',
  'devices[0].fileUrl': 'fileUrl',
  'devices[0].md5': 'md5',
  'devices[0].fileSize': 'fileSize',
  'devices[0].fileName': 'fileName',
  'devices[0].firmwareUpgradeType': 'firmwareUpgradeType',
};

/** The fields only a DJI package carries (what `ota_create` sends). */
const DJI_ONLY_FIELDS = ['fileUrl', 'md5', 'fileSize', 'fileName', 'firmwareUpgradeType'] as const;
/** The fields only a Huawei package carries. */
const HUAWEI_ONLY_FIELDS = ['fileId', 'kind'] as const;

const given = (value: unknown) => value !== undefined && value !== null;

/** A platform identifier (model, version, fileId): trimmed, 1..max characters, no NUL. */
function checkText(field: string, value: unknown, max: number, errors: InvalidField[]): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    errors.push({ field, message: 'is required' });
    return '';
  }
  const trimmed = value.trim();
  if (trimmed.length > max) errors.push({ field, message: `must be at most ${max} characters` });
  else if (trimmed.includes('\u0000')) errors.push({ field, message: 'must not contain NUL characters' });
  return trimmed;
}

/**
 * Validates a package per source.
 * - DJI (the default): checked as `createFirmwareUpgrade` checks a device (the
 *   very same checks, the DJI protocol module's), so a registered package is one
 *   `ota_create` can carry; `model` must be a DJI model key; no Huawei field.
 * - HUAWEI: `fileId` (the platform's version package) and `kind` (FIRMWARE or
 *   SOFTWARE) are required, `model` is the platform's model name; no DJI field
 *   (the platform already holds the file).
 */
export function validatePackageInput(input: RegisterFirmwarePackageRequest): { ok: true; value: CheckedPackage } | { ok: false; errors: InvalidField[] } {
  const errors: InvalidField[] = [];
  const source = input.source ?? UpgradeSource.DJI;
  if (source === UpgradeSource.HUAWEI) {
    for (const field of DJI_ONLY_FIELDS) if (given(input[field])) errors.push({ field, message: 'is for DJI packages only; a Huawei package is named by fileId' });
    const model = checkText('model', input.model, 64, errors);
    const version = checkText('version', input.version, 256, errors);
    const fileId = checkText('fileId', input.fileId, 256, errors);
    const kind = input.kind;
    if (kind !== UpgradeKind.FIRMWARE && kind !== UpgradeKind.SOFTWARE) errors.push({ field: 'kind', message: 'is required for a Huawei package: FIRMWARE or SOFTWARE' });
    if (errors.length > 0) return { ok: false, errors };
    return {
      ok: true,
      value: { source, model, version, fileId, kind: kind as UpgradeKind, fileUrl: null, md5: null, fileSize: null, fileName: null, firmwareUpgradeType: null },
    };
  }
  if (source !== UpgradeSource.DJI) return { ok: false, errors: [{ field: 'source', message: 'must be DJI or HUAWEI' }] };
  for (const field of HUAWEI_ONLY_FIELDS) if (given(input[field])) errors.push({ field, message: 'is for Huawei packages only' });
  const model = typeof input.model === 'string' ? input.model.trim() : '';
  if (!DJI_MODEL_KEY.test(model)) errors.push({ field: 'model', message: 'must be a DJI model key domain-type-sub_type, e.g. 3-1-0' });
  const checked = validateFirmwareUpgradeInput({
    gatewaySn: 'package',
    devices: [{ sn: 'package', productVersion: input.version, fileUrl: input.fileUrl, md5: input.md5, fileSize: input.fileSize, fileName: input.fileName, firmwareUpgradeType: input.firmwareUpgradeType }],
  });
  if (!checked.ok) for (const e of checked.errors) errors.push({ field: FIELD_NAMES[e.field] ?? e.field, message: e.message });
  if (errors.length > 0 || !checked.ok) return { ok: false, errors };
  const device = checked.value.devices[0];
  return {
    ok: true,
    value: {
      source,
      model,
      version: device.productVersion,
      fileUrl: device.fileUrl,
      md5: device.md5,
      fileSize: device.fileSize,
      fileName: device.fileName,
      firmwareUpgradeType: device.firmwareUpgradeType as FirmwareUpgradeType,
      fileId: null,
      kind: null,
    },
  };
}

/** Firmware packages: registered through the writer, read through the API's connection. */
export class FirmwarePackages {
  constructor(
    private readonly queue: WriteQueue,
    private readonly read: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores a package. BAD_USER_INPUT naming each bad field, or `version` when
   * the model already has a package of that version from the same source;
   * nothing is stored then. The source is part of that key: a DJI model key
   * (`3-1-0`) and a Huawei model name live in different namespaces, and a
   * target only ever gets a package of its own source.
   */
  async register(input: RegisterFirmwarePackageRequest, createdBy: string | null): Promise<FirmwarePackage> {
    const checked = validatePackageInput(input);
    if (!checked.ok) throw badUserInput('Invalid firmware package', checked.errors);
    const value = checked.value;
    const now = this.clock.now();
    return this.queue.submit(
      async (tx) => {
        const existing = await tx.findOne(FirmwarePackage, { where: { source: value.source, model: value.model, version: value.version }, select: { id: true } });
        if (existing) {
          throw badUserInput('Invalid firmware package', [{ field: 'version', message: `model ${value.model} already has a package ${value.version} (${existing.id})` }]);
        }
        const row: FirmwarePackage = {
          id: randomUUID(),
          ...value,
          createdBy,
          createdAt: now,
        };
        await tx.insert(FirmwarePackage, row);
        return { result: row };
      },
      // Another instance registering the same model and version meanwhile: the second run reports it.
      { retryOnConflict: true },
    );
  }

  /** Packages, newest first. */
  async list(filter: FirmwarePackageFilter, first: number, after: TimeKey | null): Promise<Page<FirmwarePackage>> {
    const base = () => {
      const qb = this.read.getRepository(FirmwarePackage).createQueryBuilder('p');
      if (filter.model) qb.andWhere('p.model = :model', { model: filter.model });
      if (filter.source) qb.andWhere('p.source = :source', { source: filter.source });
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (after) {
      const column = this.read.getMetadata(FirmwarePackage).findColumnWithPropertyName('createdAt')!;
      const at = this.read.driver.preparePersistentValue(after.at, column);
      page.andWhere(
        new Brackets((w) => {
          w.where('p.created_at < :afterAt', { afterAt: at }).orWhere('p.created_at = :afterAt AND p.id < :afterId', { afterAt: at, afterId: after.id });
        }),
      );
    }
    const rows = await page.orderBy('p.created_at', 'DESC').addOrderBy('p.id', 'DESC').take(first + 1).getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  byId(id: string): Promise<FirmwarePackage | null> {
    return this.read.getRepository(FirmwarePackage).findOne({ where: { id } });
  }

  async byIds(ids: readonly string[]): Promise<FirmwarePackage[]> {
    if (ids.length === 0) return [];
    return this.read.getRepository(FirmwarePackage).createQueryBuilder('p').where('p.id IN (:...ids)', { ids }).getMany();
  }
}
