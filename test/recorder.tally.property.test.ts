/**
 * A task's stored tally (per-status counts, progress sum) and the status and
 * progress derived from it always equal a full recount over its sub-tasks,
 * whatever arrives in whatever order: pushes naming a device, DJI reports
 * about every device of a task, redelivered messages, the stale sweeper, and
 * bursts committed together in one batch. Through the real recorder, on a
 * SQLite file.
 *
 * Deterministic by default (fixed seed); set FC_SEED to explore other inputs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import {
  ALL_STATUSES,
  type InboundEnvelope,
  UpgradeStatus,
  countStatuses,
  deriveTaskProgress,
  deriveTaskStatus,
  retally,
  tallyOf,
} from '../src/domain';
import type { EventBus } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { UpgradeSubTask, UpgradeTask, tallyOfTask } from '../src/store/entities';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261125;

let dir: string;
let dataSource: DataSource;
let recorder: Recorder;
const bus: EventBus = { publishProgress: () => undefined, publishShadow: () => undefined };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-tally-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  recorder = new Recorder(new WriteQueue(dataSource, { maxBatch: 16 }), bus);
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const statusArb = fc.constantFrom<UpgradeStatus | null>(...ALL_STATUSES, null);
const percentArb = fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined });
const stepArb = fc.constantFrom<string | undefined>('download_firmware', 'upgrade_firmware', 'downloading', undefined);

type Step =
  | { kind: 'push'; task: number; device: number; status: UpgradeStatus | null; percent?: number; step?: string }
  | { kind: 'dji'; task: number; status: UpgradeStatus | null; percent?: number; step?: string }
  | { kind: 'redeliver'; of: number }
  | { kind: 'sweep' };

const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('push' as const), task: fc.nat(2), device: fc.nat(5), status: statusArb, percent: percentArb, step: stepArb }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('dji' as const), task: fc.nat(1), status: statusArb, percent: percentArb, step: stepArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), of: fc.nat(40) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  ),
  { minLength: 1, maxLength: 40 },
);

/** Whether the steps run one by one or in bursts (committed together). */
const burstsArb = fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 });

async function recountMatches(): Promise<void> {
  const tasks = await dataSource.getRepository(UpgradeTask).find();
  const subTasks = await dataSource.getRepository(UpgradeSubTask).find();
  for (const task of tasks) {
    const recount = tallyOf(subTasks.filter((s) => s.taskId === task.id));
    expect({ id: task.externalId, ...tallyOfTask(task) }).toEqual({ id: task.externalId, ...recount });
    expect(task.status).toBe(deriveTaskStatus(recount.counts));
    expect(task.progress).toBe(deriveTaskProgress(recount));
  }
}

let run = 0;

test('stored counts, status and progress always equal a full recount', async () => {
  await fc.assert(
    fc.asyncProperty(stepsArb, burstsArb, async (steps, bursts) => {
      run++;
      const sent: InboundEnvelope[] = [];
      const envelopeOf = (step: Step): InboundEnvelope | 'sweep' | null => {
        const rest = (s: { percent?: number; step?: string }) => ({
          ...(s.percent === undefined ? {} : { percent: s.percent }),
          ...(s.step === undefined ? {} : { step: s.step }),
        });
        switch (step.kind) {
          case 'push':
            return huaweiEnvelope({ operationId: `r${run}-op${step.task}`, deviceId: `d${step.device}`, status: step.status, ...rest(step) });
          case 'dji':
            return djiEnvelope({ bid: `r${run}-bid${step.task}`, gatewaySn: `DOCK-${step.task}`, status: step.status, occurredAt: new Date(), ...rest(step) });
          case 'redeliver':
            return sent.length === 0 ? null : { ...sent[step.of % sent.length], receivedAt: new Date() };
          case 'sweep':
            return 'sweep';
        }
      };
      let i = 0;
      let b = 0;
      while (i < steps.length) {
        const size = bursts[b++ % bursts.length];
        const burst = steps.slice(i, i + size);
        i += size;
        await Promise.all(
          burst.map((step) => {
            const envelope = envelopeOf(step);
            if (envelope === null) return undefined;
            if (envelope === 'sweep') {
              return recorder.closeStaleSubTasks({ noNewsSince: new Date(Date.now() + 60_000), limit: 3, describe: () => 'swept' });
            }
            sent.push(envelope);
            return recorder.record(envelope);
          }),
        );
      }
      await recountMatches();
    }),
    { seed: SEED, numRuns: 40 },
  );
});

describe('retally', () => {
  const shareArb = fc.record({ status: fc.constantFrom(...ALL_STATUSES), progress: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }) });

  it('applying every change one by one gives the recount of the final sub-tasks', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(9), shareArb), { maxLength: 60 }), (changes) => {
        const current = new Map<number, { status: UpgradeStatus; progress: number | null }>();
        let tally = tallyOf([]);
        for (const [id, after] of changes) {
          tally = retally(tally, current.get(id) ?? null, after);
          current.set(id, after);
        }
        expect(tally).toEqual(tallyOf(current.values()));
        expect(tally.counts).toEqual(countStatuses([...current.values()].map((s) => s.status)));
      }),
      { seed: SEED },
    );
  });
});
