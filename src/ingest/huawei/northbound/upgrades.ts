import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { z } from 'zod';
import { UpgradeKind, UpgradeSource, UpgradeStatus, type UpgradeObservation } from '../../../domain';
import { badUserInput, ErrorCode } from '../../../graphql/errors';
import type { Clock } from '../../../recorder/clock';
import type { UpgradeProgressMessage } from '../../../recorder/event-bus';
import type { Recorder } from '../../../recorder/recorder';
import type { WriteQueue } from '../../../recorder/write-queue';
import { writeRows } from '../../../store/bulk-write';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { newSubTask, UpgradeSubTask, UpgradeTask } from '../../../store/entities';
import { NorthboundError, type HuaweiNorthboundClient } from './client';
import {
  CreateOperationAnswerSchema,
  createOperationBody,
  createOperationPath,
  EXECUTE_TYPES,
  formatPlatformTime,
  MAX_UPGRADE_DEVICES,
  NORTHBOUND_PATHS,
  OperationListPageSchema,
  operateTypeOf,
  parsePlatformTime,
  type UpgradePolicy,
} from './protocol';

/** A task the gateway stored for a platform operation, with the sub-tasks of the devices asked for. */
export interface StoredHuaweiUpgrade {
  readonly task: UpgradeTask;
  /** The sub-tasks of the requested devices, one per device. */
  readonly subTasks: readonly UpgradeSubTask[];
  /** Progress messages to publish after the commit ({@link Recorder.publishProgress}). */
  readonly messages: readonly UpgradeProgressMessage[];
}

/** Pages of the task list read when looking for a wave's task (100 tasks each, newest first on the platform). */
const LOOKUP_PAGES = 5;
/** Clock difference between the gateway and the platform tolerated when matching a task's createTime. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** A Huawei upgrade to start, as `createHuaweiUpgrade` (and the rollouts) ask for it. */
export interface HuaweiUpgradeRequest {
  readonly kind: UpgradeKind;
  /** The version package on the platform (`fileId`). */
  readonly fileId: string;
  readonly deviceIds: readonly string[];
  /** The name of the API token that asked for it, recorded on the task. */
  readonly createdBy?: string | null;
  readonly policy?: {
    /** `now` (default), `device_online`, or `custom` (with startTime and endTime). */
    readonly executeType?: string | null;
    readonly startTime?: Date | null;
    readonly endTime?: Date | null;
    /** How often the platform retries a failed device (0..5). */
    readonly retryTimes?: number | null;
  } | null;
}

const id = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .refine((s) => s.trim().length > 0, 'must not be empty')
    .refine((s) => s.trim() === s, 'must not start or end with spaces')
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .pipe(z.string().max(max, `must be at most ${max} characters`));

const RequestSchema = z
  .object({
    kind: z.enum([UpgradeKind.FIRMWARE, UpgradeKind.SOFTWARE], { error: 'must be FIRMWARE or SOFTWARE' }),
    fileId: id(256),
    deviceIds: z
      .array(id(256))
      .min(1, 'must name at least one device')
      .max(MAX_UPGRADE_DEVICES, `must name at most ${MAX_UPGRADE_DEVICES} devices`)
      .refine((ids) => new Set(ids).size === ids.length, 'must not name a device twice'),
    policy: z
      .object({
        executeType: z
          .string()
          .nullish()
          .transform((v) => v ?? 'now')
          .pipe(z.enum(EXECUTE_TYPES, { error: `must be one of ${EXECUTE_TYPES.join(', ')}` })),
        startTime: z.date().nullish(),
        endTime: z.date().nullish(),
        retryTimes: z.number().int('must be a whole number').min(0, 'must be 0..5').max(5, 'must be 0..5').nullish(),
      })
      .nullish(),
  })
  .superRefine((value, ctx) => {
    const p = value.policy;
    if (!p) return;
    if (p.executeType === 'custom' && (!p.startTime || !p.endTime)) {
      ctx.addIssue({ code: 'custom', path: ['policy', 'startTime'], message: 'and endTime are required with executeType custom' });
    }
    if (p.executeType !== 'custom' && (p.startTime || p.endTime)) {
      ctx.addIssue({ code: 'custom', path: ['policy', 'executeType'], message: 'must be custom when startTime or endTime is given' });
    }
    if (p.startTime && p.endTime && p.endTime.getTime() <= p.startTime.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['policy', 'endTime'], message: 'must be after startTime' });
    }
  });

/** The request checked, with the policy as the platform wants it. */
export interface CheckedRequest {
  readonly kind: UpgradeKind;
  readonly fileId: string;
  readonly deviceIds: readonly string[];
  readonly policy: UpgradePolicy | undefined;
}

/** Validates a request; field paths like `deviceIds.2` or `policy.endTime`. @throws GraphQLError BAD_USER_INPUT */
export function checkHuaweiUpgradeRequest(request: unknown): CheckedRequest {
  const parsed = RequestSchema.safeParse(request);
  if (!parsed.success) {
    const seen = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.') || 'input';
      if (!seen.has(field)) seen.set(field, issue.message);
    }
    throw badUserInput('Invalid Huawei upgrade', [...seen].map(([field, message]) => ({ field, message })));
  }
  const { kind, fileId, deviceIds, policy } = parsed.data;
  return {
    kind,
    fileId,
    deviceIds,
    policy: policy
      ? {
          executeType: policy.executeType,
          ...(policy.startTime ? { startTime: formatPlatformTime(policy.startTime) } : {}),
          ...(policy.endTime ? { endTime: formatPlatformTime(policy.endTime) } : {}),
          ...(policy.retryTimes != null ? { retryType: policy.retryTimes > 0, retryTimes: policy.retryTimes } : {}),
        }
      : undefined,
  };
}

/** A platform error as a GraphQL error: code UPSTREAM_ERROR, the platform's own code and message beside it. */
export function upstreamError(error: unknown): GraphQLError {
  if (error instanceof NorthboundError) {
    return new GraphQLError(`The Huawei platform refused the call: ${error.platformMessage ?? error.message}`, {
      extensions: { code: ErrorCode.UPSTREAM_ERROR, status: error.status, platformCode: error.platformCode, platformMessage: error.platformMessage },
    });
  }
  return new GraphQLError('The Huawei platform could not be reached', { extensions: { code: ErrorCode.UPSTREAM_ERROR } });
}

/** What {@link HuaweiUpgradeStarter} needs. */
export interface HuaweiUpgradeDependencies {
  readonly client: HuaweiNorthboundClient;
  readonly appId: string;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Starts Huawei upgrades: creates the task on the platform, then stores it
 * (`externalId` = the platform's `operationId`, one PENDING sub-task per
 * device) so that the pushes that follow land on it, and publishes it.
 */
export class HuaweiUpgradeStarter {
  constructor(private readonly deps: HuaweiUpgradeDependencies) {}

  /**
   * @throws GraphQLError BAD_USER_INPUT naming each bad field (nothing called or stored),
   *   or UPSTREAM_ERROR when the platform refused or could not be reached (nothing stored).
   */
  async start(request: HuaweiUpgradeRequest): Promise<UpgradeTask> {
    const checked = checkHuaweiUpgradeRequest(request);
    let operationId: string;
    try {
      operationId = await this.createOperation(checked);
    } catch (error) {
      throw upstreamError(error);
    }
    return this.store(operationId, checked, request.createdBy ?? null);
  }

  /**
   * Creates the task on the platform (not retried on an answer that leaves it
   * unknown whether the platform created it, see the client's `idempotent`).
   * @returns the platform's operationId
   * @throws NorthboundError
   */
  async createOperation(checked: CheckedRequest): Promise<string> {
    try {
      const { operationId } = await this.deps.client.call({
        method: 'POST',
        path: createOperationPath(checked.kind),
        json: createOperationBody(checked),
        schema: CreateOperationAnswerSchema,
        idempotent: false,
      });
      this.deps.logger.info({ operationId, kind: checked.kind, devices: checked.deviceIds.length }, 'Huawei upgrade created on the platform');
      return operationId;
    } catch (error) {
      this.deps.logger.warn({ err: { message: (error as Error).message }, kind: checked.kind, devices: checked.deviceIds.length }, 'Huawei upgrade not created');
      throw error;
    }
  }

  /**
   * Looks on the platform for a task created for exactly these devices (the
   * task list filtered by type and by the first device), created no earlier
   * than `createdAfter` (less a tolerance for the clocks), and not among
   * those `exclude` answers (tasks the caller already accounts for). The v1.5.0 API takes no name
   * or client reference for a task, so the device set and the time are what
   * identify it; a rollout never has one device in two waves at once.
   * @returns the operationId, or null when the platform has no such task
   * @throws NorthboundError when the platform cannot be asked
   */
  async findOperation(kind: UpgradeKind, deviceIds: readonly string[], createdAfter: Date, exclude: (operationIds: string[]) => Promise<Set<string>>): Promise<string | null> {
    const wanted = [...new Set(deviceIds)].sort();
    const since = createdAfter.getTime() - CLOCK_SKEW_MS;
    for (let pageNo = 0; pageNo < LOOKUP_PAGES; pageNo++) {
      const page = await this.deps.client.call({
        method: 'GET',
        path: NORTHBOUND_PATHS.operations(operateTypeOf(kind), wanted[0], pageNo, 100),
        schema: OperationListPageSchema,
      });
      const matching = page.data.filter((op) => {
        const devices = [...new Set(op.targets?.devices ?? [])].sort();
        const created = parsePlatformTime(op.createTime);
        return devices.length === wanted.length && devices.every((d, i) => d === wanted[i]) && (created === null || created.getTime() >= since);
      });
      if (matching.length > 0) {
        const known = await exclude(matching.map((op) => op.operationId));
        const found = matching.find((op) => !known.has(op.operationId));
        if (found) return found.operationId;
      }
      if ((pageNo + 1) * page.pageSize >= page.totalCount || page.data.length === 0) break;
    }
    return null;
  }

  /**
   * Stores the task the platform created: the task and its sub-tasks in one
   * multi-row write, then one PENDING observation of the gateway's own for all
   * of them (their first history entry, published to subscribers). Pushes
   * racing ahead of this unit created the task already: then it only adds the
   * devices still missing.
   */
  private async store(operationId: string, checked: CheckedRequest, createdBy: string | null): Promise<UpgradeTask> {
    const { task, messages } = await this.deps.queue.submit(
      async (tx) => {
        const stored = await this.storeIn(tx, operationId, checked, createdBy);
        return { result: stored, afterCommit: () => this.deps.recorder.publishProgress(stored.messages) };
      },
      { retryOnConflict: true },
    );
    return messages.at(-1)?.task ?? task;
  }

  /**
   * {@link store} inside the caller's writer unit (the rollouts store a wave's
   * task and link their targets to its sub-tasks in one unit). The caller
   * publishes `messages` after its commit.
   */
  async storeIn(tx: EntityManager, operationId: string, checked: CheckedRequest, createdBy: string | null): Promise<StoredHuaweiUpgrade> {
    const now = this.deps.clock.now();
    let task = await tx.findOne(UpgradeTask, { where: { source: UpgradeSource.HUAWEI, externalId: operationId } });
    if (!task) {
      task = tx.create(UpgradeTask, {
        id: randomUUID(),
        source: UpgradeSource.HUAWEI,
        kind: checked.kind,
        externalId: operationId,
        appId: this.deps.appId,
        gatewaySn: null,
        status: UpgradeStatus.PENDING,
        progress: null,
        createdBy,
        createdAt: now,
        updatedAt: now,
        // Its tally: every sub-task below starts PENDING.
        pendingCount: checked.deviceIds.length,
      });
      await tx.insert(UpgradeTask, task);
    } else if (task.createdBy === null && createdBy !== null) {
      // A push created it first: it still is the caller's.
      task.createdBy = createdBy;
      await tx.update(UpgradeTask, { id: task.id }, { createdBy });
    }
    const known = new Set((await tx.find(UpgradeSubTask, { where: { taskId: task.id }, select: { deviceId: true } })).map((s) => s.deviceId));
    const fresh = checked.deviceIds.filter((d) => !known.has(d)).map((deviceId) => newSubTask(task.id, deviceId, now));
    // On a new task, written at once (its tally counts them); on one a push created, the recorder adds them below.
    if (known.size === 0) await writeRows(tx, UpgradeSubTask, fresh);
    const observation = (target: UpgradeObservation['target']): UpgradeObservation => ({
      type: 'upgrade',
      source: UpgradeSource.HUAWEI,
      kind: checked.kind,
      task: { externalId: operationId, appId: this.deps.appId },
      target,
      status: UpgradeStatus.PENDING,
      occurredAt: null,
      statusDesc: `upgrade task ${operationId} created on the Huawei platform (file ${checked.fileId})`,
    });
    const messages: UpgradeProgressMessage[] = [];
    if (known.size === 0) {
      messages.push(...(await this.deps.recorder.applyOwnObservationIn(tx, observation({ kind: 'allDevices', fallbackDeviceId: checked.deviceIds[0] }), now)));
    } else {
      // A push got here first: the devices it reached keep their state; the others get their entry.
      for (const subTask of fresh) {
        messages.push(...(await this.deps.recorder.applyOwnObservationIn(tx, observation({ kind: 'device', deviceId: subTask.deviceId }), now)));
      }
    }
    const subTasks = await tx.find(UpgradeSubTask, { where: { taskId: task.id, deviceId: In([...checked.deviceIds]) } });
    return { task, subTasks, messages };
  }
}
