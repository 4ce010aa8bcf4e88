import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  type InboundEnvelope,
  type ShadowObservation,
  type UpgradeObservation,
  OPEN_STATUSES,
  type TransitionDecision,
  type UpgradeSource,
  UpgradeStatus,
  decideTransition,
  deriveTaskProgress,
  deriveTaskStatus,
  isStale,
  reportedChanges,
} from '../domain';
import {
  InboundMessage,
  InboundOutcome,
  OutboundCommandStatus,
  ProgressEvent,
  ShadowEvent,
  UpgradeSubTask,
  newSubTask,
  UpgradeTask,
} from '../store/entities';
import { type Clock, systemClock } from './clock';
import type { EventBus, UpgradeProgressMessage } from './event-bus';
import { batchMemo, WriteQueue, type WriteOutcome } from './write-queue';

/** What {@link Recorder.record} made of one inbound message. */
export interface RecordResult {
  readonly outcome: InboundOutcome;
  /** Why the message was not recorded as an observation, when it was not. */
  readonly reason: string | null;
  /** The progress events written (one per affected sub-task). */
  readonly progress: readonly UpgradeProgressMessage[];
  /** The shadow event written, for a shadow observation. */
  readonly shadow: ShadowEvent | null;
}

/**
 * Decides whether a reply to a command (DJI `services_reply`) belongs to a
 * command of the task still waiting for it, and marks it answered. Provided by
 * the command sender; without one, no reply is matched.
 */
export interface ReplyCorrelator {
  /** True when `tid` answers a pending command of `task`; marks that command answered, inside `tx`. */
  acceptReply(tx: EntityManager, task: UpgradeTask, tid: string, receivedAt: Date): Promise<boolean>;
}

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  readonly clock?: Clock;
  readonly replies?: ReplyCorrelator;
}

/**
 * The one write path. Adapters hand it envelopes; in a single transaction
 * (shared with whatever else arrived in the same tick) it writes the ledger,
 * checks the dedupe key, applies the domain's state rules, writes the history
 * and the new sub-task and task state, and only after the commit publishes to
 * the bus. A promise it returns resolves only once its write is durable.
 */
export class Recorder {
  private readonly clock: Clock;
  private replies: ReplyCorrelator | undefined;

  constructor(
    private readonly queue: WriteQueue,
    private readonly bus: EventBus,
    options: RecorderOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.replies = options.replies;
  }

  /** Installs the correlator for command replies (the DJI command sender). */
  setReplyCorrelator(replies: ReplyCorrelator): void {
    this.replies = replies;
  }

  /**
   * Records one inbound message; resolves after commit, rejects when storage failed.
   *
   * A unit that meets another writer's commit on a unique key (another instance
   * recorded the same message, or created the same task, meanwhile) runs once
   * more and then sees it: the message becomes a DUPLICATE, or applies to the
   * task that now exists, rather than an error that would hold back the PUBACK.
   */
  record(envelope: InboundEnvelope): Promise<RecordResult> {
    return this.queue.submit((tx) => this.recordInTransaction(tx, envelope), { retryOnConflict: true });
  }

  /**
   * Applies an observation of the gateway's own inside a unit the caller is
   * already running, so that it commits (or not) with the caller's other
   * writes. The caller publishes the returned messages with
   * {@link publishProgress} from its `afterCommit`.
   */
  async applyOwnObservationIn(tx: EntityManager, observation: UpgradeObservation, at: Date): Promise<readonly UpgradeProgressMessage[]> {
    return (await this.applyUpgrade(tx, observation, at)).messages;
  }

  /** Publishes committed progress messages (see {@link applyOwnObservationIn}). */
  publishProgress(messages: readonly UpgradeProgressMessage[]): void {
    for (const message of messages) this.bus.publishProgress(message);
  }

  /**
   * The stale sweeper's write. In one unit: finds up to `limit` sub-tasks that
   * are stale as of `noNewsSince` (see {@link isStale}), oldest news first, and
   * records for each a TIMED_OUT observation of the gateway's own, with
   * `describe(subTask)` as its `statusDesc`: in the history, on the task's
   * derived status, published after commit. The sub-task is marked
   * `closedByStaleSweep` and keeps its `lastOccurredAt`, so a real observation
   * not older than the last one applied still reopens it.
   *
   * Sub-tasks of a task whose command still waits to be sent or answered
   * (`outbound_command` PENDING) are left alone: the command sender decides
   * their fate, and an outage does not count against them. So are those of the
   * sources in `exceptSources` (whose channel is down: silence means nothing then).
   * @returns one message per sub-task closed; fewer than `limit` means none is left.
   */
  closeStaleSubTasks(sweep: {
    readonly noNewsSince: Date;
    readonly limit: number;
    readonly describe: (subTask: UpgradeSubTask) => string;
    readonly exceptSources?: readonly UpgradeSource[];
    readonly at?: Date;
  }): Promise<readonly UpgradeProgressMessage[]> {
    const { noNewsSince, limit, describe, exceptSources = [], at = this.clock.now() } = sweep;
    return this.queue.submit(async (tx) => {
      const lastObservedAt = tx.connection.getMetadata(UpgradeSubTask).findColumnWithPropertyName('lastObservedAt')!;
      const query = tx
        .getRepository(UpgradeSubTask)
        .createQueryBuilder('s')
        .where('s.status IN (:...open)', { open: OPEN_STATUSES })
        .andWhere('s.last_observed_at < :cutoff', {
          cutoff: tx.connection.driver.preparePersistentValue(noNewsSince, lastObservedAt),
        })
        .andWhere('NOT EXISTS (SELECT 1 FROM outbound_command c WHERE c.task_id = s.task_id AND c.status = :pending)', {
          pending: OutboundCommandStatus.PENDING,
        });
      if (exceptSources.length > 0) {
        query.andWhere('NOT EXISTS (SELECT 1 FROM upgrade_task t WHERE t.id = s.task_id AND t.source IN (:...except))', {
          except: [...exceptSources],
        });
      }
      const stale = await query.orderBy('s.last_observed_at', 'ASC').addOrderBy('s.id', 'ASC').limit(limit).getMany();
      const messages: UpgradeProgressMessage[] = [];
      for (const subTask of stale) {
        const task = await tx.findOneByOrFail(UpgradeTask, { id: subTask.taskId });
        const observation: UpgradeObservation = {
          type: 'upgrade',
          source: task.source,
          kind: task.kind,
          task: { externalId: task.externalId },
          target: { kind: 'device', deviceId: subTask.deviceId },
          status: UpgradeStatus.TIMED_OUT,
          occurredAt: at,
          statusDesc: describe(subTask),
        };
        messages.push(...(await this.applyUpgrade(tx, observation, at, noNewsSince)).messages);
      }
      return this.publishing(messages, messages);
    });
  }

  private async recordInTransaction(tx: EntityManager, envelope: InboundEnvelope): Promise<WriteOutcome<RecordResult>> {
    const { content } = envelope;
    if (content.kind !== 'observation') {
      const outcome = content.kind === 'unhandled' ? InboundOutcome.UNHANDLED : InboundOutcome.REJECTED;
      await this.writeLedger(tx, envelope, outcome, content.reason, null);
      return { result: { outcome, reason: content.reason, progress: [], shadow: null } };
    }
    if (envelope.dedupeKey !== null) {
      const seen = await tx.findOne(InboundMessage, { where: { dedupeKey: envelope.dedupeKey }, select: { id: true } });
      if (seen) {
        const reason = `duplicate of inbound message ${seen.id}`;
        await this.writeLedger(tx, envelope, InboundOutcome.DUPLICATE, reason, null);
        return { result: { outcome: InboundOutcome.DUPLICATE, reason, progress: [], shadow: null } };
      }
    }
    const observation = content.observation;
    if (observation.type === 'shadow') {
      const shadow = await this.writeShadow(tx, observation, envelope.receivedAt);
      await this.writeLedger(tx, envelope, InboundOutcome.RECORDED, null, envelope.dedupeKey);
      const result: RecordResult = { outcome: InboundOutcome.RECORDED, reason: null, progress: [], shadow };
      return { result, afterCommit: () => this.bus.publishShadow(shadow) };
    }
    if (observation.replyToTid != null) {
      const unmatched = await this.unmatchedReply(tx, observation, envelope.receivedAt);
      if (unmatched !== null) {
        await this.writeLedger(tx, envelope, InboundOutcome.UNHANDLED, unmatched, envelope.dedupeKey);
        return { result: { outcome: InboundOutcome.UNHANDLED, reason: unmatched, progress: [], shadow: null } };
      }
    }
    const { messages } = await this.applyUpgrade(tx, observation, envelope.receivedAt);
    await this.writeLedger(tx, envelope, InboundOutcome.RECORDED, null, envelope.dedupeKey);
    return this.publishing({ outcome: InboundOutcome.RECORDED, reason: null, progress: messages, shadow: null }, messages);
  }

  /** Pairs a result with publishing its progress messages once committed. */
  private publishing<T>(result: T, messages: readonly UpgradeProgressMessage[]): WriteOutcome<T> {
    return {
      result,
      afterCommit: () => {
        for (const message of messages) this.bus.publishProgress(message);
      },
    };
  }

  /** Null when the reply belongs to a pending command; otherwise why it is not applied. */
  private async unmatchedReply(tx: EntityManager, observation: UpgradeObservation, receivedAt: Date): Promise<string | null> {
    const task = await tx.findOne(UpgradeTask, {
      where: { source: observation.source, externalId: observation.task.externalId },
    });
    if (!task) return `reply for unknown task ${observation.task.externalId}`;
    const accepted = this.replies ? await this.replies.acceptReply(tx, task, observation.replyToTid!, receivedAt) : false;
    return accepted ? null : `reply ${observation.replyToTid} matches no command waiting for a reply`;
  }

  /**
   * Applies an upgrade observation to its task: finds or creates the task and
   * the targeted sub-tasks, runs the state rules for each, writes one progress
   * event per sub-task and re-derives the task.
   *
   * With `staleSince`, the observation is the stale sweeper's TIMED_OUT: it
   * applies only to a sub-task still stale as of then (otherwise it writes
   * nothing), marks it `closedByStaleSweep` and leaves `lastObservedAt` and
   * `lastOccurredAt` as they were (it is no news of the device).
   */
  private async applyUpgrade(
    tx: EntityManager,
    observation: UpgradeObservation,
    receivedAt: Date,
    staleSince?: Date,
  ): Promise<{ messages: UpgradeProgressMessage[] }> {
    const task = await this.findOrCreateTask(tx, observation, receivedAt);
    const targets = this.targetsOf(observation, task, await this.subTasksOf(tx, task.id), receivedAt);
    const occurredAt = observation.occurredAt ?? receivedAt;
    const messages: UpgradeProgressMessage[] = [];

    for (const subTask of targets.all) {
      if (!targets.created.has(subTask) && !targets.targeted.has(subTask)) continue;
      const sweep = staleSince !== undefined;
      const before = subTask.status;
      let decision: TransitionDecision;
      if (sweep) {
        if (targets.created.has(subTask) || !isStale(subTask, staleSince)) continue;
        decision = { applied: true, status: UpgradeStatus.TIMED_OUT };
      } else {
        decision = decideTransition(subTask, { status: observation.status, occurredAt });
        subTask.lastObservedAt = receivedAt;
      }
      if (decision.applied) {
        // A real observation reopening a swept sub-task: the sweeper's reason no longer holds.
        if (!sweep && subTask.closedByStaleSweep) subTask.statusDesc = null;
        Object.assign(subTask, reportedChanges(observation));
        subTask.status = decision.status;
        if (!sweep) subTask.lastOccurredAt = occurredAt;
        subTask.closedByStaleSweep = sweep;
        subTask.updatedAt = receivedAt;
      }
      if (targets.created.has(subTask)) await tx.insert(UpgradeSubTask, subTask);
      else {
        const { id, ...columns } = subTask.fields();
        // The sweeper's close is conditional on the status it read: another instance may have moved it meanwhile.
        const updated = await tx.update(UpgradeSubTask, sweep ? { id, status: before } : { id }, columns);
        if (sweep && updated.affected === 0) {
          // Not written: the remembered rows no longer match the database.
          batchMemo(tx).delete(subTasksKey(task.id));
          continue;
        }
      }
      const event = tx.create(ProgressEvent, {
        subTaskId: subTask.id,
        taskId: task.id,
        status: subTask.status,
        reportedStatus: observation.status,
        vendorStatus: observation.vendorStatus ?? null,
        percent: observation.percent ?? null,
        step: observation.step ?? null,
        errorCode: observation.errorCode ?? null,
        statusDesc: observation.statusDesc ?? null,
        applied: decision.applied,
        ignoredReason: decision.applied ? null : decision.reason,
        occurredAt,
        receivedAt,
      });
      const inserted = await tx.insert(ProgressEvent, event);
      event.id = Number(inserted.identifiers[0].id);
      messages.push({ task, subTask: subTask.snapshot(), event });
    }

    const status = deriveTaskStatus(targets.all.map((s) => s.status));
    const progress = deriveTaskProgress(targets.all);
    if (status !== task.status || progress !== task.progress || targets.created.size > 0) {
      task.status = status;
      task.progress = progress;
      task.updatedAt = receivedAt;
      await tx.update(UpgradeTask, { id: task.id }, { status, progress, updatedAt: receivedAt });
    }
    // Every message carries the task as it stands after all of this observation's changes.
    return { messages: messages.map((m) => ({ ...m, task: { ...task } as UpgradeTask })) };
  }

  /**
   * The sub-tasks of a task, read once per batch: later units of the same
   * batch work on the same rows (every change is written through), which
   * spares a query per message when a burst reports on few tasks.
   */
  private async subTasksOf(tx: EntityManager, taskId: string): Promise<SubTaskRow[]> {
    const memo = batchMemo(tx);
    let rows = memo.get(subTasksKey(taskId)) as SubTaskRow[] | undefined;
    if (!rows) {
      rows = (await tx.find(UpgradeSubTask, { where: { taskId } })).map((row) => SubTaskRow.from(row));
      memo.set(subTasksKey(taskId), rows);
    }
    return rows;
  }

  private async findOrCreateTask(tx: EntityManager, observation: UpgradeObservation, at: Date): Promise<UpgradeTask> {
    const memo = batchMemo(tx);
    const key = `task:${observation.source}:${observation.task.externalId}`;
    const task = (memo.get(key) as UpgradeTask | undefined) ?? (await this.findOrCreateTaskRow(tx, observation, at));
    memo.set(key, task);
    // Huawei names the app only in some pushes; fill in what was missing.
    const fill: Partial<UpgradeTask> = {};
    if (task.appId === null && observation.task.appId) fill.appId = observation.task.appId;
    if (task.gatewaySn === null && observation.task.gatewaySn) fill.gatewaySn = observation.task.gatewaySn;
    if (Object.keys(fill).length > 0) {
      await tx.update(UpgradeTask, { id: task.id }, fill);
      Object.assign(task, fill);
    }
    return task;
  }

  private async findOrCreateTaskRow(tx: EntityManager, observation: UpgradeObservation, at: Date): Promise<UpgradeTask> {
    const existing = await tx.findOne(UpgradeTask, {
      where: { source: observation.source, externalId: observation.task.externalId },
    });
    if (existing) return existing;
    const task = tx.create(UpgradeTask, {
      id: randomUUID(),
      source: observation.source,
      kind: observation.kind,
      externalId: observation.task.externalId,
      appId: observation.task.appId ?? null,
      gatewaySn: observation.task.gatewaySn ?? null,
      status: UpgradeStatus.PENDING,
      progress: null,
      createdAt: at,
      updatedAt: at,
    });
    await tx.insert(UpgradeTask, task);
    return task;
  }

  /** The sub-tasks an observation applies to, creating the ones it names that do not exist yet. */
  /** `all` is the task's list of rows itself: sub-tasks created here are added to it. */
  private targetsOf(observation: UpgradeObservation, task: UpgradeTask, all: SubTaskRow[], at: Date) {
    const created = new Set<SubTaskRow>();
    const targeted = new Set<SubTaskRow>();
    const target = observation.target;
    if (target.kind === 'device') {
      let row = all.find((s) => s.deviceId === target.deviceId);
      if (!row) {
        row = SubTaskRow.fresh(task.id, target.deviceId, target.externalId ?? null, at);
        all.push(row);
        created.add(row);
      }
      targeted.add(row);
    } else if (all.length === 0) {
      const row = SubTaskRow.fresh(task.id, target.fallbackDeviceId, null, at);
      all.push(row);
      created.add(row);
    } else {
      for (const row of all) targeted.add(row);
    }
    return { all, created, targeted };
  }

  private async writeShadow(tx: EntityManager, observation: ShadowObservation, receivedAt: Date): Promise<ShadowEvent> {
    const shadow = tx.create(ShadowEvent, {
      deviceId: observation.deviceId,
      serviceId: observation.serviceId,
      properties: { ...observation.properties },
      status: observation.status,
      receivedAt,
    });
    // `properties` goes through the JSON transformer; TypeORM's deep-partial type cannot see that.
    const inserted = await tx.insert(ShadowEvent, shadow as never);
    shadow.id = Number(inserted.identifiers[0].id);
    return shadow;
  }

  private async writeLedger(
    tx: EntityManager,
    envelope: InboundEnvelope,
    outcome: InboundOutcome,
    reason: string | null,
    dedupeKey: string | null,
  ): Promise<void> {
    await tx.insert(InboundMessage, {
      source: envelope.source,
      channel: envelope.channel.slice(0, 64),
      dedupeKey,
      payload: envelope.raw,
      outcome,
      reason,
      receivedAt: envelope.receivedAt,
    });
  }
}

/** Where a batch remembers the sub-tasks of a task. */
const subTasksKey = (taskId: string) => `subTasks:${taskId}`;

/** A sub-task being worked on by the recorder: the entity plus copy helpers. */
class SubTaskRow extends UpgradeSubTask {
  static from(row: UpgradeSubTask): SubTaskRow {
    return Object.assign(new SubTaskRow(), row);
  }

  static fresh(taskId: string, deviceId: string, externalId: string | null, at: Date): SubTaskRow {
    return Object.assign(new SubTaskRow(), newSubTask(taskId, deviceId, at, { externalId }));
  }

  /** The columns to write. */
  fields(): Partial<UpgradeSubTask> {
    const { task: _task, ...fields } = this;
    return fields;
  }

  /** A plain copy for subscribers, detached from later changes. */
  snapshot(): UpgradeSubTask {
    return Object.assign(new UpgradeSubTask(), this.fields());
  }
}
