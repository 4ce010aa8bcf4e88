import { randomUUID } from 'node:crypto';
import { Brackets, type DataSource } from 'typeorm';
import { FirmwareUpgradeType, UpgradeSource } from '../domain';
import { badUserInput, type InvalidField } from '../graphql/errors';
import { validateFirmwareUpgradeInput } from '../ingest/dji/protocol';
import type { Clock } from '../recorder/clock';
import type { WriteQueue } from '../recorder/write-queue';
import { FirmwarePackage } from '../store/entities';
import type { Page, TimeKey } from '../store/read-store';

/** What `registerFirmwarePackage` receives. */
export interface RegisterFirmwarePackageRequest {
  readonly model: string;
  readonly version: string;
  readonly fileUrl: string;
  readonly md5: string;
  readonly fileSize: number;
  readonly fileName: string;
  readonly firmwareUpgradeType: FirmwareUpgradeType | string;
}

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

/**
 * Validates a package as `createFirmwareUpgrade` validates a device: the very
 * same checks (the DJI protocol module's), so a registered package is one that
 * `ota_create` can carry. `model` must be a DJI model key.
 */
export function validatePackageInput(
  input: RegisterFirmwarePackageRequest,
): { ok: true; value: Omit<RegisterFirmwarePackageRequest, 'firmwareUpgradeType'> & { firmwareUpgradeType: FirmwareUpgradeType } } | { ok: false; errors: InvalidField[] } {
  const errors: InvalidField[] = [];
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
      model,
      version: device.productVersion,
      fileUrl: device.fileUrl,
      md5: device.md5,
      fileSize: device.fileSize,
      fileName: device.fileName,
      firmwareUpgradeType: device.firmwareUpgradeType as FirmwareUpgradeType,
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
   * Stores a DJI package. BAD_USER_INPUT naming each bad field, or `version`
   * when the model already has a package of that version; nothing is stored then.
   */
  async register(input: RegisterFirmwarePackageRequest, createdBy: string | null): Promise<FirmwarePackage> {
    const checked = validatePackageInput(input);
    if (!checked.ok) throw badUserInput('Invalid firmware package', checked.errors);
    const value = checked.value;
    const now = this.clock.now();
    return this.queue.submit(
      async (tx) => {
        const existing = await tx.findOne(FirmwarePackage, { where: { source: UpgradeSource.DJI, model: value.model, version: value.version }, select: { id: true } });
        if (existing) {
          throw badUserInput('Invalid firmware package', [{ field: 'version', message: `model ${value.model} already has a package ${value.version} (${existing.id})` }]);
        }
        const row: FirmwarePackage = {
          id: randomUUID(),
          source: UpgradeSource.DJI,
          ...value,
          fileId: null,
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
