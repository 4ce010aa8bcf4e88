import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { In, IsNull, LessThanOrEqual, Not, type EntityManager } from 'typeorm';
import { UpgradeKind, UpgradeSource, UpgradeStatus } from '../domain';
import type { CheckedRequest, StoredHuaweiUpgrade } from '../ingest/huawei/northbound/upgrades';
import type { Clock } from '../recorder/clock';
import type { Recorder } from '../recorder/recorder';
import type { WriteQueue } from '../recorder/write-queue';
import { FirmwarePackage, Rollout, RolloutTarget, UpgradeTask } from '../store/entities';
import { endAttemptIn } from './attempt-end';
import { RolloutStatus, RolloutTargetStatus, afterTargetsEnded, attemptOutcome, moveCounts, type AttemptOutcome } from './domain';
import { addMove, countsOf, dueQueuedTargets, settingsOf, updateCounts, type CountDelta } from './rollout-rows';

/** What the rollouts need of the Huawei command side (src/ingest/huawei/northbound: HuaweiUpgradeStarter). */
export interface HuaweiWaveSender {
  /** Creates the task on the platform. @returns its operationId @throws NorthboundError */
  createOperation(checked: CheckedRequest): Promise<string>;
  /** The operationId of a task the platform made for exactly these devices since `createdAfter`, not among those `exclude` answers; null if none. @throws NorthboundError */
  findOperation(kind: UpgradeKind, deviceIds: readonly string[], createdAfter: Date, exclude: (operationIds: string[]) => Promise<Set<string>>): Promise<string | null>;
  /** Stores the platform's task (externalId = operationId, one PENDING sub-task per device) in the caller's unit. */
  storeIn(tx: EntityManager, operationId: string, checked: CheckedRequest, createdBy: string | null): Promise<StoredHuaweiUpgrade>;
}

/** What {@link HuaweiWaves} needs. */
export interface HuaweiWavesDependencies {
  readonly sender: HuaweiWaveSender;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retryDelayMs: number;
  /** How long a wave may stay unanswered before its task is looked up on the platform. */
  readonly graceMs: number;
  /** Wakes the engine (a wave's task stored or its targets back in the queue). */
  readonly wake: () => void;
  readonly publishChanged: (rollout: Rollout) => void;
}

/** One wave: the targets of one rollout and one package sent as one platform task. */
interface Wave {
  readonly waveId: string;
  readonly rolloutId: string;
  readonly kind: UpgradeKind;
  readonly fileId: string;
  readonly deviceIds: readonly string[];
  readonly claimedAt: Date;
}

/** How a wave ended without a task. */
type WaveEnd = { readonly kind: 'rejected'; readonly report: { status: UpgradeStatus; errorCode: string | null; statusDesc: string } } | { readonly kind: 'notSent'; readonly reason: string };

/** HTTP answers that say the platform did not process the call (it may be sent again). */
const NOT_PROCESSED_STATUSES = new Set([429, 503]);

/** Waves looked up per pass. */
const MAX_RESOLVED_PER_PASS = 20;

/**
 * Huawei targets of rollouts, sent in waves: at one engine step, the queued
 * Huawei targets of a package that fit under the cap are ONE platform task
 * (`POST …/firmwareUpgrade` or `…/softwareUpgrade` naming their devices).
 *
 * The platform call cannot be inside a database transaction, so a wave goes
 * in three steps, each safe to be cut short by a kill -9:
 * 1. claim (in the engine's step unit): the targets go IN_PROGRESS with a new
 *    `wave_id`, no task yet (they count against `maxInProgress` from here);
 * 2. after that commit, call the platform;
 * 3. on its answer, one unit stores the task through the Huawei command side's
 *    own storage (externalId = operationId, one PENDING sub-task per device)
 *    and links each target to its sub-task, clearing the wave; or, on a
 *    refusal (4xx), spends the attempt with the platform's code in lastError;
 *    or, on an answer that says it was not processed (429, 503 after the
 *    client's retries), puts the targets back in the queue without spending it.
 * A wave whose answer never came (a crash between 1 and 3, a time-out, a
 * connection cut, a 500) may or may not exist on the platform. Once it is
 * older than `graceMs` (longer than the client's time-outs and retries), the
 * engine looks it up: the v1.5.0 API takes no client reference for a task,
 * so it reads the task list filtered by type and by one of the wave's devices
 * (iot_06_0082) and takes the task naming exactly the wave's devices, created
 * since the claim, that no other wave took. Found: stored and
 * linked as in 3. Not found: the platform never made it, the targets go back
 * to the queue without spending an attempt. The lookup failing leaves the wave
 * as it is for the next pass. So no device is sent twice and none is forgotten.
 */
export class HuaweiWaves {
  /** Waves this process is sending or resolving now: never looked up meanwhile. */
  private readonly busy = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: HuaweiWavesDependencies) {}

  /**
   * Claims up to `room` queued Huawei targets of `rollout` in the caller's unit,
   * one wave per package.
   * @returns how many went IN_PROGRESS, and what to run after the commit (the platform calls)
   */
  async claimIn(tx: EntityManager, rollout: Rollout, room: number, now: Date): Promise<{ claimed: number; afterCommit: () => void }> {
    const queued = await dueQueuedTargets(tx, rollout.id, UpgradeSource.HUAWEI, now, room);
    if (queued.length === 0) return { claimed: 0, afterCommit: () => undefined };
    const byPackage = new Map<string, RolloutTarget[]>();
    for (const t of queued) byPackage.set(t.packageId!, [...(byPackage.get(t.packageId!) ?? []), t]);
    const packages = new Map((await tx.find(FirmwarePackage, { where: { id: In([...byPackage.keys()]) } })).map((p) => [p.id, p]));
    const waves: Wave[] = [];
    for (const [packageId, targets] of byPackage) {
      const pkg = packages.get(packageId)!;
      const waveId = randomUUID();
      const result = await tx
        .createQueryBuilder()
        .update(RolloutTarget)
        .set({ status: RolloutTargetStatus.IN_PROGRESS, attempts: () => 'attempts + 1', waveId, taskId: null, subTaskId: null, startedAt: now, updatedAt: now })
        .where('id IN (:...ids) AND status = :queued', { ids: targets.map((t) => t.id), queued: RolloutTargetStatus.QUEUED })
        .execute();
      if (result.affected !== targets.length) throw new Error(`${targets.length - (result.affected ?? 0)} rollout targets were claimed by another writer`);
      waves.push({ waveId, rolloutId: rollout.id, kind: pkg.kind ?? UpgradeKind.FIRMWARE, fileId: pkg.fileId!, deviceIds: targets.map((t) => t.deviceId), claimedAt: now });
    }
    return {
      claimed: queued.length,
      afterCommit: () => {
        for (const wave of waves) {
          this.busy.add(wave.waveId);
          this.track(this.send(wave));
        }
      },
    };
  }

  /** Looks up the waves left unanswered for longer than the grace (see the class comment). */
  async resolveAbandoned(): Promise<void> {
    const before = new Date(this.deps.clock.now().getTime() - this.deps.graceMs);
    const stale = await this.deps.queue.submit(async (tx) => {
      const rows = await tx.find(RolloutTarget, {
        where: { status: RolloutTargetStatus.IN_PROGRESS, waveId: Not(IsNull()), subTaskId: IsNull(), startedAt: LessThanOrEqual(before) },
        select: { waveId: true },
        take: MAX_RESOLVED_PER_PASS * 50,
      });
      return { result: [...new Set(rows.map((r) => r.waveId!))].filter((w) => !this.busy.has(w)).slice(0, MAX_RESOLVED_PER_PASS) };
    });
    for (const waveId of stale) {
      this.busy.add(waveId);
      this.track(this.resolve(waveId));
    }
  }

  /** Waits for the platform calls under way (stop). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error) => this.deps.logger.error({ err: error }, 'Huawei rollout wave failed; it is resolved on a later pass'))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private checked(wave: Wave): CheckedRequest {
    return { kind: wave.kind, fileId: wave.fileId, deviceIds: wave.deviceIds, policy: undefined };
  }

  /** Step 2 and 3 of the class comment. */
  private async send(wave: Wave): Promise<void> {
    try {
      let operationId: string;
      try {
        operationId = await this.deps.sender.createOperation(this.checked(wave));
      } catch (error) {
        const status = (error as { status?: number | null }).status ?? null;
        const platformCode = (error as { platformCode?: string | null }).platformCode ?? null;
        const message = (error as { platformMessage?: string | null }).platformMessage ?? (error as Error).message;
        if (status !== null && status >= 400 && status < 500 && !NOT_PROCESSED_STATUSES.has(status)) {
          const statusDesc = `the Huawei platform refused the task (HTTP ${status}${platformCode ? `, ${platformCode}` : ''}): ${message}`;
          await this.end(wave.waveId, { kind: 'rejected', report: { status: UpgradeStatus.REJECTED, errorCode: platformCode, statusDesc } });
        } else if (status !== null && NOT_PROCESSED_STATUSES.has(status)) {
          await this.end(wave.waveId, { kind: 'notSent', reason: `the Huawei platform is unavailable (HTTP ${status}): ${message}; tried again later` });
        } else {
          // No answer, or one that does not say whether the task was made: looked up after the grace.
          this.deps.logger.warn({ waveId: wave.waveId, rolloutId: wave.rolloutId, err: { message: (error as Error).message } }, 'Huawei wave unanswered; its task is looked up on the platform later');
        }
        return;
      }
      await this.store(wave, operationId);
    } finally {
      this.busy.delete(wave.waveId);
    }
  }

  /** A wave left unanswered: find its task on the platform, or put it back in the queue. */
  private async resolve(waveId: string): Promise<void> {
    try {
      const wave = await this.waveOf(waveId);
      if (!wave) return;
      let operationId: string | null;
      try {
        // Tasks other waves already took are not this one's. (A task the gateway knows from a push is fine: the pushes of a lost wave's own task create it.)
        operationId = await this.deps.sender.findOperation(wave.kind, wave.deviceIds, wave.claimedAt, async (ids) => {
          const taken = await this.deps.queue.submit(async (tx) => {
            const tasks = await tx.find(UpgradeTask, { where: { source: UpgradeSource.HUAWEI, externalId: In(ids) }, select: { id: true, externalId: true } });
            if (tasks.length === 0) return { result: [] as string[] };
            const linked = await tx.find(RolloutTarget, { where: { taskId: In(tasks.map((t) => t.id)) }, select: { taskId: true } });
            const linkedIds = new Set(linked.map((t) => t.taskId));
            return { result: tasks.filter((t) => linkedIds.has(t.id)).map((t) => t.externalId) };
          });
          return new Set(taken);
        });
      } catch (error) {
        this.deps.logger.warn({ waveId, err: { message: (error as Error).message } }, 'Huawei wave not looked up (platform unavailable); tried again later');
        return;
      }
      this.deps.logger.info({ waveId, rolloutId: wave.rolloutId, operationId, devices: wave.deviceIds.length }, operationId ? 'Huawei wave found on the platform' : 'Huawei wave never reached the platform; queued again');
      if (operationId) await this.store(wave, operationId);
      else await this.end(waveId, { kind: 'notSent', reason: 'the Huawei platform has no task for this wave (no answer came); tried again later' });
    } finally {
      this.busy.delete(waveId);
    }
  }

  /** A wave as its targets and package say. */
  private async waveOf(waveId: string): Promise<Wave | null> {
    return this.deps.queue.submit(async (tx) => {
      const targets = await tx.find(RolloutTarget, { where: { waveId, status: RolloutTargetStatus.IN_PROGRESS, subTaskId: IsNull() } });
      if (targets.length === 0) return { result: null };
      const pkg = await tx.findOne(FirmwarePackage, { where: { id: targets[0].packageId! } });
      if (!pkg) return { result: null };
      const claimedAt = targets.reduce((a, t) => (t.startedAt && t.startedAt < a ? t.startedAt : a), targets[0].startedAt ?? new Date(0));
      return { result: { waveId, rolloutId: targets[0].rolloutId, kind: pkg.kind ?? UpgradeKind.FIRMWARE, fileId: pkg.fileId!, deviceIds: targets.map((t) => t.deviceId), claimedAt } };
    });
  }

  /** Stores the platform's task and links each target of the wave to its sub-task, in one unit. */
  private async store(wave: Wave, operationId: string): Promise<void> {
    await this.deps.queue.submit(
      async (tx) => {
        const stored = await this.deps.sender.storeIn(tx, operationId, this.checked(wave), null);
        const subByDevice = new Map(stored.subTasks.map((s) => [s.deviceId, s.id]));
        const targets = await tx.find(RolloutTarget, { where: { waveId: wave.waveId, status: RolloutTargetStatus.IN_PROGRESS, subTaskId: IsNull() } });
        for (const target of targets) {
          await tx.update(RolloutTarget, { id: target.id, waveId: wave.waveId }, { taskId: stored.task.id, subTaskId: subByDevice.get(target.deviceId) ?? null, waveId: null, updatedAt: this.deps.clock.now() });
        }
        if (targets.length < wave.deviceIds.length) {
          // Only if the grace was shorter than a call: the task is kept (its pushes land on it), the rest was already resolved.
          this.deps.logger.error({ waveId: wave.waveId, operationId, linked: targets.length, devices: wave.deviceIds.length }, 'Huawei wave answered after it was resolved; raise ROLLOUT_HUAWEI_WAVE_GRACE_MS');
        }
        return { result: undefined, afterCommit: () => (this.deps.recorder.publishProgress(stored.messages), this.deps.wake()) };
      },
      { retryOnConflict: true },
    );
  }

  /** Ends a wave that has no task: its targets' attempts end as `end` says, counted in the rollout. */
  private async end(waveId: string, end: WaveEnd): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.queue.submit(async (tx) => {
      const targets = await tx.find(RolloutTarget, { where: { waveId, status: RolloutTargetStatus.IN_PROGRESS, subTaskId: IsNull() } });
      if (targets.length === 0) return { result: undefined };
      const rolloutId = targets[0].rolloutId;
      const rollout = await tx.findOneOrFail(Rollout, { where: { id: rolloutId } });
      const settings = settingsOf(rollout);
      let counts = countsOf(rollout);
      const delta: CountDelta = {};
      let newFailure = false;
      for (const target of targets) {
        const outcome: Pick<AttemptOutcome, 'status' | 'attempts' | 'lastError'> =
          end.kind === 'rejected'
            ? attemptOutcome(end.report, target.attempts, settings.attemptsPerDevice)
            : { status: RolloutTargetStatus.QUEUED, attempts: Math.max(0, target.attempts - 1), lastError: end.reason };
        const to = await endAttemptIn(tx, target, outcome, rollout.status, now, this.deps.retryDelayMs);
        if (!to) continue;
        addMove(delta, RolloutTargetStatus.IN_PROGRESS, to);
        counts = moveCounts(counts, RolloutTargetStatus.IN_PROGRESS, to);
        if (to === RolloutTargetStatus.FAILED) newFailure = true;
      }
      const next = afterTargetsEnded({ status: rollout.status, pauseReason: rollout.pauseReason, counts }, settings, newFailure);
      const ended = (next.status === RolloutStatus.COMPLETED || next.status === RolloutStatus.CANCELED) && counts.inProgress === 0 && !rollout.finishedAt;
      const changed = await updateCounts(
        tx,
        rolloutId,
        delta,
        { status: next.status, pauseReason: next.pauseReason, updatedAt: now, ...(ended ? { finishedAt: now } : {}) },
        { sql: 'status = :was', params: { was: rollout.status } },
      );
      if (!changed) throw new Error(`rollout ${rolloutId} changed meanwhile`);
      const after = await tx.findOneOrFail(Rollout, { where: { id: rolloutId } });
      return { result: undefined, afterCommit: () => (this.deps.publishChanged(after), this.deps.wake()) };
    }, { retryOnConflict: true });
  }
}
