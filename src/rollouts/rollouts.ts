import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import { UpgradeSource } from '../domain';
import { badUserInput, codedError, ErrorCode } from '../graphql/errors';
import type { Clock } from '../recorder/clock';
import type { WriteQueue } from '../recorder/write-queue';
import { FirmwarePackage, Rollout, RolloutPackage, RolloutTarget } from '../store/entities';
import type { Page, TimeKey } from '../store/read-store';
import {
  COUNT_FIELD,
  RolloutStateError,
  RolloutStatus,
  RolloutTargetStatus,
  applyCommand,
  countsAfterCommand,
  type RolloutCommand,
  type RolloutCounts,
} from './domain';
import { huaweiCommandSideOff } from '../ingest/huawei/northbound';
import type { Fleet, FleetDevice } from './fleet';
import { countsOf, updateCounts } from './rollout-rows';
import { MAX_ROLLOUT_TARGETS, validateCreateRollout, type CreateRolloutRequest } from './validation';

/** Target rows written per INSERT statement (well under SQLite's bound on parameters). */
const INSERT_CHUNK = 200;

/** Ids shown in an error naming unknown ones. */
const SHOWN_IDS = 5;

/** What the service needs. */
export interface RolloutServiceDependencies {
  readonly queue: WriteQueue;
  readonly read: DataSource;
  readonly fleet: Fleet;
  readonly clock: Clock;
  /** Announces a changed rollout (the `rolloutChanged` subscription). */
  readonly publishChanged: (rollout: Rollout) => void;
  /** Wakes the engine after a change it should act on. */
  readonly wake: () => void;
  /** Whether the Huawei command side is on (HUAWEI_* set): a rollout with a Huawei package needs it. @default false */
  readonly huaweiEnabled?: boolean;
}

/** One target as it is planned at creation. */
interface PlannedTarget {
  readonly device: FleetDevice;
  readonly packageId: string | null;
  readonly status: RolloutTargetStatus.QUEUED | RolloutTargetStatus.SKIPPED;
  readonly lastError: string | null;
}

/**
 * The target set and package of each device: no package for its model, or
 * already on its version, is SKIPPED. A device gets a package of its own
 * source only. The gateway hears a Huawei device only through its upgrade
 * pushes, which name no model, so a Huawei device of unknown model gets the
 * rollout's Huawei package when it names exactly one (the operator chose the
 * devices; the platform itself refuses a package that does not fit a device).
 */
export function planTargets(devices: readonly FleetDevice[], packages: readonly FirmwarePackage[]): PlannedTarget[] {
  const byModel = new Map(packages.map((p) => [`${p.source}\u0000${p.model}`, p]));
  const huaweiPackages = packages.filter((p) => p.source === UpgradeSource.HUAWEI);
  const onlyHuaweiPackage = huaweiPackages.length === 1 ? huaweiPackages[0] : undefined;
  return devices.map((device) => {
    const pkg =
      device.model !== null
        ? byModel.get(`${device.source}\u0000${device.model}`)
        : device.source === UpgradeSource.HUAWEI
          ? onlyHuaweiPackage
          : undefined;
    if (!pkg) {
      const model = device.model === null ? 'an unknown model' : `model ${device.model}`;
      return { device, packageId: null, status: RolloutTargetStatus.SKIPPED, lastError: `no package for ${model} in this rollout` };
    }
    if (device.firmwareVersion === pkg.version) {
      return { device, packageId: pkg.id, status: RolloutTargetStatus.SKIPPED, lastError: `already on version ${pkg.version}` };
    }
    return { device, packageId: pkg.id, status: RolloutTargetStatus.QUEUED, lastError: null };
  });
}

/** Turns a refused command into the GraphQL error clients branch on. */
function stateError(error: RolloutStateError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, status: error.status, command: error.command } });
}

/**
 * Creating rollouts, operator commands and reads. Every write is one writer
 * unit: a refused input or command stores nothing.
 */
export class RolloutService {
  constructor(private readonly deps: RolloutServiceDependencies) {}

  /**
   * Creates a rollout with its targets fixed now (SCHEDULED).
   * @throws GraphQLError BAD_USER_INPUT naming the field; nothing is stored then.
   */
  async create(input: CreateRolloutRequest, createdBy: string | null): Promise<Rollout> {
    const checked = validateCreateRollout(input);
    if (!checked.ok) throw badUserInput('Invalid rollout', checked.errors);
    const { name, packageIds, deviceIds, filter, settings, startAt } = checked.value;
    const now = this.deps.clock.now();
    const rollout = await this.deps.queue.submit(async (tx) => {
      const packages = await tx.find(FirmwarePackage, { where: { id: In(packageIds) } });
      const unknown = packageIds.filter((id) => !packages.some((p) => p.id === id));
      if (unknown.length > 0) throw badUserInput('Invalid rollout', [{ field: 'packageIds', message: `unknown package ${unknown.slice(0, SHOWN_IDS).join(', ')}` }]);
      const models = new Map<string, FirmwarePackage>();
      for (const p of packages) {
        const key = `${p.source}\u0000${p.model}`;
        const other = models.get(key);
        if (other) throw badUserInput('Invalid rollout', [{ field: 'packageIds', message: `two packages for model ${p.model} (${other.version} and ${p.version})` }]);
        // Said before anything is stored: a rollout with Huawei targets would otherwise wait for ever.
        if (p.source === UpgradeSource.HUAWEI && !this.deps.huaweiEnabled) throw huaweiCommandSideOff();
        models.set(key, p);
      }
      const devices = await this.resolveDevices(tx, deviceIds, filter);
      const planned = planTargets(devices, packages);
      const queued = planned.filter((t) => t.status === RolloutTargetStatus.QUEUED).length;
      const row: Rollout = {
        id: randomUUID(),
        name,
        status: RolloutStatus.SCHEDULED,
        pauseReason: null,
        ...settings,
        targetSpec: deviceIds ? { deviceIds } : { filter: filter! },
        total: planned.length,
        queued,
        inProgress: 0,
        succeeded: 0,
        failed: 0,
        skipped: planned.length - queued,
        canceled: 0,
        createdBy,
        createdAt: now,
        startAt,
        startedAt: null,
        finishedAt: null,
        updatedAt: now,
      };
      await tx.insert(Rollout, row as never);
      await tx.insert(RolloutPackage, packages.map((p) => ({ rolloutId: row.id, packageId: p.id })));
      const targets = planned.map((t) => ({
        rolloutId: row.id,
        source: t.device.source,
        deviceId: t.device.deviceId,
        gatewaySn: t.device.gatewaySn ?? t.device.deviceId,
        model: t.device.model,
        packageId: t.packageId,
        status: t.status,
        attempts: 0,
        lastError: t.lastError,
        taskId: null,
        subTaskId: null,
        notBefore: now,
        startedAt: null,
        updatedAt: now,
      }));
      for (let i = 0; i < targets.length; i += INSERT_CHUNK) {
        await tx.createQueryBuilder().insert().into(RolloutTarget).values(targets.slice(i, i + INSERT_CHUNK)).updateEntity(false).execute();
      }
      return { result: row, afterCommit: () => this.deps.publishChanged(row) };
    });
    if (startAt) this.deps.wake();
    return rollout;
  }

  /** Devices by id or by filter; BAD_USER_INPUT for unknown ids, a filter matching nothing, or too many. */
  private async resolveDevices(tx: EntityManager, deviceIds: string[] | null, filter: Record<string, unknown> | null): Promise<FleetDevice[]> {
    if (deviceIds) {
      const found = await this.deps.fleet.byDeviceIds(tx, deviceIds);
      // One device per id: where two platforms use the same id, DJI's is the one a rollout can send to.
      const byId = new Map<string, FleetDevice>();
      for (const d of found) if (!byId.has(d.deviceId) || d.source === UpgradeSource.DJI) byId.set(d.deviceId, d);
      const unknown = deviceIds.filter((id) => !byId.has(id));
      if (unknown.length > 0) {
        const more = unknown.length > SHOWN_IDS ? ` and ${unknown.length - SHOWN_IDS} more` : '';
        throw badUserInput('Invalid rollout', [{ field: 'target.deviceIds', message: `unknown device ${unknown.slice(0, SHOWN_IDS).join(', ')}${more}` }]);
      }
      return sortForDispatch(deviceIds.map((id) => byId.get(id)!));
    }
    const found = await this.deps.fleet.matching(tx, filter!, MAX_ROLLOUT_TARGETS + 1);
    if (found.length === 0) throw badUserInput('Invalid rollout', [{ field: 'target.filter', message: 'matches no device' }]);
    if (found.length > MAX_ROLLOUT_TARGETS) {
      throw badUserInput('Invalid rollout', [{ field: 'target.filter', message: `matches more than ${MAX_ROLLOUT_TARGETS} devices; narrow it or split the fleet into several rollouts` }]);
    }
    return sortForDispatch(found);
  }

  /** An operator command; returns the rollout as it stands after it. */
  async command(id: string, command: RolloutCommand): Promise<Rollout> {
    const now = this.deps.clock.now();
    const rollout = await this.deps.queue.submit(async (tx) => {
      const row = await tx.findOne(Rollout, { where: { id } });
      if (!row) throw codedError(ErrorCode.NOT_FOUND, `rollout ${id} not found`);
      let effect;
      try {
        effect = applyCommand(command, { status: row.status, pauseReason: row.pauseReason, counts: countsOf(row) });
      } catch (error) {
        if (error instanceof RolloutStateError) throw stateError(error);
        throw error;
      }
      const counts: RolloutCounts = countsAfterCommand(countsOf(row), effect);
      if (effect.cancelQueued && row.queued > 0) {
        await tx.update(RolloutTarget, { rolloutId: id, status: RolloutTargetStatus.QUEUED }, { status: RolloutTargetStatus.CANCELED, lastError: 'rollout canceled', updatedAt: now });
      }
      if (effect.requeueFailed && row.failed > 0) {
        await tx.update(RolloutTarget, { rolloutId: id, status: RolloutTargetStatus.FAILED }, { status: RolloutTargetStatus.QUEUED, attempts: 0, notBefore: now, updatedAt: now });
      }
      const delta = {
        queued: counts.queued - row.queued,
        failed: counts.failed - row.failed,
        canceled: counts.canceled - row.canceled,
      };
      const startedAt = effect.status === RolloutStatus.RUNNING && !row.startedAt ? now : row.startedAt;
      const ended = effect.status === RolloutStatus.CANCELED && row.inProgress === 0;
      const finishedAt = ended ? now : effect.status === RolloutStatus.RUNNING ? null : row.finishedAt;
      const changed = await updateCounts(
        tx,
        id,
        delta,
        { status: effect.status, pauseReason: effect.pauseReason, startedAt, finishedAt, updatedAt: now },
        { sql: 'status = :was', params: { was: row.status } },
      );
      if (!changed) throw new Error(`rollout ${id} changed meanwhile`);
      const after = await tx.findOneOrFail(Rollout, { where: { id } });
      return { result: after, afterCommit: () => this.deps.publishChanged(after) };
    });
    this.deps.wake();
    return rollout;
  }

  /** Rollouts, newest first. */
  async list(status: RolloutStatus | null, first: number, after: TimeKey | null): Promise<Page<Rollout>> {
    const base = () => {
      const qb = this.deps.read.getRepository(Rollout).createQueryBuilder('r');
      if (status) qb.andWhere('r.status = :status', { status });
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (after) {
      const column = this.deps.read.getMetadata(Rollout).findColumnWithPropertyName('createdAt')!;
      const at = this.deps.read.driver.preparePersistentValue(after.at, column);
      page.andWhere(
        new Brackets((w) => {
          w.where('r.created_at < :afterAt', { afterAt: at }).orWhere('r.created_at = :afterAt AND r.id < :afterId', { afterAt: at, afterId: after.id });
        }),
      );
    }
    const rows = await page.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').take(first + 1).getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  byId(id: string): Promise<Rollout | null> {
    return this.deps.read.getRepository(Rollout).findOne({ where: { id } });
  }

  /** Rollouts by ids, in one query (GraphQL `nodes`). */
  async byIds(ids: readonly string[]): Promise<Rollout[]> {
    if (ids.length === 0) return [];
    return this.deps.read.getRepository(Rollout).find({ where: { id: In([...ids]) } });
  }

  /** Targets by ids, in one query (GraphQL `nodes`). */
  async targetsByIds(ids: readonly number[]): Promise<RolloutTarget[]> {
    if (ids.length === 0) return [];
    return this.deps.read.getRepository(RolloutTarget).find({ where: { id: In([...ids]) } });
  }

  /**
   * Targets of a rollout in id order (the order they were planned in). The
   * total comes from the rollout's counts, so a page costs the same however
   * large the rollout.
   */
  async targets(rollout: Rollout, status: RolloutTargetStatus | null, first: number, afterId: number | null): Promise<Page<RolloutTarget>> {
    const qb = this.deps.read.getRepository(RolloutTarget).createQueryBuilder('t').where('t.rollout_id = :id', { id: rollout.id });
    if (status) qb.andWhere('t.status = :status', { status });
    if (afterId !== null) qb.andWhere('t.id > :afterId', { afterId });
    const rows = await qb.orderBy('t.id', 'ASC').take(first + 1).getMany();
    const counts = countsOf(rollout);
    const totalCount = status ? counts[COUNT_FIELD[status]] : counts.total;
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /** The packages of several rollouts, in one query. */
  async packagesOf(rolloutIds: readonly string[]): Promise<{ rolloutId: string; pkg: FirmwarePackage }[]> {
    if (rolloutIds.length === 0) return [];
    const links = await this.deps.read.getRepository(RolloutPackage).find({ where: { rolloutId: In([...rolloutIds]) } });
    if (links.length === 0) return [];
    const packages = await this.deps.read.getRepository(FirmwarePackage).find({ where: { id: In([...new Set(links.map((l) => l.packageId))]) } });
    const byId = new Map(packages.map((p) => [p.id, p]));
    return links.map((l) => ({ rolloutId: l.rolloutId, pkg: byId.get(l.packageId)! }));
  }
}


/** Dock by dock, each dock before its aircraft, so a dock and its aircraft sit side by side in the queue. */
function sortForDispatch(devices: FleetDevice[]): FleetDevice[] {
  const dockOf = (d: FleetDevice) => d.gatewaySn ?? d.deviceId;
  return [...devices].sort((a, b) => {
    const byDock = dockOf(a) < dockOf(b) ? -1 : dockOf(a) > dockOf(b) ? 1 : 0;
    if (byDock !== 0) return byDock;
    const aIsDock = dockOf(a) === a.deviceId ? 0 : 1;
    const bIsDock = dockOf(b) === b.deviceId ? 0 : 1;
    return aIsDock - bIsDock || (a.deviceId < b.deviceId ? -1 : 1);
  });
}
