import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  EMPTY_TALLY,
  type InboundEnvelope,
  type ObservedReport,
  type ShadowObservation,
  type UpgradeObservation,
  OPEN_STATUSES,
  type SubTaskShare,
  type TransitionDecision,
  type UpgradeSource,
  UpgradeStatus,
  advancesStatus,
  decideTransition,
  deriveTaskProgress,
  deriveTaskStatus,
  isStale,
  lastOccurredAtAfter,
  nextDeviceProgress,
  reportedChanges,
  retally,
} from '../domain';
import {
  InboundMessage,
  InboundOutcome,
  OutboundCommandStatus,
  ProgressEvent,
  ShadowEvent,
  UpgradeSubTask,
  UpgradeTask,
  storeTally,
  tallyOfTask,
} from '../store/entities';
import type { Device } from '../inventory/device.entity';
import type { Inventory } from '../inventory/inventory';
import { isInventoryObservation } from '../inventory/observations';
import { type Clock, systemClock } from './clock';
import type { EventBus, UpgradeProgressMessage } from './event-bus';
import type { WriteOutcome, WriteQueue } from './write-queue';
import { SubTaskRow, WorkingSet } from './working-set';

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
  /** The fleet inventory, kept in the same transaction as what changes it. */
  readonly inventory?: Inventory;
}

/**
 * The one write path. Adapters hand it envelopes; in a single transaction
 * (shared with whatever else arrived in the same tick) it checks the dedupe
 * key, applies the domain's state rules, and records the ledger row, the
 * history and the new sub-task and task state, and only after the commit
 * publishes to the bus. A promise it returns resolves only once its write is
 * durable. Within a batch it decides against the batch's {@link WorkingSet},
 * which reads and writes the rows once for all its messages.
 */
export class Recorder {
  private readonly clock: Clock;
  private replies: ReplyCorrelator | undefined;
  private readonly inventory: Inventory | undefined;
  /** Envelopes submitted and not yet settled, oldest first. */
  private readonly upcoming = new Set<InboundEnvelope>();

  constructor(
    private readonly queue: WriteQueue,
    private readonly bus: EventBus,
    options: RecorderOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.replies = options.replies;
    this.inventory = options.inventory;
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
    // Known to every unit until this one is settled, so that the first unit of
    // a batch reads the rows of the whole batch at once (see WorkingSet.prepare).
    this.upcoming.add(envelope);
    return this.queue
      .submit((tx) => this.recordInTransaction(tx, envelope), { retryOnConflict: true, deferring: true })
      .finally(() => this.upcoming.delete(envelope));
  }

  /**
   * Applies an observation of the gateway's own inside a unit the caller is
   * already running, so that it commits (or not) with the caller's other
   * writes. The caller publishes the returned messages with
   * {@link publishProgress} from its `afterCommit`.
   */
  async applyOwnObservationIn(tx: EntityManager, observation: UpgradeObservation, at: Date): Promise<readonly UpgradeProgressMessage[]> {
    const set = WorkingSet.of(tx);
    this.inventory?.beginUnit();
    const messages = await this.applyUpgrade(tx, set, observation, at, {});
    // The devices it changed go out with its messages (see publishProgress).
    if (this.inventory && messages.length > 0) OWN_DEVICE_CHANGES.set(messages[0], this.inventory.takeChanged());
    // The caller's unit may read these rows next; write them now.
    await set.flush(tx);
    return messages;
  }

  /** Publishes committed progress messages (see {@link applyOwnObservationIn}), and the device changes they made. */
  publishProgress(messages: readonly UpgradeProgressMessage[]): void {
    for (const message of messages) this.bus.publishProgress(message);
    const devices = messages.length > 0 ? OWN_DEVICE_CHANGES.get(messages[0]) : undefined;
    if (devices) this.inventory?.publish(devices);
  }

  /**
   * The stale sweeper's write. In one unit: finds up to `limit` sub-tasks that
   * are stale as of `noNewsSince` (see {@link isStale}), oldest news first, and
   * records for each a TIMED_OUT observation of the gateway's own, with
   * `describe(subTask)` as its `statusDesc`: in the history, on the task's
   * derived status, published after commit. The sub-task is marked
   * `closedByStaleSweep` and keeps its `lastOccurredAt`, so any later real
   * report of the device still reopens it.
   *
   * Sub-tasks of a task whose command still waits to be sent or answered
   * (`outbound_command` PENDING) are left alone: the command sender decides
   * their fate, and an outage does not count against them. So are those of the
   * sources in `exceptSources` (whose channel is down: silence means nothing then).
   *
   * What it reads is what it writes: the unit runs alone in the writer (every
   * instance's, on PostgreSQL, under the writer lock), after everything before
   * it in the batch is written.
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
      const set = WorkingSet.of(tx);
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
        messages.push(...(await this.applyUpgrade(tx, set, observation, at, { staleSince: noNewsSince })));
      }
      // Written by the queue after this unit, which reads the database itself (not `deferring`).
      return this.publishing(messages, messages);
    });
  }

  private async recordInTransaction(tx: EntityManager, envelope: InboundEnvelope): Promise<WriteOutcome<RecordResult>> {
    this.inventory?.beginUnit();
    const set = WorkingSet.of(tx);
    await set.prepare(tx, envelope, this.upcoming);
    const { content } = envelope;
    if (content.kind !== 'observation') {
      const outcome = content.kind === 'unhandled' ? InboundOutcome.UNHANDLED : InboundOutcome.REJECTED;
      set.addLedger(ledgerRow(envelope, outcome, content.reason, null));
      return { result: { outcome, reason: content.reason, progress: [], shadow: null } };
    }
    if (envelope.dedupeKey !== null) {
      const holder = await set.holderOf(tx, envelope.dedupeKey);
      if (holder !== null) {
        const reason = `duplicate of inbound message ${holder}`;
        set.addLedger(ledgerRow(envelope, InboundOutcome.DUPLICATE, reason, null));
        return { result: { outcome: InboundOutcome.DUPLICATE, reason, progress: [], shadow: null } };
      }
    }
    const observation = content.observation;
    if (observation.type === 'shadow') {
      const shadow = await this.writeShadow(tx, observation, envelope.receivedAt);
      set.addLedger(ledgerRow(envelope, InboundOutcome.RECORDED, null, envelope.dedupeKey));
      const result: RecordResult = { outcome: InboundOutcome.RECORDED, reason: null, progress: [], shadow };
      // A Huawei device appears with its first push, a shadow push too.
      const devices = this.inventory ? await this.inventory.deviceSeen(tx, observation.source, observation.deviceId, envelope.receivedAt) : [];
      return { result, afterCommit: () => (this.bus.publishShadow(shadow), this.inventory?.publish(devices)) };
    }
    if (isInventoryObservation(observation)) {
      // Topology and device state: the inventory decides, in this transaction (src/inventory).
      const devices = this.inventory ? await this.inventory.record(tx, observation, envelope.receivedAt) : [];
      set.addLedger(ledgerRow(envelope, InboundOutcome.RECORDED, null, envelope.dedupeKey));
      const result: RecordResult = { outcome: InboundOutcome.RECORDED, reason: null, progress: [], shadow: null };
      return { result, afterCommit: () => this.inventory?.publish(devices) };
    }
    if (observation.replyToTid != null) {
      const unmatched = await this.unmatchedReply(tx, set, observation, envelope.receivedAt);
      if (unmatched !== null) {
        set.addLedger(ledgerRow(envelope, InboundOutcome.UNHANDLED, unmatched, envelope.dedupeKey));
        return { result: { outcome: InboundOutcome.UNHANDLED, reason: unmatched, progress: [], shadow: null } };
      }
    }
    const messages = await this.applyUpgrade(tx, set, observation, envelope.receivedAt);
    set.addLedger(ledgerRow(envelope, InboundOutcome.RECORDED, null, envelope.dedupeKey));
    return this.publishing({ outcome: InboundOutcome.RECORDED, reason: null, progress: messages, shadow: null }, messages);
  }

  /** Pairs a result with publishing its progress messages once committed. */
  private publishing<T>(result: T, messages: readonly UpgradeProgressMessage[]): WriteOutcome<T> {
    const devices = this.inventory?.takeChanged() ?? [];
    return {
      result,
      afterCommit: () => {
        for (const message of messages) this.bus.publishProgress(message);
        this.inventory?.publish(devices);
      },
    };
  }

  /** Null when the reply belongs to a pending command; otherwise why it is not applied. */
  private async unmatchedReply(tx: EntityManager, set: WorkingSet, observation: UpgradeObservation, receivedAt: Date): Promise<string | null> {
    const task = await set.task(tx, observation.source, observation.task.externalId);
    if (!task) return `reply for unknown task ${observation.task.externalId}`;
    const accepted = this.replies ? await this.replies.acceptReply(tx, task, observation.replyToTid!, receivedAt) : false;
    return accepted ? null : `reply ${observation.replyToTid} matches no command waiting for a reply`;
  }

  /**
   * Applies an upgrade observation to its task: finds or creates the task and
   * the targeted sub-tasks, runs the state rules for each, adds one progress
   * event per sub-task and re-derives the task. Everything goes into `set`,
   * the batch's working set, which the writer flushes.
   *
   * With `own`, the observation is the gateway's own conclusion, not a
   * device's report: it never replaces an end the device reported (see
   * `decideTransition`). With `own.staleSince`, it is the stale sweeper's
   * TIMED_OUT: it applies only to a sub-task still stale as of then (otherwise
   * it writes nothing), marks it `closedByStaleSweep` and leaves
   * `lastObservedAt` and `lastOccurredAt` as they were (it is no news of the device).
   */
  private async applyUpgrade(
    tx: EntityManager,
    set: WorkingSet,
    observation: UpgradeObservation,
    receivedAt: Date,
    own?: { readonly staleSince?: Date },
  ): Promise<UpgradeProgressMessage[]> {
    const staleSince = own?.staleSince;
    const task = await this.findOrCreateTask(tx, set, observation, receivedAt);
    const targets = await this.targetsOf(tx, set, observation, task, receivedAt, staleSince === undefined);
    const occurredAt = observation.occurredAt ?? receivedAt;
    const changed: { subTask: UpgradeSubTask; event: ProgressEvent }[] = [];
    // The task's derived values follow from its tally, updated from each sub-task's share before and after.
    const before = tallyOfTask(task);
    let tally = before;

    for (const { subTask, created } of targets) {
      const share: SubTaskShare | null = created ? null : { status: subTask.status, progress: subTask.progress };
      const sweep = staleSince !== undefined;
      let decision: TransitionDecision;
      let report: ObservedReport | null = null;
      if (sweep) {
        if (!isStale(subTask, staleSince)) continue;
        decision = { applied: true, status: UpgradeStatus.TIMED_OUT };
      } else {
        report = {
          status: observation.status,
          occurredAt: observation.occurredAt,
          receivedAt,
          redelivered: observation.redelivered === true,
          origin: own ? 'gateway' : 'device',
        };
        decision = decideTransition(subTask, report);
        // A poll (quiet) that brings nothing new writes nothing, not even "observed".
        if (observation.quiet && !created && !(decision.applied && advancesStatus(subTask, decision.status))) continue;
        subTask.lastObservedAt = receivedAt;
      }
      if (decision.applied) {
        // A real observation reopening a swept sub-task: the sweeper's reason no longer holds.
        if (!sweep && subTask.closedByStaleSweep) subTask.statusDesc = null;
        const step = observation.step ?? subTask.step;
        Object.assign(subTask, reportedChanges(observation));
        subTask.status = decision.status;
        subTask.progress = nextDeviceProgress(subTask.progress, { status: decision.status, step, percent: observation.percent ?? null });
        if (report) subTask.lastOccurredAt = lastOccurredAtAfter(subTask, report);
        subTask.closedByStaleSweep = sweep;
        subTask.updatedAt = receivedAt;
      }
      tally = retally(tally, share, { status: subTask.status, progress: subTask.progress });
      set.subTaskChanged(subTask);
      // The fleet inventory: a device appears with its first observation; a success sets its version.
      if (!sweep) await this.inventory?.upgradeObserved(tx, task, subTask, observation, decision.applied, receivedAt);
      const event = Object.assign(new ProgressEvent(), {
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
      set.addEvent(event);
      changed.push({ subTask: subTask.snapshot(), event });
    }

    const status = deriveTaskStatus(tally.counts);
    const progress = deriveTaskProgress(tally);
    if (tally !== before || status !== task.status || progress !== task.progress) {
      storeTally(task, tally);
      task.status = status;
      task.progress = progress;
      task.updatedAt = receivedAt;
      set.taskChanged(task);
    }
    // Every message carries the task as it stands after all of this observation's changes.
    const snapshot = Object.assign(new UpgradeTask(), task);
    return changed.map(({ subTask, event }) => ({ task: snapshot, subTask, event }));
  }

  private async findOrCreateTask(tx: EntityManager, set: WorkingSet, observation: UpgradeObservation, at: Date): Promise<UpgradeTask> {
    let task = await set.task(tx, observation.source, observation.task.externalId);
    if (!task) {
      task = Object.assign(new UpgradeTask(), {
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
      storeTally(task, EMPTY_TALLY);
      set.addTask(task);
      return task;
    }
    // Huawei names the app only in some pushes; fill in what was missing.
    if (task.appId === null && observation.task.appId) {
      task.appId = observation.task.appId;
      set.taskChanged(task);
    }
    if (task.gatewaySn === null && observation.task.gatewaySn) {
      task.gatewaySn = observation.task.gatewaySn;
      set.taskChanged(task);
    }
    return task;
  }

  /**
   * The sub-tasks an observation applies to, creating the ones it names that
   * do not exist yet (unless `create` is false: the sweeper's own observation).
   * One naming its device reads that device's row only; one about every
   * device of its task reads them all (DJI: a dock and its aircraft).
   */
  private async targetsOf(
    tx: EntityManager,
    set: WorkingSet,
    observation: UpgradeObservation,
    task: UpgradeTask,
    at: Date,
    create: boolean,
  ): Promise<{ subTask: SubTaskRow; created: boolean }[]> {
    const target = observation.target;
    if (target.kind === 'device') {
      const row = await set.subTask(tx, task.id, target.deviceId);
      if (row) {
        // A sub-task stored before the vendor named it (createHuaweiUpgrade) learns its id from the first report.
        if (row.externalId === null && target.externalId) row.externalId = target.externalId;
        return [{ subTask: row, created: false }];
      }
      if (!create) return [];
      const fresh = SubTaskRow.fresh(task.id, target.deviceId, target.externalId ?? null, at);
      set.addSubTask(fresh);
      return [{ subTask: fresh, created: true }];
    }
    const all = await set.allSubTasksOf(tx, task.id);
    if (all.length > 0) return all.map((subTask) => ({ subTask, created: false }));
    if (!create) return [];
    const fresh = SubTaskRow.fresh(task.id, target.fallbackDeviceId, null, at);
    set.addSubTask(fresh);
    return [{ subTask: fresh, created: true }];
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
}

/**
 * Characters of a REJECTED or UNHANDLED message's payload kept in the ledger:
 * enough to see what it was, while a flood of junk cannot grow the database
 * by more than this per message.
 */
export const LEDGER_KEPT_CHARS_OF_REFUSED = 4096;

/** Device changes made by {@link Recorder.applyOwnObservationIn}, by the first message it returned, until published. */
const OWN_DEVICE_CHANGES = new WeakMap<UpgradeProgressMessage, readonly Device[]>();

/** The ledger row of an envelope. */
function ledgerRow(envelope: InboundEnvelope, outcome: InboundOutcome, reason: string | null, dedupeKey: string | null): InboundMessage {
  const refused = outcome === InboundOutcome.REJECTED || outcome === InboundOutcome.UNHANDLED;
  return Object.assign(new InboundMessage(), {
    source: envelope.source,
    channel: envelope.channel.slice(0, 64),
    dedupeKey,
    payload: refused ? keepStart(envelope.raw, LEDGER_KEPT_CHARS_OF_REFUSED) : envelope.raw,
    outcome,
    reason,
    receivedAt: envelope.receivedAt,
  });
}

/** The first `max` characters of `text`, without splitting a surrogate pair. */
function keepStart(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
