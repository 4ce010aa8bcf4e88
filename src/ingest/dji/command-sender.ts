import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { In, type EntityManager } from 'typeorm';
import { UpgradeKind, UpgradeSource, UpgradeStatus, type UpgradeObservation } from '../../domain';
import type { FirmwareUpgradeRequest, FirmwareUpgradeStarter } from '../../graphql/context';
import { badUserInput } from '../../graphql/errors';
import type { Clock } from '../../recorder/clock';
import type { UpgradeProgressMessage } from '../../recorder/event-bus';
import type { Recorder, ReplyCorrelator } from '../../recorder/recorder';
import type { WriteQueue } from '../../recorder/write-queue';
import { OutboundCommand, OutboundCommandStatus, ProgressEvent, UpgradeSubTask, newSubTask, UpgradeTask } from '../../store/entities';
import { writeRows } from '../../store/bulk-write';
import { OTA_CREATE_METHOD, buildOtaCreate, servicesTopic, validateFirmwareUpgradeInput, type OtaCreateDevice } from './protocol';

/** What the DJI command sender needs. */
export interface DjiCommandSenderDependencies {
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  /** Publishes a cloud-to-dock message (QoS 1); resolves on the broker's PUBACK. */
  readonly publish: (topic: string, payload: string) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** No reply within this: resend with a new tid. */
  readonly replyTimeoutMs: number;
  /** Sends in all, the first included, before TIMED_OUT. */
  readonly sendAttempts: number;
  /**
   * True while the MQTT client is connected to the broker. Sends are made (and
   * counted) only then; see {@link DjiCommandSender}. @default always true
   */
  readonly connected?: () => boolean;
  /** How often the resend scan runs. @default replyTimeoutMs / 4, kept within 25..250 ms */
  readonly scanIntervalMs?: number;
}

/** Rows per INSERT statement of startManyIn (within SQLite's bound on parameters). */
const INSERT_CHUNK = 100;

/** Commands claimed per scan transaction; a full batch is followed at once by the next. */
const SCAN_BATCH = 100;

/** What `payload` holds for an `ota_create` command. */
interface OtaCreatePayload {
  readonly devices: OtaCreateDevice[];
}

/** An upgrade written by {@link DjiCommandSender.startIn}; `afterCommit` publishes its ota_create. */
export interface StartedUpgrade {
  readonly task: UpgradeTask;
  readonly subTasks: readonly UpgradeSubTask[];
  readonly afterCommit: () => void;
}

/** One send claimed inside a writer unit, published after its commit. */
interface ClaimedSend {
  readonly gatewaySn: string;
  readonly bid: string;
  readonly tid: string;
  readonly attempt: number;
  readonly message: string;
}

/**
 * Sends `ota_create` for `createFirmwareUpgrade`, correlates `services_reply`
 * with what was sent, and resends when no reply comes.
 *
 * Every command is a row of `outbound_command`, written in the same writer
 * unit as its task and sub-tasks. The row, not memory, drives the resends: a
 * timer scans for `status = PENDING AND next_attempt_at <= now`, so a command
 * pending when the process stopped is resent after a restart, and on a shared
 * database (PostgreSQL) several instances can run the scan. Each send (and the
 * final time-out) is *claimed* by an UPDATE conditional on the `attempts` and
 * `status` the scan read, so exactly one instance makes it; the message is
 * published only after that claim committed.
 *
 * When a send counts: it is counted when it is handed to the MQTT client while
 * the client is connected, and its reply window (`replyTimeoutMs`) starts
 * then. While disconnected, no send is made: a new command is stored with no
 * send yet (due at once) and due resends wait, so an outage neither burns the
 * attempts nor piles up copies in MQTT.js's offline queue that would all reach
 * the dock on reconnection. (A send handed over just before a disconnection
 * is queued by MQTT.js and delivered after it: at worst one extra copy, with
 * the same bid.) Waiting for the PUBACK before counting would leave a claimed
 * send without a lease while in flight; the window from hand-over is what the
 * dock actually gets, give or take the broker's latency.
 *
 * A command stops waiting when a reply to any of its tids arrives
 * (`ANSWERED`), or when progress arrived for its task without a reply (the
 * dock evidently got it: a resend would only be refused with 312014 "upgrade
 * already in progress"; also `ANSWERED`), or after `sendAttempts` unanswered
 * sends (`TIMED_OUT`, and every sub-task gets a TIMED_OUT observation).
 */
export class DjiCommandSender implements FirmwareUpgradeStarter, ReplyCorrelator {
  private readonly connected: () => boolean;
  private readonly scanIntervalMs: number;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;

  constructor(private readonly deps: DjiCommandSenderDependencies) {
    this.connected = deps.connected ?? (() => true);
    this.scanIntervalMs = deps.scanIntervalMs ?? Math.min(250, Math.max(25, Math.floor(deps.replyTimeoutMs / 4)));
  }

  /** Starts the resend timer; the first scan runs at once (commands left pending by a previous run). */
  run(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the resend timer and waits for a scan in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.scanning;
  }

  /**
   * Validates the request, stores the task (PENDING), its sub-tasks and the
   * command in one transaction, and publishes `ota_create` after the commit.
   * Returns the task without waiting for the dock.
   *
   * The creation is each sub-task's first ProgressEvent (PENDING), published
   * after the commit, so that other screens see the new task appear and a
   * subscriber replaying the task from its start sees it begin. It is written
   * beside the recorder, not as an observation: a PENDING observation stamped
   * with the gateway's clock would become the sub-tasks' `lastOccurredAt`, so
   * a reply stamped by a dock whose clock lags would be judged stale and ignored.
   * @throws GraphQLError BAD_USER_INPUT naming each bad field; nothing is stored or sent then.
   */
  async start(request: FirmwareUpgradeRequest): Promise<UpgradeTask> {
    const checked = validateFirmwareUpgradeInput(request);
    if (!checked.ok) throw badUserInput('Invalid firmware upgrade', checked.errors);
    return this.deps.queue.submit(async (tx) => {
      const started = await this.startIn(tx, request);
      return { result: started.task, afterCommit: started.afterCommit };
    });
  }

  /**
   * What {@link start} does, inside a writer unit the caller runs: validates,
   * writes the task (PENDING), its sub-tasks and the command in `tx`, and
   * returns them with the hook that publishes `ota_create`, which the caller
   * must run only after that unit committed. Lets a caller (the rollout engine)
   * commit its own rows together with the command, so "sent" and "claimed"
   * commit as one.
   * @throws GraphQLError BAD_USER_INPUT naming each bad field.
   */
  async startIn(tx: EntityManager, request: FirmwareUpgradeRequest): Promise<StartedUpgrade> {
    const [started] = await this.startManyIn(tx, [request]);
    if ('error' in started) throw started.error;
    return started;
  }

  /**
   * {@link startIn} for many upgrades at once, written with one multi-row
   * statement per table (the rollout engine sends up to its free slots in one
   * unit). A request that fails validation gets its error in its place and
   * writes nothing; the others are written.
   */
  async startManyIn(tx: EntityManager, requests: readonly FirmwareUpgradeRequest[]): Promise<(StartedUpgrade | { error: GraphQLError })[]> {
    const now = this.deps.clock.now();
    const tasks: UpgradeTask[] = [];
    const subTaskRows: UpgradeSubTask[] = [];
    const commands: OutboundCommand[] = [];
    const createdMessages: UpgradeProgressMessage[] = [];
    const out = requests.map((request): StartedUpgrade | { error: GraphQLError } => {
      const checked = validateFirmwareUpgradeInput(request);
      if (!checked.ok) return { error: badUserInput('Invalid firmware upgrade', checked.errors) };
      const { gatewaySn, devices } = checked.value;
      const bid = randomUUID();
      const payload: OtaCreatePayload = { devices };
      // Disconnected: store it unsent and due now; the scan sends it once connected.
      const send = this.connected() ? this.sendOf(randomUUID(), gatewaySn, bid, 1, payload, now) : null;
      const task = tx.create(UpgradeTask, {
        id: randomUUID(),
        source: UpgradeSource.DJI,
        kind: UpgradeKind.FIRMWARE,
        externalId: bid,
        appId: null,
        gatewaySn,
        status: UpgradeStatus.PENDING,
        progress: null,
        createdBy: request.createdBy ?? null,
        createdAt: now,
        updatedAt: now,
        // Its tally: every sub-task below starts PENDING.
        pendingCount: devices.length,
      });
      tasks.push(task);
      const subTasks = devices.map(({ sn, productVersion, fileName, fileUrl, fileSize, md5, firmwareUpgradeType }) =>
        newSubTask(task.id, sn, now, { targetVersion: productVersion, fileName, fileUrl, fileSize, md5, firmwareUpgradeType }),
      );
      subTaskRows.push(...subTasks);
      const created: UpgradeProgressMessage[] = subTasks.map((subTask) => ({ task, subTask, event: createdEvent(subTask, now) }));
      createdMessages.push(...created);
      commands.push({
        id: randomUUID(),
        taskId: task.id,
        gatewaySn,
        method: OTA_CREATE_METHOD,
        bid,
        tid: send?.tid ?? null,
        tids: send ? [send.tid] : [],
        payload: payload as unknown as Record<string, unknown>,
        attempts: send ? 1 : 0,
        maxAttempts: this.deps.sendAttempts,
        status: OutboundCommandStatus.PENDING,
        nextAttemptAt: send ? this.replyDeadline(now) : now,
        createdAt: now,
        updatedAt: now,
      });
      return {
        task,
        subTasks,
        afterCommit: () => {
          this.deps.recorder.publishProgress(created);
          if (send) this.publish(send);
        },
      };
    });
    // `tids` and `payload` go through the JSON transformer; TypeORM's deep-partial type cannot see that.
    for (const [entity, rows] of [[UpgradeTask, tasks], [UpgradeSubTask, subTaskRows], [OutboundCommand, commands]] as const) {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx.createQueryBuilder().insert().into(entity).values(rows.slice(i, i + INSERT_CHUNK) as never).updateEntity(false).execute();
      }
    }
    // Each sub-task's first history entry; their ids are the subscribers' resume positions.
    const events = createdMessages.map((message) => message.event);
    const eventIds = await writeRows(tx, ProgressEvent, events);
    events.forEach((event, i) => (event.id = eventIds[i]));
    return out;
  }

  /**
   * True when `tid` is one of the tids sent for a pending command of `task`
   * (a late reply to an earlier send still answers it); marks that command
   * ANSWERED inside `tx`. A reply to a command already answered or timed out
   * is false: the recorder keeps it in the ledger as unhandled.
   */
  async acceptReply(tx: EntityManager, task: UpgradeTask, tid: string, receivedAt: Date): Promise<boolean> {
    const pending = await tx.find(OutboundCommand, { where: { taskId: task.id, status: OutboundCommandStatus.PENDING } });
    const command = pending.find((c) => c.tids.includes(tid));
    if (!command) return false;
    const answered = await tx.update(
      OutboundCommand,
      { id: command.id, status: OutboundCommandStatus.PENDING },
      { status: OutboundCommandStatus.ANSWERED, updatedAt: receivedAt },
    );
    // Zero rows: another instance's resend scan timed it out in between.
    return answered.affected === 1;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.scanning = this.scanUntilDone()
        .catch((error) => this.deps.logger.error({ err: error }, 'dji command resend scan failed'))
        .finally(() => {
          this.scanning = null;
          this.schedule(this.scanIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async scanUntilDone(): Promise<void> {
    while (this.running && (await this.scanOnce()) === SCAN_BATCH) {
      // A full batch: more may be due.
    }
  }

  /**
   * One scan: claims the due commands in one writer unit, which also records
   * the time-outs (so a command is never TIMED_OUT without its sub-tasks), and
   * publishes the claimed resends and the time-outs after its commit.
   * @returns how many due commands it read.
   */
  private async scanOnce(): Promise<number> {
    if (!this.connected()) return 0;
    const now = this.deps.clock.now();
    const { seen } = await this.deps.queue.submit(async (tx) => {
      const nextAttemptAt = tx.connection.getMetadata(OutboundCommand).findColumnWithPropertyName('nextAttemptAt')!;
      const query = tx
        .getRepository(OutboundCommand)
        .createQueryBuilder('c')
        .where('c.status = :pending', { pending: OutboundCommandStatus.PENDING })
        .andWhere('c.next_attempt_at <= :now', { now: tx.connection.driver.preparePersistentValue(now, nextAttemptAt) })
        .orderBy('c.next_attempt_at', 'ASC')
        .limit(SCAN_BATCH);
      // PostgreSQL: rows another instance is claiming are skipped rather than waited for
      // (SQLite has one writer anyway). The conditional UPDATEs below stay the guarantee.
      if (tx.connection.options.type === 'postgres') query.setLock('pessimistic_write').setOnLocked('skip_locked');
      const due = await query.getMany();
      if (due.length === 0) return { result: { seen: 0 } };

      const tasks = await tx.find(UpgradeTask, { where: { id: In(due.map((c) => c.taskId)) }, select: { id: true, status: true } });
      const taskStatus = new Map(tasks.map((t) => [t.id, t.status]));
      const sends: ClaimedSend[] = [];
      const timedOut: OutboundCommand[] = [];
      for (const command of due) {
        // The claim: only the instance whose UPDATE still finds what it read goes on.
        const claim = { id: command.id, status: OutboundCommandStatus.PENDING, attempts: command.attempts };
        const status = taskStatus.get(command.taskId);
        if (status !== undefined && status !== UpgradeStatus.PENDING) {
          // Progress arrived without a reply: the dock has the command.
          await tx.update(OutboundCommand, claim, { status: OutboundCommandStatus.ANSWERED, updatedAt: now });
          continue;
        }
        if (command.attempts >= command.maxAttempts) {
          const claimed = await tx.update(OutboundCommand, claim, { status: OutboundCommandStatus.TIMED_OUT, updatedAt: now });
          if (claimed.affected === 1) timedOut.push(command);
          continue;
        }
        let send: ClaimedSend;
        try {
          send = this.sendOf(randomUUID(), command.gatewaySn, command.bid, command.attempts + 1, command.payload as unknown as OtaCreatePayload, now);
        } catch (error) {
          // Unreachable unless the stored payload was altered: never send it, time it out.
          this.deps.logger.error({ err: error, commandId: command.id }, 'stored ota_create no longer valid');
          const claimed = await tx.update(OutboundCommand, claim, { status: OutboundCommandStatus.TIMED_OUT, updatedAt: now });
          if (claimed.affected === 1) timedOut.push(command);
          continue;
        }
        const claimed = await tx.update(OutboundCommand, claim, {
          tid: send.tid,
          tids: [...command.tids, send.tid],
          attempts: send.attempt,
          nextAttemptAt: this.replyDeadline(now),
          updatedAt: now,
        } as never);
        if (claimed.affected === 1) sends.push(send);
      }
      const timeouts: UpgradeProgressMessage[] = [];
      for (const command of timedOut) {
        this.deps.logger.warn({ gatewaySn: command.gatewaySn, bid: command.bid, tids: command.tids }, `no services_reply to ${command.method}; timed out`);
        timeouts.push(...(await this.deps.recorder.applyOwnObservationIn(tx, timeoutObservation(command, now), now)));
      }
      return {
        result: { seen: due.length },
        afterCommit: () => {
          for (const send of sends) this.publish(send);
          this.deps.recorder.publishProgress(timeouts);
        },
      };
    });
    return seen;
  }

  /** Builds one send (throws TypeError when the devices would not pass validation). */
  private sendOf(tid: string, gatewaySn: string, bid: string, attempt: number, payload: OtaCreatePayload, now: Date): ClaimedSend {
    const message = buildOtaCreate({ bid, tid, timestamp: now.getTime(), devices: payload.devices });
    return { gatewaySn, bid, tid, attempt, message };
  }

  private replyDeadline(sentAt: Date): Date {
    return new Date(sentAt.getTime() + this.deps.replyTimeoutMs);
  }

  /** Hands a committed send to the MQTT client; a failure is only logged (the reply window then lapses and it is resent). */
  private publish(send: ClaimedSend): void {
    this.deps.logger.debug({ gatewaySn: send.gatewaySn, bid: send.bid, tid: send.tid, attempt: send.attempt }, 'publishing ota_create');
    this.deps
      .publish(servicesTopic(send.gatewaySn), send.message)
      .catch((error) => this.deps.logger.warn({ err: error, bid: send.bid, tid: send.tid }, 'ota_create not published'));
  }
}


/** What the gateway observes when a command got no reply after its last send: TIMED_OUT for every device of the task. */
/** The PENDING event that records a sub-task's creation by the gateway. */
function createdEvent(subTask: UpgradeSubTask, at: Date): ProgressEvent {
  return Object.assign(new ProgressEvent(), {
    subTaskId: subTask.id,
    taskId: subTask.taskId,
    status: UpgradeStatus.PENDING,
    reportedStatus: UpgradeStatus.PENDING,
    vendorStatus: null,
    percent: null,
    step: null,
    errorCode: null,
    statusDesc: 'created by createFirmwareUpgrade',
    applied: true,
    ignoredReason: null,
    occurredAt: at,
    receivedAt: at,
  });
}

function timeoutObservation(command: OutboundCommand, at: Date): UpgradeObservation {
  const sends = `${command.attempts} send${command.attempts === 1 ? '' : 's'}`;
  return {
    type: 'upgrade',
    source: UpgradeSource.DJI,
    kind: UpgradeKind.FIRMWARE,
    task: { externalId: command.bid, gatewaySn: command.gatewaySn },
    target: { kind: 'allDevices', fallbackDeviceId: command.gatewaySn },
    status: UpgradeStatus.TIMED_OUT,
    occurredAt: at,
    statusDesc: `no services_reply to ${command.method} after ${sends}`,
  };
}
