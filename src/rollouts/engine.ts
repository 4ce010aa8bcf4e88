import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { In, type EntityManager } from 'typeorm';
import { UpgradeKind, UpgradeSource, UpgradeStatus, type UpgradeObservation } from '../domain';
import type { FirmwareUpgradeRequest } from '../graphql/context';
import type { StartedUpgrade } from '../ingest/dji/command-sender';
import type { Clock } from '../recorder/clock';
import type { UpgradeProgressMessage } from '../recorder/event-bus';
import type { Recorder } from '../recorder/recorder';
import type { WriteQueue } from '../recorder/write-queue';
import { FirmwarePackage, Rollout, RolloutTarget, UpgradeSubTask, UpgradeTask } from '../store/entities';
import {
  RolloutStatus,
  RolloutTargetStatus,
  afterTargetsEnded,
  attemptEnded,
  attemptOutcome,
  attemptTimedOut,
  dueToStart,
  freeSlots,
  moveCounts,
  planDispatch,
  type RolloutCounts,
} from './domain';
import { endAttemptIn } from './attempt-end';
import { HuaweiWaves, type HuaweiWaveSender } from './huawei-waves';
import { addMove, countsOf, dueQueuedTargets, settingsOf, updateCounts, type CountDelta } from './rollout-rows';

/** Starts a DJI upgrade inside the caller's writer unit (the DJI command sender). */
export interface UpgradeDispatcher {
  startManyIn(tx: EntityManager, requests: readonly FirmwareUpgradeRequest[]): Promise<(StartedUpgrade | { error: GraphQLError })[]>;
}

/** What the rollout engine needs. */
export interface RolloutEngineDependencies {
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly dispatcher: UpgradeDispatcher;
  /** Announces a changed rollout (the `rolloutChanged` subscription). */
  readonly publishChanged: (rollout: Rollout) => void;
  /** Listens to what the recorder committed. */
  readonly progress?: AsyncIterableIterator<UpgradeProgressMessage>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often every active rollout is looked at without being woken (time-outs, startAt, missed events). @default 1000 */
  readonly tickMs?: number;
  /** How long a target waits before it is sent again after a busy answer or a spent attempt. @default 60000 */
  readonly retryDelayMs?: number;
  /** The Huawei command side; absent when HUAWEI_* are not set (Huawei targets then wait in the queue). */
  readonly huawei?: HuaweiWaveSender;
  /** How long a Huawei wave may stay unanswered before it is looked up on the platform. @default 120000 */
  readonly huaweiWaveGraceMs?: number;
}

/** Statuses of an upgrade task that has not ended: its dock is busy with it. */
const OPEN_TASK_STATUSES = [UpgradeStatus.PENDING, UpgradeStatus.SENT, UpgradeStatus.IN_PROGRESS, UpgradeStatus.PAUSED];

/** Queued targets read per free slot: room for docks that turn out busy. */
const CANDIDATES_PER_SLOT = 2;
const MAX_CANDIDATES = 1000;

/**
 * Runs rollouts: sends queued targets while there is room under the in-flight
 * cap, and counts the ends of the attempts in flight.
 *
 * Everything it knows is in the database; memory only says when to look.
 * Two kinds of look:
 * - a full look at every active rollout, every `tickMs` and at once after an
 *   operator command: it reads every target in flight (time-outs, `startAt`,
 *   ends it missed);
 * - a look at ends, at once when the recorder commits the end of a sub-task
 *   it waits for (the progress topic): it reads only the targets of those
 *   sub-tasks (by `sub_task_id`) and sends into the slots they freed, so a
 *   freed slot is refilled within one writer round-trip and its cost follows
 *   the batch of ends, not the number in flight.
 * Each look at one rollout is one writer unit, which
 * - counts the in-flight targets it looks at whose sub-task has ended or
 *   whose attempt timed out (target row and rollout counts change together,
 *   conditionally on the target still being IN_PROGRESS, so an end is counted
 *   once whichever look or instance sees it);
 * - applies the brake and completion;
 * - while RUNNING, claims queued targets for the free slots and writes their
 *   task, sub-tasks and `ota_create` command through the DJI command sender in
 *   the same unit: a target is IN_PROGRESS exactly when its command is stored,
 *   and the command is published only after that commit. The slots are
 *   claimed by `UPDATE rollout … WHERE in_progress + k <= max_in_progress`,
 *   so the cap holds across instances (on PostgreSQL every writer batch holds
 *   one global lock, so what the unit reads is what it updates). Huawei
 *   targets go in waves instead (src/rollouts/huawei-waves.ts).
 *
 * A restart or kill -9 loses nothing: an uncommitted unit sent nothing, a
 * committed one is the command sender's to (re)send, and the next look counts
 * whatever ended meanwhile.
 */
export class RolloutEngine {
  private readonly tickMs: number;
  private readonly retryDelayMs: number;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private looking: Promise<void> | null = null;
  private again = false;
  /** Tasks of targets in flight seen on the last full look (and sent since): their ends wake the engine. */
  private watchedTasks = new Set<string>();
  /** Sub-tasks whose end the recorder committed since the last look (see {@link noteEnded}). */
  private endedSubTasks = new Set<string>();
  /** A full look (every active rollout, every target in flight) is due: timer, operator command, start. */
  private fullLookDue = true;
  /** When the last full look started (wall clock: it only paces the timer). */
  private lastFullLookAt = 0;
  /** Huawei waves (null without the Huawei command side). */
  private readonly huawei: HuaweiWaves | null;
  private huaweiOffLogged = false;

  constructor(private readonly deps: RolloutEngineDependencies) {
    this.tickMs = deps.tickMs ?? 1000;
    this.retryDelayMs = deps.retryDelayMs ?? 60_000;
    this.huawei = deps.huawei
      ? new HuaweiWaves({
          sender: deps.huawei,
          queue: deps.queue,
          recorder: deps.recorder,
          clock: deps.clock,
          logger: deps.logger,
          retryDelayMs: this.retryDelayMs,
          graceMs: deps.huaweiWaveGraceMs ?? 120_000,
          wake: () => this.wake(),
          publishChanged: deps.publishChanged,
        })
      : null;
  }

  /** Starts the timer (first look at once) and the listener. */
  run(): void {
    if (this.running) return;
    this.running = true;
    void this.listen();
    this.wake();
  }

  /** Stops the timer and the listener and waits for a look in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.deps.progress?.return?.();
    await this.looking;
    await this.huawei?.settled();
  }

  /** Looks at every active rollout as soon as possible (after an operator command, a wave stored, the timer). */
  wake(): void {
    this.fullLookDue = true;
    this.look();
  }

  /**
   * The recorder committed the end of these sub-tasks: count them and send
   * into the freed slots now. The look reads only the targets of these
   * sub-tasks (by their index), so its cost follows the batch of ends, not
   * the number in flight; time-outs and missed events are the full look's,
   * on the timer.
   */
  noteEnded(subTaskIds: Iterable<string>): void {
    for (const id of subTaskIds) this.endedSubTasks.add(id);
    this.look();
  }

  private look(): void {
    if (!this.running) return;
    if (this.looking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.looking = this.lookUntilQuiet()
      .catch((error) => this.deps.logger.error({ err: error }, 'rollout engine pass failed'))
      .finally(() => {
        this.looking = null;
        if (!this.running) return;
        if (this.again) return this.look();
        // The full look comes every tickMs however busy the looks at ends keep the engine.
        this.timer = setTimeout(() => this.wake(), Math.max(0, this.lastFullLookAt + this.tickMs - Date.now()));
        this.timer.unref();
      });
  }

  private async lookUntilQuiet(): Promise<void> {
    do {
      this.again = false;
      if (Date.now() - this.lastFullLookAt >= this.tickMs) this.fullLookDue = true;
      if (this.fullLookDue) {
        this.fullLookDue = false;
        this.lastFullLookAt = Date.now();
        // A full look counts every end there is.
        this.endedSubTasks.clear();
        await this.lookOnce();
      } else if (this.endedSubTasks.size > 0) {
        const ended = [...this.endedSubTasks];
        this.endedSubTasks.clear();
        await this.lookAtEnds(ended);
      }
    } while (this.again && this.running);
  }

  private async listen(): Promise<void> {
    const progress = this.deps.progress;
    if (!progress) return;
    try {
      for await (const message of progress) {
        if (!this.running) break;
        if (attemptEnded(message.subTask.status) && this.watchedTasks.has(message.task.id)) this.noteEnded([message.subTask.id]);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'rollout engine stopped listening to progress; the timer goes on');
    }
  }

  /** One look at every active rollout, one writer unit each. Exposed for tests. */
  async lookOnce(): Promise<void> {
    const ids = await this.deps.queue.submit(async (tx) => {
      const rows = await tx
        .getRepository(Rollout)
        .createQueryBuilder('r')
        .select(['r.id'])
        .where('r.status IN (:...active)', { active: [RolloutStatus.SCHEDULED, RolloutStatus.RUNNING, RolloutStatus.PAUSED] })
        .orWhere('(r.status = :canceled AND r.in_progress > 0)', { canceled: RolloutStatus.CANCELED })
        .getMany();
      return { result: rows.map((r) => r.id) };
    });
    const watched = new Set<string>();
    await Promise.all(ids.map((id) => this.deps.queue.submit((tx) => this.step(tx, id, watched, null))));
    this.watchedTasks = watched;
    if (ids.length > 0) await this.huawei?.resolveAbandoned();
  }

  /**
   * A look at the rollouts whose targets' sub-tasks just ended, in ONE writer
   * unit: find those targets by `sub_task_id`, then step each of their
   * rollouts counting only them and sending into the slots they freed. (One
   * unit, not a read and then a step per rollout, so a freed slot is refilled
   * in one writer round-trip; a step that fails rolls the whole look back, and
   * the next look, at the latest the full one, counts those ends.)
   */
  private async lookAtEnds(subTaskIds: readonly string[]): Promise<void> {
    await this.deps.queue.submit(async (tx) => {
      const found: Pick<RolloutTarget, 'id' | 'rolloutId'>[] = [];
      for (let i = 0; i < subTaskIds.length; i += ID_CHUNK) {
        found.push(
          ...(await tx.find(RolloutTarget, {
            where: { subTaskId: In(subTaskIds.slice(i, i + ID_CHUNK)), status: RolloutTargetStatus.IN_PROGRESS },
            select: { id: true, rolloutId: true },
          })),
        );
      }
      const byRollout = new Map<string, number[]>();
      for (const t of found) byRollout.set(t.rolloutId, [...(byRollout.get(t.rolloutId) ?? []), t.id]);
      const hooks: (() => void)[] = [];
      // New tasks join the watched set; the next full look rebuilds it.
      for (const [rolloutId, targetIds] of byRollout) {
        const outcome = await this.step(tx, rolloutId, this.watchedTasks, targetIds);
        if (outcome.afterCommit) hooks.push(outcome.afterCommit);
      }
      return { result: undefined, afterCommit: () => hooks.forEach((hook) => hook()) };
    });
  }

  /**
   * One rollout's step (see the class comment). `only`: count the ends of these
   * targets only (a look at ends); null: of every target in flight, time-outs
   * included (a full look).
   */
  private async step(tx: EntityManager, rolloutId: string, watched: Set<string>, only: readonly number[] | null) {
    const now = this.deps.clock.now();
    const rollout = await tx.findOne(Rollout, { where: { id: rolloutId } });
    if (!rollout) return { result: undefined };
    const settings = settingsOf(rollout);
    let status = rollout.status;
    let pauseReason = rollout.pauseReason;
    let counts: RolloutCounts = countsOf(rollout);
    const delta: CountDelta = {};
    const set: Partial<Rollout> = {};
    const progress: UpgradeProgressMessage[] = [];
    const hooks: (() => void)[] = [];
    let changed = false;

    if (dueToStart(status, rollout.startAt, now)) {
      status = RolloutStatus.RUNNING;
      set.startedAt = now;
      changed = true;
    }

    // 1. Count the ends of the attempts in flight.
    let newFailure = false;
    if (counts.inProgress > 0) {
      const inFlight = only
        ? await tx.find(RolloutTarget, { where: { id: In([...only]), rolloutId, status: RolloutTargetStatus.IN_PROGRESS } })
        : await tx.find(RolloutTarget, { where: { rolloutId, status: RolloutTargetStatus.IN_PROGRESS } });
      const subTaskIds = inFlight.map((t) => t.subTaskId).filter((id): id is string => id !== null);
      const subTasks = subTaskIds.length > 0 ? await tx.find(UpgradeSubTask, { where: { id: In(subTaskIds) } }) : [];
      const subById = new Map(subTasks.map((s) => [s.id, s]));
      const taskIds = [...new Set(inFlight.map((t) => t.taskId).filter((id): id is string => id !== null))];
      const tasks = taskIds.length > 0 ? await tx.find(UpgradeTask, { where: { id: In(taskIds) }, select: { id: true, source: true, kind: true, externalId: true, appId: true, gatewaySn: true } }) : [];
      const taskById = new Map(tasks.map((t) => [t.id, t]));
      for (const target of inFlight) {
        // A Huawei wave being sent (no task yet): resolved by the waves, never timed out here.
        if (target.waveId !== null && target.subTaskId === null) continue;
        const sub = target.subTaskId ? subById.get(target.subTaskId) : undefined;
        let report: { status: UpgradeStatus; errorCode: string | null; statusDesc: string | null } | null = null;
        if (sub && attemptEnded(sub.status)) {
          report = { status: sub.status, errorCode: sub.errorCode, statusDesc: sub.statusDesc };
        } else if (!sub || (target.startedAt && attemptTimedOut(target.startedAt, now, settings.attemptTimeoutSeconds))) {
          const statusDesc = sub ? `no end reported within the rollout's ${settings.attemptTimeoutSeconds} s attempt time-out` : 'sub-task missing';
          const task = target.taskId ? taskById.get(target.taskId) : undefined;
          if (sub && task) progress.push(...(await this.deps.recorder.applyOwnObservationIn(tx, timeoutObservation(task, target.deviceId, now, statusDesc), now)));
          report = { status: UpgradeStatus.TIMED_OUT, errorCode: null, statusDesc };
        }
        if (!report) {
          if (target.taskId) watched.add(target.taskId);
          continue;
        }
        const outcome = attemptOutcome(report, target.attempts, settings.attemptsPerDevice);
        const to = await endAttemptIn(tx, target, outcome, status, now, this.retryDelayMs);
        if (!to) continue;
        addMove(delta, RolloutTargetStatus.IN_PROGRESS, to);
        counts = moveCounts(counts, RolloutTargetStatus.IN_PROGRESS, to);
        if (to === RolloutTargetStatus.FAILED) newFailure = true;
        changed = true;
      }
      const next = afterTargetsEnded({ status, pauseReason, counts }, settings, newFailure);
      if (next.status !== status || next.pauseReason !== pauseReason) changed = true;
      status = next.status;
      pauseReason = next.pauseReason;
    } else if (status === RolloutStatus.RUNNING && counts.queued === 0) {
      // Started with nothing to send (every target skipped), or the last ends were counted with it paused.
      status = RolloutStatus.COMPLETED;
      changed = true;
    }

    // 2. Send what fits under the cap.
    if (status === RolloutStatus.RUNNING && counts.queued > 0) {
      let room = freeSlots(counts, settings.maxInProgress);
      if (room > 0 && this.huawei) {
        const wave = await this.huawei.claimIn(tx, rollout, room, now);
        if (wave.claimed > 0) {
          addMove(delta, RolloutTargetStatus.QUEUED, RolloutTargetStatus.IN_PROGRESS, wave.claimed);
          counts = moveCounts(counts, RolloutTargetStatus.QUEUED, RolloutTargetStatus.IN_PROGRESS, wave.claimed);
          room -= wave.claimed;
          hooks.push(wave.afterCommit);
          changed = true;
        }
      } else if (room > 0 && !this.huaweiOffLogged && (await tx.count(RolloutTarget, { where: { rolloutId, status: RolloutTargetStatus.QUEUED, source: UpgradeSource.HUAWEI } })) > 0) {
        this.huaweiOffLogged = true;
        this.deps.logger.warn({ rolloutId }, 'Huawei rollout targets wait in the queue: the Huawei command side is off (set HUAWEI_API_URL, HUAWEI_APP_ID and HUAWEI_SECRET)');
      }
      if (room > 0) {
        const { sent, unsendable } = await this.dispatch(tx, rollout, room, now, hooks, watched);
        if (sent > 0 || unsendable > 0) {
          addMove(delta, RolloutTargetStatus.QUEUED, RolloutTargetStatus.IN_PROGRESS, sent);
          addMove(delta, RolloutTargetStatus.QUEUED, RolloutTargetStatus.FAILED, unsendable);
          counts = moveCounts(counts, RolloutTargetStatus.QUEUED, RolloutTargetStatus.IN_PROGRESS, sent);
          counts = moveCounts(counts, RolloutTargetStatus.QUEUED, RolloutTargetStatus.FAILED, unsendable);
          changed = true;
        }
      }
    }

    if (!changed) return { result: undefined };
    if ((status === RolloutStatus.COMPLETED || status === RolloutStatus.CANCELED) && counts.inProgress === 0 && !rollout.finishedAt) set.finishedAt = now;
    // The slots this unit sends into are claimed here: the rollout must still be as read, and under its cap.
    const claimed = await updateCounts(tx, rolloutId, delta, { ...set, status, pauseReason, updatedAt: now }, {
      sql: 'status = :was AND in_progress + :sending <= max_in_progress',
      params: { was: rollout.status, sending: Math.max(0, delta.inProgress ?? 0) },
    });
    if (!claimed) throw new Error(`rollout ${rolloutId} changed under the engine; nothing of this step is kept`);
    const after = await tx.findOneOrFail(Rollout, { where: { id: rolloutId } });
    return {
      result: undefined,
      afterCommit: () => {
        this.deps.recorder.publishProgress(progress);
        for (const hook of hooks) hook();
        this.deps.publishChanged(after);
      },
    };
  }

  /**
   * Claims up to `room` queued targets of `rollout` that may go now and writes
   * their commands, one `ota_create` per dock (its aircraft with it).
   * @returns how many targets went IN_PROGRESS, and how many FAILED as not sendable.
   */
  private async dispatch(
    tx: EntityManager,
    rollout: Rollout,
    room: number,
    now: Date,
    hooks: (() => void)[],
    watched: Set<string>,
  ): Promise<{ sent: number; unsendable: number }> {
    const candidates = await dueQueuedTargets(tx, rollout.id, UpgradeSource.DJI, now, Math.min(MAX_CANDIDATES, room * CANDIDATES_PER_SLOT + 2));
    if (candidates.length === 0) return { sent: 0, unsendable: 0 };
    const gateways = [...new Set(candidates.map((t) => t.gatewaySn))];
    const busyTargets = await tx
      .getRepository(RolloutTarget)
      .createQueryBuilder('t')
      .select('DISTINCT t.gateway_sn', 'gatewaySn')
      .where('t.status = :inProgress AND t.gateway_sn IN (:...gateways)', { inProgress: RolloutTargetStatus.IN_PROGRESS, gateways })
      .getRawMany<{ gatewaySn: string }>();
    // A dock busy with an upgrade started elsewhere (createFirmwareUpgrade) would only answer 312014.
    const busyTasks = await tx
      .getRepository(UpgradeTask)
      .createQueryBuilder('k')
      .select('DISTINCT k.gateway_sn', 'gatewaySn')
      .where('k.source = :dji AND k.status IN (:...open) AND k.gateway_sn IN (:...gateways)', { dji: UpgradeSource.DJI, open: OPEN_TASK_STATUSES, gateways })
      .getRawMany<{ gatewaySn: string }>();
    const busy = new Set([...busyTargets, ...busyTasks].map((r) => r.gatewaySn));
    const plan = planDispatch(candidates, busy, room);
    if (plan.length === 0) return { sent: 0, unsendable: 0 };

    const packageIds = [...new Set(plan.flatMap((g) => g.targets.map((t) => t.packageId!)))];
    const packages = new Map((await tx.find(FirmwarePackage, { where: { id: In(packageIds) } })).map((p) => [p.id, p]));
    const requests: FirmwareUpgradeRequest[] = plan.map((group) => ({
      gatewaySn: group.gatewaySn,
      devices: group.targets.map((t) => {
        const p = packages.get(t.packageId!)!;
        return {
          sn: t.deviceId,
          productVersion: p.version,
          fileUrl: p.fileUrl!,
          md5: p.md5!,
          fileSize: p.fileSize!,
          fileName: p.fileName!,
          firmwareUpgradeType: p.firmwareUpgradeType!,
        };
      }),
    }));
    const started = await this.deps.dispatcher.startManyIn(tx, requests);
    const claims: { target: RolloutTarget; taskId: string; subTaskId: string }[] = [];
    let unsendable = 0;
    for (let i = 0; i < plan.length; i++) {
      const upgrade = started[i];
      if ('error' in upgrade) {
        // Refused before anything was written (a serial number no topic can carry): it can never be sent.
        for (const target of plan[i].targets) {
          await tx.update(RolloutTarget, { id: target.id, status: RolloutTargetStatus.QUEUED }, { status: RolloutTargetStatus.FAILED, lastError: `not sendable: ${upgrade.error.message}`, updatedAt: now });
        }
        unsendable += plan[i].targets.length;
        continue;
      }
      for (const target of plan[i].targets) {
        claims.push({ target, taskId: upgrade.task.id, subTaskId: upgrade.subTasks.find((s) => s.deviceId === target.deviceId)!.id });
      }
      watched.add(upgrade.task.id);
      hooks.push(upgrade.afterCommit);
    }
    await claimTargets(tx, claims, now);
    const sent = claims.length;
    return { sent, unsendable };
  }
}

/** Ids per `IN (…)` of a look at ends. */
const ID_CHUNK = 500;

/** Claims chunk: three parameters per target. */
const CLAIM_CHUNK = 200;

/**
 * Marks the targets IN_PROGRESS with their task and sub-task, one UPDATE per
 * chunk, each conditional on the target still being QUEUED: a target another
 * writer took meanwhile makes the unit fail and roll back (nothing is sent).
 */
async function claimTargets(tx: EntityManager, claims: readonly { target: RolloutTarget; taskId: string; subTaskId: string }[], now: Date): Promise<void> {
  for (let i = 0; i < claims.length; i += CLAIM_CHUNK) {
    const chunk = claims.slice(i, i + CLAIM_CHUNK);
    const params: Record<string, unknown> = { queued: RolloutTargetStatus.QUEUED, ids: chunk.map((c) => c.target.id) };
    const taskCase = chunk.map((c, j) => ((params[`i${j}`] = c.target.id), (params[`t${j}`] = c.taskId), `WHEN :i${j} THEN :t${j}`)).join(' ');
    const subCase = chunk.map((c, j) => ((params[`s${j}`] = c.subTaskId), `WHEN :i${j} THEN :s${j}`)).join(' ');
    const result = await tx
      .createQueryBuilder()
      .update(RolloutTarget)
      .set({
        status: RolloutTargetStatus.IN_PROGRESS,
        attempts: () => 'attempts + 1',
        taskId: () => `CASE id ${taskCase} END`,
        subTaskId: () => `CASE id ${subCase} END`,
        startedAt: now,
        updatedAt: now,
      })
      .where('id IN (:...ids) AND status = :queued')
      .setParameters(params)
      .execute();
    if (result.affected !== chunk.length) throw new Error(`${chunk.length - (result.affected ?? 0)} rollout targets were claimed by another writer`);
  }
}

/** The gateway's TIMED_OUT for a device whose attempt ran past the rollout's time-out. */
function timeoutObservation(task: Pick<UpgradeTask, 'source' | 'kind' | 'externalId' | 'appId' | 'gatewaySn'>, deviceId: string, at: Date, statusDesc: string): UpgradeObservation {
  return {
    type: 'upgrade',
    source: task.source ?? UpgradeSource.DJI,
    kind: task.kind ?? UpgradeKind.FIRMWARE,
    task: task.source === UpgradeSource.HUAWEI ? { externalId: task.externalId, appId: task.appId } : { externalId: task.externalId, gatewaySn: task.gatewaySn },
    target: { kind: 'device', deviceId },
    status: UpgradeStatus.TIMED_OUT,
    occurredAt: at,
    statusDesc,
  };
}
